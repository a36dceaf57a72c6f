"""Permission-matrix rows of the recipients part of issue 17 (merged by tests/test_permission_matrix.py).

EXPECTED: URL name -> row(...) of GET statuses; POST_EXPECTED: overrides of the POST statuses
(the default is 405 where GET is 200); WRITING_VIEWS: URL name -> a role allowed to POST;
kwargs(objects): URL name -> the URL's kwargs, from the payments_sample objects.

Actors: anonymous, norole, specialist, senior_specialist, head_of_unit, head_of_service,
auditor, api_client. Every staff role reads recipients and their case files (the auditor too);
registering, changing, filing and checking documents are the specialists' and those above them
(standards.roles: the auditor changes nothing, an API client sees none of it)."""

from __future__ import annotations

from typing import Any


def row(*statuses: int) -> dict[str, int]:
    actors = [
        "anonymous", "norole", "specialist", "senior_specialist",
        "head_of_unit", "head_of_service", "auditor", "api_client",
    ]  # fmt: skip
    return dict(zip(actors, statuses, strict=True))


READERS = row(302, 403, 200, 200, 200, 200, 200, 403)  # view_recipient, view_casedocument
WRITERS = row(302, 403, 200, 200, 200, 200, 403, 403)  # add_recipient
# POST only: GET is 405 past the permission check; the auditor has no permission to write.
WRITE_ONLY = row(302, 403, 405, 405, 405, 405, 403, 403)
# An empty or refused form posted from the recipient's page: back to it with the errors.
BACK_WITH_ERRORS = row(302, 403, 302, 302, 302, 302, 403, 403)

EXPECTED: dict[str, dict[str, int]] = {
    "recipient_list": READERS,
    "case_inventory_export": READERS,
    "recipient_register": WRITERS,
    "recipient_detail": READERS,
    "recipient_change": WRITE_ONLY,  # change_recipient
    "dependant_add": WRITE_ONLY,  # change_recipient
    "dependant_end": WRITE_ONLY,  # change_recipient
    "case_document_upload": WRITE_ONLY,  # add_casedocument
    "case_document_download": READERS,
    "case_document_check": WRITE_ONLY,  # check_casedocument
}
POST_EXPECTED: dict[str, dict[str, int]] = {
    "recipient_register": WRITERS,  # the form again, with its errors
    "recipient_change": BACK_WITH_ERRORS,
    "dependant_add": BACK_WITH_ERRORS,
    "dependant_end": BACK_WITH_ERRORS,
    "case_document_upload": BACK_WITH_ERRORS,
    "case_document_check": BACK_WITH_ERRORS,  # not confirmed: nothing is checked
}
WRITING_VIEWS: dict[str, str] = {
    "recipient_register": "specialist",
    "recipient_change": "specialist",
    "dependant_add": "specialist",
    "dependant_end": "specialist",
    "case_document_upload": "specialist",
    "case_document_check": "specialist",
}


def kwargs(objects: dict[str, Any]) -> dict[str, dict[str, Any]]:
    recipient, document = objects["recipient"], objects["document"]
    return {
        "case_inventory_export": {"fmt": "csv"},
        "recipient_detail": {"pk": recipient.pk},
        "recipient_change": {"pk": recipient.pk},
        "dependant_add": {"pk": recipient.pk},
        "dependant_end": {"pk": recipient.pk},
        "case_document_upload": {"pk": recipient.pk},
        "case_document_download": {"pk": document.pk},
        "case_document_check": {"pk": document.pk},
    }
