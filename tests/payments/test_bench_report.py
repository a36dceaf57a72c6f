"""``manage.py bench_report``: at a tiny size the benchmark builds both databases, computes the
month's report next to the floor of what it reads, generates and stores it, fetches its page,
files and the dashboard (each answered 200), prints one JSON line with every figure, and drops
its databases. No time is asserted."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def test_bench_report_measures_both_halves_and_prints_its_figures(django_db_blocker) -> None:
    out = io.StringIO()
    with django_db_blocker.unblock():  # the command makes and drops its own databases
        call_command(
            "bench_report",
            entries=2_000,
            orders=40,
            payers=60,
            participants=1_000,
            recipients=200,
            repeat=1,
            stdout=out,
            stderr=io.StringIO(),
        )
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["month"] == "2026-01"
    contributions = result["contributions"]
    assert contributions["rows"]["orders"] == 40  # every order moved into the month
    assert contributions["rows"]["entries"] == contributions["floor"]["entries"] == 2_000
    assert 0 < contributions["rows"]["payers"] <= 40
    figures = contributions["report_figures"]
    assert figures["reconciled"] is True
    assert figures["json_bytes"] > 0
    for fetched in ("page", "page_last_payers", "xlsx", "csv", "dashboard", "dashboard_kept"):
        assert contributions[fetched]["status"] == 200, fetched
        assert contributions[fetched]["bytes"] > 0
    payments = result["payments"]
    assert payments["report_figures"]["payments"] == payments["floor"]["payments"] > 0
    assert payments["report_figures"]["reconciled"] is True
    assert payments["report_figures"]["lists"] > 0
    assert result["peak_memory_mb"] > 0


def test_bench_report_refuses_more_orders_than_half_the_entries() -> None:
    with pytest.raises(CommandError, match="--orders"):
        call_command("bench_report", entries=1_000, orders=600)
