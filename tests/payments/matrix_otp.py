"""Permission-matrix rows of the otp part of issue 17 (merged by tests/test_permission_matrix.py).

EXPECTED: URL name -> row(...) of GET statuses; POST_EXPECTED: overrides of the POST statuses
(the default is 405 where GET is 200); WRITING_VIEWS: URL name -> a role allowed to POST;
kwargs(objects): URL name -> the URL's kwargs, from the payments_sample objects.

The matrix's clients are signed in as ``force_login`` signs them: those who need the second
factor (senior specialist, heads) with it. So the code step sends everyone on (302: a user
without the need, or already past it), and the setup page answers everyone signed in (200: "your
roles do not need it", or "your app is already set up"); the anonymous go to the login page.
The steps themselves, for a user not yet past them: tests/records/test_second_factor.py."""

from __future__ import annotations

from typing import Any

ACTORS = [
    "anonymous", "norole", "specialist", "senior_specialist",
    "head_of_unit", "head_of_service", "auditor", "api_client",
]  # fmt: skip


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(ACTORS, statuses, strict=True))


EXPECTED: dict[str, dict[str, int]] = {
    "otp_setup": row(302, 200, 200, 200, 200, 200, 200, 200),
    "otp_verify": row(302, 302, 302, 302, 302, 302, 302, 302),
}
POST_EXPECTED: dict[str, dict[str, int]] = {
    "otp_setup": row(302, 200, 200, 200, 200, 200, 200, 200),  # the same page: nothing to set up
    "otp_verify": row(302, 302, 302, 302, 302, 302, 302, 302),
}
WRITING_VIEWS: dict[str, str] = {"otp_setup": "head_of_unit", "otp_verify": "head_of_unit"}


def kwargs(objects: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {}
