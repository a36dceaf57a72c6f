"""Permission-matrix rows of the monthly payments pages (issue 18; merged by
tests/test_permission_matrix.py). The pages are the staff's: an API client (a bank) reads a
run's totals through the API only, never the pages that name recipients."""

from __future__ import annotations

from typing import Any

ACTORS = [
    "anonymous", "norole", "specialist", "senior_specialist",
    "head_of_unit", "head_of_service", "auditor", "api_client",
]  # fmt: skip


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(ACTORS, statuses, strict=True))


STAFF_READERS = row(302, 403, 200, 200, 200, 200, 200, 403)

EXPECTED: dict[str, dict[str, int]] = {
    "payment_runs": STAFF_READERS,  # view_paymentlist; the start form for add_paymentrun
    "payment_run_detail": STAFF_READERS,
    "payment_run_step": row(302, 403, 405, 405, 405, 405, 405, 403),  # POST only
    "payment_list_download": STAFF_READERS,  # a released list, logged with everyone in it
    "payment_confirmations": STAFF_READERS,  # view_confirmationfile; upload: add_confirmationfile
    "payment_returns": STAFF_READERS,
    "work_list": STAFF_READERS,  # view_payment
    "work_list_export": STAFF_READERS,
    "bank_account_add": row(302, 403, 405, 405, 405, 405, 403, 403),  # add_bankaccount, POST only
    # The API: a run's totals per bank (no person) for staff, auditors and the banks' systems.
    "api_payment_run": row(401, 403, 200, 200, 200, 200, 200, 200),
    "api_payment_confirmations": row(401, 403, 405, 405, 405, 405, 403, 405),  # add_confirmationfile, POST
}
POST_EXPECTED: dict[str, dict[str, int]] = {
    "payment_runs": row(302, 403, 200, 200, 200, 200, 403, 403),  # the form again, with its errors
    "payment_run_step": row(302, 403, 302, 302, 302, 302, 302, 403),  # no version: back, nothing taken
    "payment_confirmations": row(302, 403, 200, 200, 200, 200, 403, 403),  # the form again
    "bank_account_add": row(302, 403, 302, 302, 302, 302, 403, 403),  # back to the recipient, the errors said
    "api_payment_confirmations": row(401, 403, 400, 400, 400, 400, 403, 400),  # no file: nothing stored
}
WRITING_VIEWS: dict[str, str] = {
    "payment_runs": "specialist",
    "payment_run_step": "head_of_service",
    "payment_confirmations": "specialist",
    "bank_account_add": "specialist",
    "api_payment_confirmations": "api_client",
}


def kwargs(objects: dict[str, Any]) -> dict[str, dict[str, Any]]:
    month = f"{objects['run'].month:%Y-%m}"
    return {
        "payment_run_detail": {"month": month},
        "payment_run_step": {"month": month, "step": "approve"},
        "payment_list_download": {"pk": objects["list"].pk, "fmt": "csv"},
        "work_list": {"kind": "unpaid"},
        "work_list_export": {"kind": "reported_dead", "fmt": "xlsx"},
        "bank_account_add": {"pk": objects["recipient"].pk},
        "api_payment_run": {"month": month},
    }
