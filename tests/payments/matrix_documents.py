"""Permission-matrix rows of the documents part of issue 17 (merged by tests/test_permission_matrix.py).

EXPECTED: URL name -> row(...) of GET statuses; POST_EXPECTED: overrides of the POST statuses
(the default is 405 where GET is 200); WRITING_VIEWS: URL name -> a role allowed to POST;
kwargs(objects): URL name -> the URL's kwargs, from the payments_sample objects."""

from __future__ import annotations

from typing import Any

ACTORS = [
    "anonymous", "norole", "specialist", "senior_specialist",
    "head_of_unit", "head_of_service", "auditor", "api_client",
]  # fmt: skip


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(ACTORS, statuses, strict=True))


EXPECTED: dict[str, dict[str, int]] = {
    # The decision's PDF: whoever follows decisions (payments.view_decision), the auditor
    # included; not an API client.
    "decision_pdf": row(302, 403, 200, 200, 200, 200, 200, 403),
}
POST_EXPECTED: dict[str, dict[str, int]] = {}
WRITING_VIEWS: dict[str, str] = {}


def kwargs(objects: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {"decision_pdf": {"pk": objects["approved"].pk, "lang": "kk"}}
