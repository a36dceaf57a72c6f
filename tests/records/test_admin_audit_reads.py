"""Reads in the admin that name people leave a trace, and a record's past is read only by whoever
may read its tables (issue 19, the review of the audit trail):

- the admin export of the monthly reports is each version's metadata, never the figures, which
  name every payer (those are read in the report's own download, logged with each payer);
- an audit event's ``data`` may name people: opening it, exporting events, and a record's history
  page that shows its events are logged with the IINs the data holds;
- a record's history page shows its row history, domain events and approval steps each only to
  a user with the view permission of that table.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from payments.models import MonthlyReport
from records.models import AccessLog, ApprovalStep, AuditEvent, CalendarDay, Participant
from records.selectors import access_log
from records.services import Actor, audit_record, participant_change_personal_data
from tests.conftest import PAYER, line_for, order_text, take_in

pytestmark = pytest.mark.django_db

OTHER = "150101500011"  # a child's IIN (a valid check digit), in no table


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def export_all(client: Client, model: type[Model], fmt: str = "csv") -> Any:
    """The admin's export of ``model`` in ``fmt``, every field of its resource ticked."""
    model_admin: Any = admin.site._registry[model]
    resource_class = model_admin.get_export_resource_classes(None)[0]
    prefix = resource_class.__name__.lower()
    index = next(i for i, f in enumerate(model_admin.get_export_formats()) if f().get_title() == fmt)
    fields = resource_class().get_export_fields()
    opts = model._meta
    return client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_export"),
        {"format": str(index), "resource": "0", **{f"{prefix}_{field.column_name}": "on" for field in fields}},
    )


