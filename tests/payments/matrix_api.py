"""Permission-matrix rows of the api part of issue 17 (merged by tests/test_permission_matrix.py).

EXPECTED: URL name -> row(...) of GET statuses; POST_EXPECTED: overrides of the POST statuses
(the default is 405 where GET is 200); WRITING_VIEWS: URL name -> a role allowed to POST;
kwargs(objects): URL name -> the URL's kwargs, from the payments_sample objects.

Anonymous is 401 (the API's token authentication asks for credentials).
The matrix POSTs an empty form: the payments API reads JSON only, so those allowed to write
are answered 415 and nothing changes."""

from __future__ import annotations

from typing import Any

ACTORS = [
    "anonymous", "norole", "specialist", "senior_specialist",
    "head_of_unit", "head_of_service", "auditor", "api_client",
]  # fmt: skip


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(ACTORS, statuses, strict=True))


EXPECTED: dict[str, dict[str, int]] = {
    # POST-only views: GET is 405 once the permission is there.
    "api_recipients": row(401, 403, 405, 405, 405, 405, 403, 403),  # payments.add_recipient
    "api_recipient_detail": row(401, 403, 200, 200, 200, 200, 200, 403),  # payments.view_recipient
    "api_decisions": row(401, 403, 405, 405, 405, 405, 403, 403),  # payments.add_decision
    "api_decision_detail": row(401, 403, 200, 200, 200, 200, 200, 403),  # payments.view_decision
    # approve: payments.view_decision and the step's own permission, payments.approve_decision.
    "api_decision_step": row(401, 403, 403, 403, 405, 405, 403, 403),
}
POST_EXPECTED: dict[str, dict[str, int]] = {
    "api_recipients": row(401, 403, 415, 415, 415, 415, 403, 403),
    "api_decisions": row(401, 403, 415, 415, 415, 415, 403, 403),
    "api_decision_step": row(401, 403, 403, 403, 415, 415, 403, 403),
}
WRITING_VIEWS: dict[str, str] = {
    "api_recipients": "specialist",
    "api_decisions": "specialist",
    "api_decision_step": "head_of_unit",
}


def kwargs(objects: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "api_recipient_detail": {"pk": objects["recipient"].pk},
        "api_decision_detail": {"pk": objects["approved"].pk},
        "api_decision_step": {"pk": objects["submitted"].pk, "step": "approve"},
    }
