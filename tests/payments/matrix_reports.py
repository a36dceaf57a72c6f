"""Permission-matrix rows of the monthly report to the authorized body (issue 19; merged by
tests/test_permission_matrix.py). Staff and auditors read it; specialists and heads generate a
version; only the head of the pension service signs one off (never the one who generated it); a
bank's account reads none of it."""

from __future__ import annotations

from typing import Any

ACTORS = [
    "anonymous", "norole", "specialist", "senior_specialist",
    "head_of_unit", "head_of_service", "auditor", "api_client",
]  # fmt: skip


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(ACTORS, statuses, strict=True))


READERS = row(302, 403, 200, 200, 200, 200, 200, 403)

EXPECTED: dict[str, dict[str, int]] = {
    "monthly_reports": READERS,  # view_monthlyreport; the generate form for add_monthlyreport
    "monthly_report_detail": READERS,
    "monthly_report_sign": row(302, 403, 405, 405, 405, 405, 405, 403),  # POST only
    "monthly_report_download": READERS,  # logged with the payers it names
    "heads_dashboard": row(302, 403, 403, 403, 200, 200, 200, 403),  # view_dashboard: the heads, auditors
}
POST_EXPECTED: dict[str, dict[str, int]] = {
    "monthly_reports": row(302, 403, 200, 200, 200, 200, 403, 403),  # the form again, with its errors
    "monthly_report_sign": row(302, 403, 302, 302, 302, 302, 302, 403),  # no version: back, nothing signed
}
WRITING_VIEWS: dict[str, str] = {
    "monthly_reports": "specialist",
    "monthly_report_sign": "head_of_service",
}


def kwargs(objects: dict[str, Any]) -> dict[str, dict[str, Any]]:
    pk = objects["report"].pk
    return {
        "monthly_report_detail": {"pk": pk},
        "monthly_report_sign": {"pk": pk},
        "monthly_report_download": {"pk": pk, "lang": "kk", "fmt": "xlsx"},
    }
