"""``manage.py bench_payment_run``: at a small size the set-based build and the per-recipient
loop build the same payments for the sampled recipients (the command fails otherwise), the data
has what makes a month interesting (months in proportion, recipients held back), and one JSON
line carries every figure. No time is asserted."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from payments.benchmarks import NO_ACCOUNT
from payments.benchmarks import REPORTED_DEAD as DEAD


def test_bench_payment_run_builds_both_ways_and_prints_its_figures(django_db_blocker) -> None:
    out, err = io.StringIO(), io.StringIO()
    with django_db_blocker.unblock():  # the command makes and drops its own database
        call_command("bench_payment_run", recipients=600, loop_sample=600, stdout=out, stderr=err)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["recipients"] == 600
    assert result["month"] == "2026-01"
    assert result["agree"] is True
    assert result["rows_loaded"]["payments_recipient"] == 600
    assert result["rows_loaded"]["payments_decision"] == 600
    built = result["set_based"]
    assert set(built) == {"seconds", "rows", "paid", "held_back", "lists", "rows_per_second", "slowest_statements"}
    assert built["slowest_statements"]  # the build's statements, slowest first
    assert built["rows"] == 600  # every recipient is paid or held back, none dropped
    held = [r for r in range(1, 601) if r % NO_ACCOUNT[0] == NO_ACCOUNT[1] or r % DEAD[0] == DEAD[1]]
    assert built["held_back"] == len(held) > 0
    assert built["lists"] == 8  # one per bank the migrations seed
    loop = result["loop"]
    assert set(loop) == {"sample", "seconds", "rows", "rows_per_second"}
    assert loop["sample"] == loop["rows"] == 600
    assert result["ratio"] > 0
    assert result["peak_memory_mb"] > 0
    assert {"setup_seconds", "migrate_seconds", "targets"} <= set(result)


def test_bench_payment_run_refuses_a_sample_larger_than_the_recipients() -> None:
    with pytest.raises(CommandError, match="--loop-sample"):
        call_command("bench_payment_run", recipients=100, loop_sample=101)