def twelve_digits_in(value: object) -> set[str]:
    """Every text of 12 ASCII digits in a JSON value, at any depth (the rule the admin logs by,
    written again here in Python)."""
    if isinstance(value, dict):
        return set().union(*(twelve_digits_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(twelve_digits_in(v) for v in value)) if value else set()
    if isinstance(value, str) and len(value) == 12 and value.isascii() and value.isdigit():
        return {value}
    return set()


# --- The monthly report: the admin has its metadata, the report's download its figures ----------


REPORT_METADATA = [
    "id",
    "month",
    "number",
    "state",
    "generated_by",
    "generated_at",
    "signed_by",
    "signed_at",
    "reason",
    "sha256",
    "reconciled",
]


@pytest.fixture
def report(people, make_user) -> MonthlyReport:
    from payments.services.reports import report_generate

    take_in(order_text([line_for(people[3]), line_for(people[5], amount="3500,50")], reference="NOV-1"))
    return report_generate(month=date(2023, 11, 1), actor=make_user("specialist"))


def test_the_admin_export_of_reports_is_each_versions_metadata_not_its_figures(report, auditor) -> None:
    named = twelve_digits_in(report.figures)
    assert PAYER in named  # the figures name the payer: they are not for an unlogged file
    client = signed_in(auditor)
    response = export_all(client, MonthlyReport, "json")
    assert response.status_code == 200
    (row,) = json.loads(response.content)
    assert list(row) == REPORT_METADATA
    assert (row["number"], row["sha256"], row["state"]) == (str(report.number), report.sha256, "draft")
    for fmt in ("csv", "xlsx"):
        response = export_all(client, MonthlyReport, fmt)
        assert response.status_code == 200
        assert not [iin for iin in named if iin.encode() in response.content], fmt


def test_the_admin_page_of_a_report_shows_no_figures(report, auditor) -> None:
    named = twelve_digits_in(report.figures)
    page = signed_in(auditor).get(reverse("admin:payments_monthlyreport_change", args=[report.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert report.sha256 in text
    assert not [iin for iin in named if iin in text]


# --- Audit events name people: their reads are logged with them ---------------------------------


def test_opening_an_event_is_logged_with_the_people_its_data_names(participant, auditor) -> None:
    event = audit_record(
        actor=Actor(label="test"),
        action="test.names_two",
        obj=participant,
        data={"iin": participant.iin, "dependants": [{"iin": OTHER, "relation": "child"}], "count": 123456789012},
    )
    response = signed_in(auditor).get(reverse("admin:records_auditevent_change", args=[event.pk]))
    assert response.status_code == 200
    assert OTHER in response.content.decode()
    entry = AccessLog.objects.get(view="admin:records.auditevent_change")
    assert (entry.user, entry.kind, entry.query["iins"]) == (auditor, AccessLog.Kind.VIEW, [OTHER, participant.iin])
    for iin in (participant.iin, OTHER):
        assert entry in access_log(iin=iin)  # "who read person X" finds it
    assert "123456789012" not in json.dumps(entry.query)  # a number is nobody


def test_opening_an_event_that_names_nobody_is_not_logged(auditor) -> None:
    event = audit_record(actor=Actor(label="test"), action="test.nobody", data={"note": "12345678901", "n": 1})
    response = signed_in(auditor).get(reverse("admin:records_auditevent_change", args=[event.pk]))
    assert response.status_code == 200
    assert not AccessLog.objects.exists()


@pytest.fixture
def applicant(people, make_user) -> Any:
    """A disability recipient registered from an application (``tests/payments/conftest.py``)."""
    from payments.services import recipient_register
    from tests.payments.conftest import APPLIED, RISK, months, pay

    pay(people[4], months((2021, 12), 24))
    return recipient_register(
        iin=people[4].iin,
        payment_type="0702",
        application_date=APPLIED,
        risk_date=RISK,
        loss_degree=50,
        actor=make_user("specialist"),
    )


def test_a_registered_recipients_event_is_read_with_a_trace(applicant, auditor) -> None:
    """The event the service writes (``recipients.register`` carries the IIN), opened and
    exported: both reads are found by the person's IIN."""
    event = AuditEvent.objects.get(action="recipients.register")
    iin = event.data["iin"]
    client = signed_in(auditor)
    assert iin in client.get(reverse("admin:records_auditevent_change", args=[event.pk])).content.decode()
    export = export_all(client, AuditEvent)
    assert export.status_code == 200
    assert iin in export.content.decode("utf-8-sig")
    kinds = sorted(entry.kind for entry in access_log(iin=iin).filter(user=auditor))
    assert kinds == [AccessLog.Kind.EXPORT, AccessLog.Kind.VIEW]


def test_an_export_of_events_is_logged_with_everyone_their_data_names(participant, auditor) -> None:
    audit_record(actor=Actor(label="test"), action="test.one", obj=participant, data={"iin": participant.iin})
    audit_record(
        actor=Actor(label="test"),
        action="test.nested",
        data={"rows": {"new": [OTHER]}, "payer": PAYER, "orders": [123456789012], "iban": "KZ1234567890123456"},
    )
    response = export_all(signed_in(auditor), AuditEvent)
    assert response.status_code == 200
    entry = AccessLog.objects.get(kind=AccessLog.Kind.EXPORT)
    everyone = set().union(*(twelve_digits_in(data) for data in AuditEvent.objects.values_list("data", flat=True)))
    assert {participant.iin, OTHER, PAYER} <= everyone
    assert entry.query["iins"] == sorted(everyone)  # all of them: no limit on an export
    assert entry.row_count == AuditEvent.objects.count()
    for iin in everyone:
        assert entry in access_log(iin=iin)


def test_a_history_page_is_logged_with_the_people_its_events_name(participant, auditor) -> None:
    """The record's own person and whoever its domain events name, in one entry."""
    audit_record(actor=Actor(label="test"), action="test.payer", obj=participant, data={"payer": PAYER})
    response = signed_in(auditor).get(reverse("admin:records_participant_history", args=[participant.pk]))
    assert response.status_code == 200
    assert PAYER in response.content.decode()
    entry = AccessLog.objects.get(view="admin:records.participant_history")
    assert (entry.participant, entry.query["iins"]) == (participant, sorted([participant.iin, PAYER]))
    assert entry in access_log(iin=PAYER)


def test_a_history_page_of_a_table_without_people_is_logged_when_its_events_name_someone(participant, auditor) -> None:
    day, other = (
        CalendarDay.objects.create(date=date(2031, 3, d), is_working=False, kind=CalendarDay.Kind.TRANSFER_OFF)
        for d in (24, 25)
    )
    audit_record(actor=Actor(label="test"), action="test.day", obj=day, data={"asked_by": participant.iin})
    client = signed_in(auditor)
    assert client.get(reverse("admin:records_calendarday_history", args=[day.pk])).status_code == 200
    entry = AccessLog.objects.get(view="admin:records.calendarday_history")
    assert (entry.kind, entry.query["iins"]) == (AccessLog.Kind.VIEW, [participant.iin])
    assert client.get(reverse("admin:records_calendarday_history", args=[other.pk])).status_code == 200
    assert AccessLog.objects.count() == 1  # a page that names nobody is not a read of anyone


# --- A record's past, part by part, to whoever may read each part -------------------------------


def staff_with(*permissions: str) -> User:
    user = User.objects.create_user(f"staff-{len(permissions)}-{'-'.join(permissions)[:100]}", is_staff=True)
    for label in permissions:
        app_label, codename = label.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return User.objects.get(pk=user.pk)  # no permission cache left behind


@pytest.fixture
def trail_of(participant: Participant, make_user: Any) -> Participant:
    """A participant with a row history of two versions, domain events and an approval step."""
    participant_change_personal_data(
        participant_id=participant.pk, changes={"last_name": "ПЕТРОВ"}, actor=Actor(label="registry"), source="test"
    )
    ApprovalStep.objects.create(
        content_type=ContentType.objects.get_for_model(Participant),
        object_pk=str(participant.pk),
        step="check",
        from_state="new",
        to_state="checked",
        actor=make_user("senior_specialist"),
    )
    return participant


SECTIONS = ('id="row-history"', 'id="domain-events"', 'id="approval-steps"')


@pytest.mark.parametrize(
    ("permissions", "shown"),
    [
        ((), ()),
        (("records.view_participantevent",), ('id="row-history"',)),
        (("records.view_auditevent",), ('id="domain-events"',)),
        (("records.view_approvalstep",), ('id="approval-steps"',)),
        (("records.view_participantevent", "records.view_auditevent", "records.view_approvalstep"), SECTIONS),
    ],
)
def test_each_part_of_a_history_page_needs_the_view_permission_of_its_table(
    trail_of, permissions: tuple[str, ...], shown: tuple[str, ...]
) -> None:
    user = staff_with("records.view_participant", *permissions)
    response = signed_in(user).get(reverse("admin:records_participant_history", args=[trail_of.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert [section for section in SECTIONS if section in page] == list(shown)
    assert 'id="admin-actions"' in page  # what was done in the admin: Django's own history
    if 'id="row-history"' not in page:
        assert "ИВАНОВ → ПЕТРОВ" not in page


@pytest.mark.parametrize(("role", "shown"), [("head_of_service", SECTIONS[1:]), ("auditor", SECTIONS)])
def test_the_roles_see_the_parts_their_permissions_give(trail_of, make_user, role: str, shown: tuple[str, ...]) -> None:
    """The head of the service may open a participant but not read its row history (earlier
    names, documents, addresses): that is the auditor's (``records.view_participantevent``)."""
    response = signed_in(make_user(role)).get(reverse("admin:records_participant_history", args=[trail_of.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert [section for section in SECTIONS if section in page] == list(shown)
