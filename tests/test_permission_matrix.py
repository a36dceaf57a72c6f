"""Every URL x every role -> the expected status. Generated from the URL conf: a URL with no
declared permission, or with no row in EXPECTED, fails this test."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

ACTORS = [
    "anonymous", "norole", "specialist", "senior_specialist",
    "head_of_unit", "head_of_service", "auditor", "api_client",
]  # fmt: skip


def row(*statuses: int) -> dict[str, int]:
    return dict(zip(ACTORS, statuses, strict=True))


EVERYONE_200 = row(200, 200, 200, 200, 200, 200, 200, 200)
STAFF = row(302, 403, 200, 200, 200, 200, 200, 403)  # any staff role; not an API client

# GET of each named URL outside the admin.
EXPECTED = {
    "home": row(302, 200, 200, 200, 200, 200, 200, 200),
    "healthz": EVERYONE_200,
    "favicon": row(301, 301, 301, 301, 301, 301, 301, 301),
    "set_language": row(302, 302, 302, 302, 302, 302, 302, 302),
    "login": EVERYONE_200,
    "logout": row(405, 405, 405, 405, 405, 405, 405, 405),
    "participant_search": STAFF,
    "participant_detail": STAFF,
    "access_log": row(302, 403, 403, 403, 200, 200, 200, 403),
    # Large exports (issue 19): the auditor's own jobs; a job that is not one's own is 404.
    "export_jobs": row(302, 403, 403, 403, 403, 403, 200, 403),
    "export_job_table": row(302, 403, 403, 403, 403, 403, 200, 403),
    "export_download": row(302, 403, 403, 403, 403, 403, 404, 403),
    "registry_upload": row(302, 403, 403, 403, 403, 200, 403, 403),  # the head of service (add_registryload)
    "registry_load_detail": row(302, 403, 403, 200, 200, 200, 200, 403),
    "role_list": STAFF,
    "role_assign": row(302, 403, 403, 403, 405, 405, 403, 403),
    "api_participant_detail": row(401, 403, 200, 200, 200, 200, 200, 403),
    "order_list": STAFF,
    "order_live": STAFF,
    "order_upload": row(302, 403, 200, 200, 200, 200, 403, 403),
    "review_queue": row(302, 403, 403, 200, 200, 200, 403, 403),
    "deadlines": row(302, 403, 403, 403, 200, 200, 200, 403),
    "order_detail": STAFF,
    "order_resolve": row(302, 403, 403, 405, 405, 405, 403, 403),
    "return_document_list": STAFF,
    "return_document_download": STAFF,
    "incoming_file_download": STAFF,
    "payer_detail": STAFF,
    "refund_list": STAFF,
    "refund_new": row(302, 403, 200, 200, 200, 200, 403, 403),
    "refund_decide": row(302, 403, 403, 403, 405, 405, 403, 403),
    "api_order_submit": row(401, 403, 403, 403, 403, 403, 403, 405),
    "api_order_detail": row(401, 403, 200, 200, 200, 200, 200, 404),  # 404: not the bank's own order
    "api_return_document": row(401, 403, 200, 200, 200, 200, 200, 404),
    "api_schema": EVERYONE_200,
    "api_docs": EVERYONE_200,
}

# Issue 17's pages, API, second factor and documents: one module each (tests/payments/matrix_*).
MATRIX_PARTS = [
    importlib.import_module(f"tests.payments.matrix_{part}")
    for part in ("recipients", "decisions", "api", "otp", "documents", "runs", "reports")
]
for _part in MATRIX_PARTS:
    EXPECTED.update(_part.EXPECTED)

# A sample of the admin: staff status and model permissions decide.
ADMIN_EXPECTED = {
    "admin:index": row(302, 302, 302, 302, 302, 200, 200, 302),
    "admin:records_participant_changelist": row(302, 302, 302, 302, 302, 200, 200, 302),
    "admin:records_participant_add": row(302, 302, 302, 302, 302, 403, 403, 302),
    "admin:records_accesslog_changelist": row(302, 302, 302, 302, 302, 200, 200, 302),
    "admin:records_calendarday_changelist": row(302, 302, 302, 302, 302, 200, 200, 302),
    "admin:records_participant_export": row(302, 302, 302, 302, 302, 403, 200, 302),
    "admin:auth_user_changelist": row(302, 302, 302, 302, 302, 403, 403, 302),
    "admin:contributions_paymentorder_changelist": row(302, 302, 302, 302, 302, 200, 200, 302),
    "admin:contributions_ledgerentry_export": row(302, 302, 302, 302, 302, 403, 200, 302),
    "admin:payments_decision_changelist": row(302, 302, 302, 302, 302, 200, 200, 302),
    "admin:payments_decision_add": row(302, 302, 302, 302, 302, 403, 403, 302),
    "admin:payments_decision_export": row(302, 302, 302, 302, 302, 403, 200, 302),
}


def named_patterns(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            yield from named_patterns(entry, prefix + (f"{entry.namespace}:" if entry.namespace else ""))
        elif isinstance(entry, URLPattern):
            yield prefix + (entry.name or f"<unnamed {entry.pattern}>"), entry


def declared_permission(pattern: URLPattern) -> object:
    callback = pattern.callback
    missing = object()
    declared = getattr(callback, "required_permission", missing)
    if declared is missing and hasattr(callback, "cls"):
        declared = getattr(callback.cls, "required_permission", missing)
    return None if declared is missing else ("public" if declared is None else declared)


def test_every_url_declares_its_permission_and_has_a_row() -> None:
    patterns = dict(named_patterns(get_resolver()))
    undeclared = [name for name, pattern in patterns.items() if declared_permission(pattern) is None]
    assert not undeclared, f"views without a declared permission: {undeclared}"
    assert set(patterns) == set(EXPECTED), "add a row to EXPECTED for every URL (and remove rows of gone URLs)"


@pytest.fixture
def clients(make_user, participant):
    result = {"anonymous": Client()}
    for actor in ACTORS[1:]:
        client = Client()
        client.force_login(make_user(None if actor == "norole" else actor))
        result[actor] = client
    return result


@pytest.fixture
def sample(sample, payments_sample):
    """The shared sample objects, a registry load (its page) and issue 17's objects."""
    from records.registry import registry_load_snapshot
    from records.services import Actor

    load = registry_load_snapshot(raw=b"iin\n", file_name="bad.csv", actor=Actor(label="test"))
    merged = {**sample, "registry_load_detail": {"pk": load.pk}, "export_download": {"pk": 1}}
    for part in MATRIX_PARTS:
        merged.update(part.kwargs(payments_sample))
    return merged


