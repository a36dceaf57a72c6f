"""Social payments in the admin (payments/admin.py): listed, filtered and searched by the auditor
and the head of the service, read-only for everyone (a superuser included: decisions, their
numbers and their people are written by the services only), exported by the auditor with the
export logged with the people in it, and the scanned files of case files never shown."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from payments.models import CaseDocument, Decision, LegalParameter
from records.export_formats import EXPORT_FORMATS
from records.models import AccessLog

pytestmark = pytest.mark.django_db

MODELS = [
    "payments.recipient",
    "payments.dependant",
    "payments.recipientchange",
    "payments.casedocument",
    "payments.decision",
    "payments.decisionproposal",
    "records.approvalstep",
]
HISTORY = ["payments.recipientevent", "payments.dependantevent", "payments.decisionevent"]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin_url(label: str, page: str, *args: object) -> str:
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_{page}", args=args)


@pytest.fixture
def rows(payments_sample) -> dict[str, Any]:
    """A row of each table: the sample's, and a dependant (with its history row)."""
    from datetime import date

    from payments.models import DecisionProposal, Dependant, RecipientChange
    from records.models import ApprovalStep

    recipient = payments_sample["recipient"]
    dependant = Dependant.objects.create(
        recipient=recipient,
        iin="150101500018",
        full_name="ӘЛИЕВ ДӘУЛЕТ",
        birth_date=date(2015, 1, 1),
        relation="child",
        since=date(2023, 12, 15),
    )
    decision = Decision.objects.get(pk=payments_sample["approved"].pk)
    return {
        "payments.recipient": recipient,
        "payments.dependant": dependant,
        "payments.recipientchange": RecipientChange.objects.filter(recipient=recipient).first(),
        "payments.casedocument": payments_sample["document"],
        "payments.decision": decision,
        "payments.decisionproposal": DecisionProposal.objects.get(pk=payments_sample["proposal"].pk),
        "records.approvalstep": ApprovalStep.objects.filter(object_pk=str(decision.pk)).first(),
        "iin": recipient.participant.iin,
    }


@pytest.mark.parametrize("role", ["auditor", "head_of_service"])
def test_each_list_and_row_opens_for_the_auditor_and_the_head_of_the_service(make_user, rows, role: str) -> None:
    client = signed_in(make_user(role))
    for label in MODELS:
        assert client.get(admin_url(label, "changelist")).status_code == 200, label
        assert client.get(admin_url(label, "changelist"), {"q": rows["iin"]}).status_code == 200, label
        page = client.get(admin_url(label, "change", rows[label].pk))
        assert page.status_code == 200, label
        assert 'name="_save"' not in page.content.decode(), label


def test_the_lists_filter_and_search_by_iin_and_number(make_user, rows, payments_sample) -> None:
    client = signed_in(make_user("auditor"))
    decision = rows["payments.decision"]
    found = client.get(admin_url("payments.decision", "changelist"), {"q": decision.number})
    assert list(found.context["cl"].result_list) == [decision]
    by_iin = client.get(admin_url("payments.decision", "changelist"), {"q": rows["iin"]})
    assert list(by_iin.context["cl"].result_list) == [decision]
    other = payments_sample["submitted"]
    submitted = client.get(admin_url("payments.decision", "changelist"), {"state__exact": "submitted"})
    assert [d.pk for d in submitted.context["cl"].result_list] == [other.pk]
    recipients = client.get(admin_url("payments.recipient", "changelist"), {"payment_type__exact": "0703"})
    assert [r.pk for r in recipients.context["cl"].result_list] == [payments_sample["other"].pk]
    dependants = client.get(admin_url("payments.dependant", "changelist"), {"q": "150101500018"})
    assert list(dependants.context["cl"].result_list) == [rows["payments.dependant"]]
    page = client.get(admin_url("payments.decision", "change", decision.pk)).content.decode()
    for lang in ("kk", "ru"):  # the printed document, from the row
        assert reverse("decision_pdf", kwargs={"pk": decision.pk, "lang": lang}) in page


@pytest.mark.parametrize("role", ["auditor", "head_of_service", "superuser"])
def test_nobody_adds_changes_or_deletes_in_the_admin(make_user, rows, role: str) -> None:
    user = User.objects.create_superuser("root-admin", password="x") if role == "superuser" else make_user(role)
    client = signed_in(user)
    decision = rows["payments.decision"]
    before = Decision.objects.values().get(pk=decision.pk)
    for label in MODELS:
        row = rows[label]
        assert client.get(admin_url(label, "add")).status_code == 403, label
        assert client.post(admin_url(label, "add"), {}).status_code == 403, label
        assert client.get(admin_url(label, "delete", row.pk)).status_code == 403, label
        assert client.post(admin_url(label, "delete", row.pk), {"post": "yes"}).status_code == 403, label
        assert type(row).objects.filter(pk=row.pk).exists(), label
    # Not the state, the number or the people of a decision.
    response = client.post(
        admin_url("payments.decision", "change", decision.pk),
        {"state": "draft", "number": "2099-0702-999999", "approved_by": str(user.pk), "amount": "1"},
    )
    assert response.status_code == 403
    assert Decision.objects.values().get(pk=decision.pk) == before


