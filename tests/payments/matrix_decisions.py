"""Permission-matrix rows of the decisions part of issue 17 (merged by tests/test_permission_matrix.py).

EXPECTED: URL name -> row(...) of GET statuses; POST_EXPECTED: overrides of the POST statuses
(the default is 405 where GET is 200); WRITING_VIEWS: URL name -> a role allowed to POST;
kwargs(objects): URL name -> the URL's kwargs, from the payments_sample objects.

Actors: anonymous, norole, specialist, senior_specialist, head_of_unit, head_of_service,
auditor, api_client. The auditor reads decisions, recipients and proposals but drafts nothing."""

from __future__ import annotations

from typing import Any


def row(*statuses: int) -> dict[str, int]:
    actors = [
        "anonymous", "norole", "specialist", "senior_specialist",
        "head_of_unit", "head_of_service", "auditor", "api_client",
    ]  # fmt: skip
    return dict(zip(actors, statuses, strict=True))


READERS = row(302, 403, 200, 200, 200, 200, 200, 403)  # view_recipient / view_decision / view_decisionproposal

EXPECTED: dict[str, dict[str, int]] = {
    "amount_preview": READERS,
    "decision_new": row(302, 403, 200, 200, 200, 200, 403, 403),  # add_decision
    "decision_detail": READERS,
    "decision_queue": READERS,
    "proposal_list": READERS,
    # POST only: GET is 405 past the permission check (view_decision at the door).
    "decision_step": row(302, 403, 405, 405, 405, 405, 405, 403),
    # The drafter only: anyone else who may draft is told why, without a form.
    "decision_redraft": row(302, 403, 200, 200, 200, 200, 403, 403),
    "proposal_dismiss": row(302, 403, 405, 405, 405, 405, 403, 403),  # add_decision, POST only
}
POST_EXPECTED: dict[str, dict[str, int]] = {
    "decision_new": row(302, 403, 200, 200, 200, 200, 403, 403),  # the form again, with its errors
    # No version in the form: back to the decision with a message, nothing taken.
    "decision_step": row(302, 403, 302, 302, 302, 302, 302, 403),
    "decision_redraft": row(302, 403, 302, 302, 302, 302, 403, 403),  # back to the decision, with the reason
    "proposal_dismiss": row(302, 403, 302, 302, 302, 302, 403, 403),  # no reason: back to the list
}
WRITING_VIEWS: dict[str, str] = {
    "decision_new": "specialist",
    "decision_step": "senior_specialist",
    "decision_redraft": "specialist",
    "proposal_dismiss": "specialist",
}


def kwargs(objects: dict[str, Any]) -> dict[str, dict[str, Any]]:
    recipient, submitted = objects["recipient"], objects["submitted"]
    return {
        "amount_preview": {"pk": recipient.pk},
        "decision_new": {"pk": recipient.pk},
        "decision_detail": {"pk": objects["approved"].pk},
        "decision_step": {"pk": submitted.pk, "step": "verify"},
        "decision_redraft": {"pk": submitted.pk},
        "proposal_dismiss": {"pk": objects["proposal"].pk},
    }