def url_for(name: str, sample) -> str:
    return reverse(name, kwargs=sample.get(name, {}))


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_url_by_role(name: str, clients, sample) -> None:
    url = url_for(name, sample)
    got = {actor: clients[actor].get(url).status_code for actor in ACTORS}
    assert got == EXPECTED[name], url


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(ADMIN_EXPECTED))
def test_admin_url_by_role(name: str, clients) -> None:
    url = reverse(name)
    got = {actor: clients[actor].get(url).status_code for actor in ACTORS}
    assert got == ADMIN_EXPECTED[name], url


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_login_page(client: Client) -> None:
    response = client.get(reverse("participant_search"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# POST of each named URL, with an empty body: views that only read answer 405 to those allowed to
# read them (after the same permission check as GET); views that write refuse everyone without the
# permission and, for those with it, reject the empty form without changing anything.
POST_EXPECTED = {
    **{name: {a: 405 if s == 200 else s for a, s in statuses.items()} for name, statuses in EXPECTED.items()},
    "home": row(302, 405, 405, 405, 405, 405, 405, 405),
    "favicon": row(405, 405, 405, 405, 405, 405, 405, 405),
    "login": EVERYONE_200,  # the form again, with its errors
    "logout": row(302, 302, 302, 302, 302, 302, 302, 302),
    "set_language": row(302, 302, 302, 302, 302, 302, 302, 302),
    "role_assign": row(302, 403, 403, 403, 302, 302, 403, 403),  # back to the list, with an error
    "order_upload": row(302, 403, 200, 200, 200, 200, 403, 403),  # the form again, with its errors
    "order_resolve": row(302, 403, 403, 302, 302, 302, 403, 403),  # back to the order, with an error
    "refund_new": row(302, 403, 200, 200, 200, 200, 403, 403),
    "refund_decide": row(302, 403, 403, 403, 302, 302, 403, 403),
    "registry_upload": row(302, 403, 403, 403, 403, 200, 403, 403),  # the form again, with its errors
    # The auditor writes nothing, with one documented exception (docs/roles.md): asking for a
    # large export (a job and its audit event). An empty form is refused (400), nothing made.
    "export_jobs": row(302, 403, 403, 403, 403, 403, 400, 403),
    "export_download": row(302, 403, 403, 403, 403, 403, 405, 403),
    "api_order_submit": row(401, 403, 403, 403, 403, 403, 403, 400),  # 400: no file, nothing stored
    "api_order_detail": row(401, 403, 405, 405, 405, 405, 405, 405),
    "api_return_document": row(401, 403, 405, 405, 405, 405, 405, 405),
}
for _part in MATRIX_PARTS:
    POST_EXPECTED.update(_part.POST_EXPECTED)


def state_of_the_records() -> tuple[object, ...]:
    """What an empty or refused POST must leave as it was."""
    from django.contrib.auth.models import User

    from contributions.models import IncomingFile, LedgerEntry, PaymentOrder, Refund
    from payments.models import (
        BankAccount,
        CaseDocument,
        ConfirmationFile,
        Decision,
        DecisionProposal,
        MonthlyReport,
        PaymentRun,
        Recipient,
        RecipientChange,
    )
    from records.models import AuditEvent, ExportJob, RegistryLoad

    return (
        AuditEvent.objects.count(),
        RegistryLoad.objects.count(),
        IncomingFile.objects.count(),
        LedgerEntry.objects.count(),
        sorted(PaymentOrder.objects.values_list("pk", "status")),
        sorted(Refund.objects.values_list("pk", "status")),
        sorted(User.groups.through.objects.values_list("user_id", "group_id")),
        Recipient.objects.count(),
        RecipientChange.objects.count(),
        sorted(CaseDocument.objects.values_list("pk", "checked_by")),
        sorted(Decision.objects.values_list("pk", "state", "version")),
        sorted(DecisionProposal.objects.values_list("pk", "status")),
        sorted(PaymentRun.objects.values_list("pk", "state", "version")),
        sorted(MonthlyReport.objects.values_list("pk", "state", "version")),
        BankAccount.objects.count(),
        ConfirmationFile.objects.count(),
        ExportJob.objects.count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(POST_EXPECTED))
def test_post_by_role_changes_nothing_without_a_valid_form(name: str, clients, sample) -> None:
    url = url_for(name, sample)
    before = state_of_the_records()
    got = {actor: clients[actor].post(url, {}).status_code for actor in ACTORS}
    assert got == POST_EXPECTED[name], url
    if name != "login":  # (a failed login is audited)
        assert state_of_the_records() == before


WRITING_VIEWS = {  # URL name -> a role allowed to POST to it
    "order_upload": "specialist",
    "order_resolve": "senior_specialist",
    "refund_new": "specialist",
    "refund_decide": "head_of_unit",
    "role_assign": "head_of_service",
    "api_order_submit": "api_client",
    "logout": "specialist",
    "export_jobs": "auditor",
}
for _part in MATRIX_PARTS:
    WRITING_VIEWS.update(_part.WRITING_VIEWS)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(WRITING_VIEWS))
def test_a_forged_post_without_the_csrf_token_is_refused(name: str, make_user, sample) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(WRITING_VIEWS[name]))
    before = state_of_the_records()
    data = {"note": "forged", "decision": "approve"}
    response = client.post(url_for(name, sample), data)
    assert response.status_code == 403
    assert b"CSRF" in response.content  # refused for the missing token, not for the role
    assert state_of_the_records() == before
    # The same request with the token gets past the check (control).
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    assert client.post(url_for(name, sample), data, HTTP_X_CSRFTOKEN=token).status_code != 403