def _export(client: Client, label: str, fields: tuple[str, ...], query: str = "") -> Any:
    from django.apps import apps
    from django.contrib import admin

    model_admin = admin.site._registry[apps.get_model(label)]
    resource = model_admin.get_export_resource_classes(None)[0].__name__.lower()  # type: ignore[attr-defined]
    index = next(i for i, f in enumerate(EXPORT_FORMATS) if f().get_title() == "csv")
    return client.post(
        admin_url(label, "export") + query,
        {"format": str(index), "resource": "0", **{f"{resource}_{name}": "on" for name in fields}},
    )


def test_the_auditor_exports_decisions_and_the_export_is_logged_with_the_iins(make_user, rows) -> None:
    auditor = make_user("auditor")
    decision = rows["payments.decision"]
    fields = ("id", "number", "kind", "state", "amount", "recipient_iin", "payment_type")
    response = _export(signed_in(auditor), "payments.decision", fields, query="?state__exact=approved")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"].startswith("attachment")
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert [(r["Нөмірі"], r["Алушы: ЖСН"], r["Алушы: төлем түрі"], r["Сома"]) for r in table] == [
        # the reader's (Kazakh) headers, names and notation (records.export_resources)
        (decision.number, rows["iin"], "Еңбек ету қабілетінен айырылу", "42075,00")
    ]
    entry = AccessLog.objects.get(kind=AccessLog.Kind.EXPORT)
    assert (entry.user, entry.view, entry.row_count) == (auditor, "admin:payments.decision", 1)
    assert entry.query["iins"] == [rows["iin"]]
    assert entry.query["filters"] == {"state__exact": ["approved"]}


def test_the_head_of_the_service_does_not_export(make_user, rows) -> None:
    client = signed_in(make_user("head_of_service"))
    for label in MODELS:
        assert client.get(admin_url(label, "export")).status_code == 403, label
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()


def test_the_case_file_admin_never_exposes_the_scanned_file(make_user, rows) -> None:
    document = CaseDocument.objects.get(pk=rows["payments.casedocument"].pk)
    assert document.content == b"%PDF-1.4\n% sample\n"
    client = signed_in(make_user("auditor"))
    for address in (
        admin_url("payments.casedocument", "changelist"),
        admin_url("payments.casedocument", "change", document.pk),
        admin_url("payments.casedocument", "export"),
    ):
        page = client.get(address).content
        assert b"% sample" not in page, address
        assert b'casedocumentresource_content"' not in page, address  # (content_type is there)
    response = _export(client, "payments.casedocument", ("id", "file_name", "sha256", "content", "recipient_iin"))
    assert response.status_code == 200, response.content[:500]
    body = response.content.decode("utf-8-sig")
    assert "% sample" not in body
    header = next(csv.reader(io.StringIO(body), delimiter=";"))  # headers in Kazakh
    assert "Сканерленген файл" not in header
    assert {"Файл атауы", "SHA-256", "Алушы: ЖСН"} <= set(header)
    assert "application.pdf" in body


def test_the_history_of_recipients_dependants_and_decisions_is_read_by_the_auditor(make_user, rows) -> None:
    auditor = make_user("auditor")
    client = signed_in(auditor)
    for label in HISTORY:
        page = client.get(admin_url(label, "changelist"))
        assert page.status_code == 200, label
        assert page.context["cl"].result_count >= 1, label
        assert client.get(admin_url(label, "add")).status_code == 403, label
    decision = rows["payments.decision"]
    entry = AccessLog.objects.filter(view="admin:payments.decisionevent_changelist").get()
    assert rows["iin"] in entry.query["iins"]
    states = set(
        client.get(admin_url("payments.decisionevent", "changelist"), {"pgh_obj__id__exact": decision.pk})
        .context["cl"]
        .queryset.values_list("state", flat=True)
    )
    assert {"draft", "submitted", "verified", "approved"} <= states
    # A head reads the decisions' history (a controller's function), not the recipients'.
    head = signed_in(make_user("head_of_service"))
    assert head.get(admin_url("payments.decisionevent", "changelist")).status_code == 200
    assert head.get(admin_url("payments.recipientevent", "changelist")).status_code == 403


def test_only_the_administrator_changes_a_legal_parameter(make_user) -> None:
    parameter = LegalParameter.objects.order_by("pk").first()
    assert parameter is not None
    for role in ("auditor", "head_of_service"):
        client = signed_in(make_user(role))
        page = client.get(admin_url("payments.legalparameter", "change", parameter.pk))
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        response = client.post(
            admin_url("payments.legalparameter", "change", parameter.pk),
            {"name": parameter.name, "valid_from": "2020-01-01", "value": "1", "confidence": "confirmed"},
        )
        assert response.status_code == 403
        assert client.get(admin_url("payments.legalparameter", "add")).status_code == 403
    assert LegalParameter.objects.get(pk=parameter.pk).value == parameter.value
    root = signed_in(User.objects.create_superuser("root-parameters", password="x"))
    assert 'name="_save"' in root.get(admin_url("payments.legalparameter", "change", parameter.pk)).content.decode()
