"""``manage.py bench_benefits``: at a small size both passes run on the same data, agree to the
tenge (the command fails otherwise), and one JSON line carries every figure. No time is asserted."""

from __future__ import annotations

import io
import json

from django.core.management import call_command


def test_bench_benefits_runs_both_passes_and_prints_its_figures(django_db_blocker) -> None:
    out = io.StringIO()
    with django_db_blocker.unblock():  # the command makes and drops its own database
        call_command("bench_benefits", recipients=200, stdout=out, stderr=io.StringIO())
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["recipients"] == 200
    assert result["entries"] == 4800
    assert result["with_amount"] == 200
    for run in ("set_based", "loop"):
        assert set(result[run]) == {"seconds", "per_recipient_ms"}
    assert result["ratio_loop_to_set_based"] > 0
