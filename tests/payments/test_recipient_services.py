"""The services of recipients and their case files (``payments.services.recipients``; Rules,
paragraphs 10-12): each rule of the registration per payment type, the dated change records,
the dependants and their count, and the documents of a case file. Every rule has a test here
that fails without it; a refused call writes nothing."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from contributions.services.common import DomainError
from payments.models import CaseDocument, Dependant, Recipient, RecipientChange, RecipientStatus
from payments.services import (
    DependantData,
    case_document_add,
    case_document_check,
    dependant_add,
    dependant_end,
    recipient_change_items,
    recipient_register,
)
from payments.services.recipients import (
    MAX_DOCUMENT_BYTES,
    active_dependants,
    find_or_register_participant,
    sniff_document,
)
from records.models import AuditEvent, Participant, PersonalDataChange
from records.services import Actor

pytestmark = pytest.mark.django_db

APPLIED, RISK = date(2023, 12, 20), date(2023, 12, 15)
DEATH = date(2023, 6, 10)  # people[0] dies that day (tests/conftest.py)
PDF = b"%PDF-1.7\n% scan\n"


def written() -> tuple[int, ...]:
    return (
        Recipient.objects.count(),
        Participant.objects.count(),
        PersonalDataChange.objects.count(),
        Dependant.objects.count(),
        RecipientChange.objects.count(),
        CaseDocument.objects.count(),
        AuditEvent.objects.count(),
    )


def child_of(person, relation: str = "child", name: str = "Child") -> DependantData:
    return DependantData(iin=person.iin, full_name=name, birth_date=person.birth_date, relation=relation)


@pytest.fixture
def register(specialist):
    """``recipient_register`` with the defaults of a disability application."""

    def call(person, payment_type: str = "0702", **items):
        items.setdefault("application_date", APPLIED)
        items.setdefault("risk_date", RISK)
        if payment_type == "0702":
            items.setdefault("loss_degree", 50)
        return recipient_register(iin=person.iin, payment_type=payment_type, actor=specialist, **items)

    return call


def refused(call, message: str) -> None:
    """``call`` raises a ``DomainError`` with ``message`` and writes nothing."""
    before = written()
    with pytest.raises(DomainError) as raised:
        call()
    assert message in " ".join(raised.value.messages)
    assert written() == before


# --- Finding the applicant ----------------------------------------------------------------------


def test_an_applicant_unknown_as_a_participant_is_registered_from_the_registry(people) -> None:
    person = people[0]
    participant = find_or_register_participant(person.iin, actor=Actor(label="test"))
    assert (participant.iin, participant.last_name, participant.first_name) == (
        person.iin, person.last_name, person.first_name,
    )  # fmt: skip
    assert (participant.birth_date, participant.gender, participant.death_date) == (
        person.birth_date, person.gender, DEATH,
    )  # fmt: skip
    # Found again, not registered twice.
    assert find_or_register_participant(person.iin, actor=Actor(label="test")).pk == participant.pk
    assert Participant.objects.filter(iin=person.iin).count() == 1


def test_a_known_participant_is_taken_as_the_registry_does_not_matter(participant) -> None:
    assert find_or_register_participant(participant.iin, actor=Actor(label="test")) == participant


@pytest.mark.parametrize(
    ("iin", "message"),
    [
        ("12345", "12345 is not a valid IIN."),
        ("791028302729", "791028302729 is not a valid IIN."),  # the check digit
        ("990140004654", "neither a participant nor known to the state registry"),
    ],
)
def test_an_iin_that_is_wrong_or_unknown_is_refused(people, register, iin: str, message: str) -> None:
    refused(lambda: register(type("P", (), {"iin": iin})), message)


# --- The rules of every payment type --------------------------------------------------------


def test_only_those_who_register_may(people, make_user) -> None:
    outsiders = [make_user("auditor"), make_user(None)]
    before = written()
    for user in outsiders:
        with pytest.raises(PermissionDenied):
            recipient_register(
                iin=people[3].iin, payment_type="0702", application_date=APPLIED, risk_date=RISK, loss_degree=50,
                actor=user,
            )  # fmt: skip
    assert written() == before


def test_an_unknown_payment_type_is_refused(people, register) -> None:
    refused(lambda: register(people[3], "0706"), "Unknown payment type: 0706.")


def test_the_application_is_dated_today_at_the_latest(people, register) -> None:
    today = timezone.localdate()
    refused(
        lambda: register(people[3], application_date=today + timedelta(days=1), risk_date=today),
        "The application cannot be dated in the future.",
    )
    assert register(people[3], application_date=today, risk_date=today).application_date == today


def test_the_risk_comes_before_or_on_the_application(people, register) -> None:
    refused(lambda: register(people[3], risk_date=APPLIED + timedelta(days=1)), "later than the application")
    assert register(people[3], risk_date=APPLIED).risk_date == APPLIED


def test_a_dead_applicant_is_refused(people, register) -> None:
    refused(lambda: register(people[0], risk_date=date(2023, 5, 1)), "reports")


@pytest.mark.parametrize("degree", [None, 0, 29, 101])
def test_disability_needs_a_degree_from_30_to_100(people, register, degree) -> None:
    refused(lambda: register(people[3], loss_degree=degree), "from 30% to 100%")


@pytest.mark.parametrize("degree", [30, 100])
def test_disability_at_the_limits_of_the_degree(people, register, degree) -> None:
    assert register(people[3], loss_degree=degree).loss_degree == degree


def test_the_items_of_other_types_are_not_kept(people, register) -> None:
    recipient = register(
        people[3], "0702", loss_degree=40, leave_days=100, child_birth_order=2,
        unemployed_registered_on=RISK, unemployed_certificate="X", deceased_iin=people[0].iin,
        dependants=[child_of(people[3])],
    )  # fmt: skip
    assert recipient.loss_degree == 40
    assert (recipient.leave_days, recipient.child_birth_order, recipient.unemployed_registered_on) == (None,) * 3
    assert (recipient.unemployed_certificate, recipient.deceased) == ("", None)
    assert not recipient.dependants.exists()
    for code, kept in (("0703", "unemployed_registered_on"), ("0704", "leave_days"), ("0705", "child_birth_order")):
        other = register(
            people[4 + int(code[-1])], code, loss_degree=40, leave_days=100, child_birth_order=2,
            unemployed_registered_on=RISK, unemployed_certificate=" C-1 ",
        )  # fmt: skip
        assert other.loss_degree is None
        values = {
            "unemployed_registered_on": other.unemployed_registered_on,
            "leave_days": other.leave_days,
            "child_birth_order": other.child_birth_order,
        }
        assert [name for name, value in values.items() if value is not None] == [kept]
        assert other.unemployed_certificate == ("C-1" if code == "0703" else "")


# Loss of breadwinner (0701) --------------------------------------------------------------------


@pytest.fixture
def breadwinner_call(people, register):
    def call(**changes):
        items = {
            "application_date": date(2023, 7, 1),
            "risk_date": DEATH,
            "deceased_iin": people[0].iin,
            "dependants": [child_of(people[5]), child_of(people[6], "sibling", "Sibling")],
        }
        items.update(changes)
        return register(people[5], "0701", **items)

    return call


def test_loss_of_breadwinner_links_the_deceased_and_each_dependant(people, breadwinner_call) -> None:
    recipient = breadwinner_call()
    assert recipient.deceased is not None
    assert recipient.deceased.iin == people[0].iin
    assert recipient.account_holder == recipient.deceased
    rows = set(recipient.dependants.values_list("iin", "full_name", "birth_date", "relation", "since", "until"))
    assert rows == {
        (people[5].iin, "Child", people[5].birth_date, "child", DEATH, None),
        (people[6].iin, "Sibling", people[6].birth_date, "sibling", DEATH, None),
    }
    assert active_dependants(recipient, on=DEATH) == 2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"deceased_iin": ""}, "needs the IIN of the deceased participant"),
        ({"deceased_iin": "PEOPLE3", "risk_date": date(2023, 6, 10)}, "does not report the breadwinner"),
        ({"risk_date": date(2023, 6, 11)}, "the date of the social risk is the date of death"),
        ({"dependants": []}, "needs at least one dependant"),
        ({"deceased_iin": "PEOPLE5"}, "The applicant cannot be the deceased breadwinner."),
    ],
)
def test_loss_of_breadwinner_refused(people, register, breadwinner_call, changes, message) -> None:
    register(people[3])  # people[3] is a participant (the registry does not report him dead)
    lookup = {"PEOPLE3": people[3].iin, "PEOPLE5": people[5].iin}
    changes = {k: lookup.get(v, v) if isinstance(v, str) else v for k, v in changes.items()}
    refused(lambda: breadwinner_call(**changes), message)


@pytest.mark.parametrize(
    ("dependant", "message"),
    [
        ({"iin": "123"}, "Dependant: 123 is not a valid IIN."),
        ({"relation": "cousin"}, "unknown relation"),
        ({"full_name": "  "}, "the full name is missing"),
        ({"birth_date": DEATH + timedelta(days=1)}, "born after the breadwinner's death"),
    ],
)
def test_a_wrong_dependant_refuses_the_whole_registration(people, breadwinner_call, dependant, message) -> None:
    base = {"iin": people[6].iin, "full_name": "Sibling", "birth_date": people[6].birth_date, "relation": "sibling"}
    refused(lambda: breadwinner_call(dependants=[child_of(people[5]), DependantData(**(base | dependant))]), message)


def test_a_dependant_born_on_the_day_of_death_is_one(people, breadwinner_call) -> None:
    recipient = breadwinner_call(dependants=[DependantData(people[6].iin, "Newborn", DEATH, "child")])
    assert recipient.dependants.get().birth_date == DEATH


def test_a_dependant_listed_twice_is_refused(people, breadwinner_call) -> None:
    refused(lambda: breadwinner_call(dependants=[child_of(people[5]), child_of(people[5])]), "is listed twice")


def test_a_dependants_name_is_kept_trimmed(people, breadwinner_call) -> None:
    recipient = breadwinner_call(dependants=[child_of(people[5], name="  Name  ")])
    assert recipient.dependants.get().full_name == "Name"


# Job loss, maternity and child care ---------------------------------------------------------------


def test_job_loss_needs_the_registration_as_unemployed_on_or_before_the_risk(people, register) -> None:
    refused(lambda: register(people[3], "0703"), "needs the date of registration as unemployed")
    refused(
        lambda: register(people[3], "0703", unemployed_registered_on=RISK + timedelta(days=1)),
        "arises from the registration as unemployed",
    )
    assert register(people[3], "0703", unemployed_registered_on=RISK).unemployed_registered_on == RISK


@pytest.mark.parametrize("days", [None, 0, 367])
def test_maternity_needs_its_days_of_leave(people, register, days) -> None:
    refused(lambda: register(people[3], "0704", leave_days=days), "needs the days of maternity leave")


@pytest.mark.parametrize("days", [1, 366])
def test_maternity_at_the_limits_of_the_days(people, register, days) -> None:
    assert register(people[3], "0704", leave_days=days).leave_days == days


@pytest.mark.parametrize("order", [None, 0])
def test_child_care_needs_the_birth_order(people, register, order) -> None:
    refused(lambda: register(people[3], "0705", child_birth_order=order), "needs the birth order of the child")


def test_child_care_from_the_first_child(people, register) -> None:
    assert register(people[3], "0705", child_birth_order=1).child_birth_order == 1


# One open case file per type; personal items; the audit ---------------------------------------


def test_one_open_case_file_per_payment_type(people, register) -> None:
    first = register(people[3])
    refused(lambda: register(people[3]), f"already has a case file of this payment type ({first.case_number})")
    # Another type is another case file; a terminated one no longer counts.
    register(people[3], "0705", child_birth_order=1)
    Recipient.objects.filter(pk=first.pk).update(status=RecipientStatus.TERMINATED)
    assert register(people[3]).pk != first.pk
    for status in (RecipientStatus.IN_FORCE, RecipientStatus.SUSPENDED):
        Recipient.objects.filter(participant__iin=people[3].iin, payment_type="0702").exclude(pk=first.pk).update(
            status=status
        )
        refused(lambda: register(people[3]), "already has a case file")


def test_personal_items_become_change_records_dated_the_application(people, register, specialist) -> None:
    recipient = register(
        people[3], personal_items={"address": "Алматы, Абай 1", "citizenship": "Казахстан"},
    )  # fmt: skip
    changes = PersonalDataChange.objects.filter(participant=recipient.participant)
    assert set(changes.values_list("field", "old_value", "new_value", "changed_on", "source", "actor")) == {
        ("address", "", "Алматы, Абай 1", APPLIED, "application for a social payment", specialist.pk),
        ("citizenship", "", "Казахстан", APPLIED, "application for a social payment", specialist.pk),
    }
    recipient.participant.refresh_from_db()
    assert recipient.participant.address == "Алматы, Абай 1"


def test_unknown_personal_items_are_refused(people, register) -> None:
    refused(lambda: register(people[3], personal_items={"last_name": "X", "shoe_size": 42}), "last_name, shoe_size")


def test_a_refused_registration_leaves_the_personal_items_unchanged(people, register) -> None:
    register(people[3])
    refused(lambda: register(people[3], personal_items={"address": "New"}), "already has a case file")
    assert Participant.objects.get(iin=people[3].iin).address == ""


def test_the_registration_is_audited(people, register, specialist) -> None:
    recipient = register(people[3])
    assert recipient.registered_by == specialist
    event = AuditEvent.objects.get(action="recipients.register")
    assert event.object_pk == str(recipient.pk)
    assert event.data == {"iin": people[3].iin, "payment_type": "0702", "application_date": "2023-12-20"}


# --- Dated changes of the recipient's items ------------------------------------------------------


@pytest.fixture
def disabled(people, register):
    return register(people[3])


def test_a_change_is_a_dated_record_of_the_old_and_new_value(disabled, specialist) -> None:
    records = recipient_change_items(
        recipient_id=disabled.pk, changes={"loss_degree": 70}, changed_on=date(2024, 1, 5), reason=" МСЭ ",
        actor=specialist,
    )  # fmt: skip
    assert [(r.item, r.old_value, r.new_value, r.changed_on, r.reason) for r in records] == [
        ("loss_degree", "50", "70", date(2024, 1, 5), "МСЭ"),
    ]
    stored = RecipientChange.objects.get(recipient=disabled)
    assert (stored.item, stored.old_value, stored.new_value, stored.changed_by) == (
        "loss_degree",
        "50",
        "70",
        specialist,
    )
    disabled.refresh_from_db()
    assert disabled.loss_degree == 70
    assert AuditEvent.objects.get(action="recipients.change_items").data == {
        "items": ["loss_degree"], "changed_on": "2024-01-05",
    }  # fmt: skip


def test_an_unchanged_value_leaves_no_record(disabled, specialist) -> None:
    before = written()
    assert (
        recipient_change_items(
            recipient_id=disabled.pk, changes={"loss_degree": 50}, changed_on=APPLIED, reason="x", actor=specialist
        )
        == []
    )
    assert written() == before


def test_an_item_set_and_taken_away_again_is_recorded_with_its_values(disabled, specialist) -> None:
    arguments = {"recipient_id": disabled.pk, "changed_on": APPLIED, "reason": "x", "actor": specialist}
    (first,) = recipient_change_items(changes={"unemployed_registered_on": RISK}, **arguments)
    (second,) = recipient_change_items(changes={"unemployed_registered_on": None}, **arguments)
    assert [(first.old_value, first.new_value), (second.old_value, second.new_value)] == [
        ("", "2023-12-15"),
        ("2023-12-15", ""),
    ]


def test_a_change_to_no_value_is_recorded_as_empty(people, register, specialist) -> None:
    recipient = register(people[3], "0703", unemployed_registered_on=RISK, unemployed_certificate="C-1")
    (record,) = recipient_change_items(
        recipient_id=recipient.pk, changes={"unemployed_certificate": ""}, changed_on=APPLIED, reason="x",
        actor=specialist,
    )  # fmt: skip
    assert (record.old_value, record.new_value) == ("C-1", "")


@pytest.mark.parametrize(
    ("changes", "changed_on", "reason", "message"),
    [
        ({"loss_degree": 20}, APPLIED, "x", "from 30% to 100%"),
        ({"loss_degree": None}, APPLIED, "x", "from 30% to 100%"),
        ({"participant": 1}, APPLIED, "x", "cannot be changed here: participant"),
        ({"amount": 1}, APPLIED, "x", "cannot be changed here: amount"),
        ({"loss_degree": 70}, None, "x", "A change cannot be dated in the future."),
        ({"loss_degree": 70}, APPLIED, "  ", "Give the reason for the change."),
    ],
)
def test_a_refused_change(disabled, specialist, changes, changed_on, reason, message) -> None:
    changed_on = changed_on or timezone.localdate() + timedelta(days=1)
    refused(
        lambda: recipient_change_items(
            recipient_id=disabled.pk, changes=changes, changed_on=changed_on, reason=reason, actor=specialist
        ),
        message,
    )


def test_a_change_dated_today_is_taken(disabled, specialist) -> None:
    today = timezone.localdate()
    (record,) = recipient_change_items(
        recipient_id=disabled.pk, changes={"loss_degree": 80}, changed_on=today, reason="x", actor=specialist
    )
    assert record.changed_on == today


def test_the_items_of_a_terminated_payment_no_longer_change(disabled, specialist) -> None:
    Recipient.objects.filter(pk=disabled.pk).update(status=RecipientStatus.TERMINATED)
    refused(
        lambda: recipient_change_items(
            recipient_id=disabled.pk, changes={"loss_degree": 70}, changed_on=APPLIED, reason="x", actor=specialist
        ),
        "The payment is terminated",
    )


def test_a_job_loss_change_keeps_its_rule(people, register, specialist) -> None:
    recipient = register(people[3], "0703", unemployed_registered_on=RISK)
    refused(
        lambda: recipient_change_items(
            recipient_id=recipient.pk,
            changes={"unemployed_registered_on": RISK + timedelta(days=1)},
            changed_on=APPLIED,
            reason="x",
            actor=specialist,
        ),
        "arises from the registration",
    )


def test_a_breadwinner_recipient_keeps_its_dependants_rule_when_changed(people, breadwinner_call, specialist) -> None:
    recipient = breadwinner_call()
    # No item of 0701 changes here, but the type's rules still hold (its dependants exist).
    assert (
        recipient_change_items(recipient_id=recipient.pk, changes={}, changed_on=APPLIED, reason="x", actor=specialist)
        == []
    )


def test_only_those_who_change_may(disabled, auditor) -> None:
    before = written()
    with pytest.raises(PermissionDenied):
        recipient_change_items(recipient_id=disabled.pk, changes={"loss_degree": 70}, changed_on=APPLIED,
                               reason="x", actor=auditor)  # fmt: skip
    assert written() == before


# --- Dependants and their count ------------------------------------------------------------------


def test_a_dependant_added_and_ended_is_counted_by_date(people, breadwinner_call, specialist) -> None:
    recipient = breadwinner_call(dependants=[child_of(people[5])])
    added = dependant_add(
        recipient_id=recipient.pk, dependant=child_of(people[7], name="Late"), since=date(2023, 9, 1),
        reason="found later", actor=specialist,
    )  # fmt: skip
    assert (added.since, added.until) == (date(2023, 9, 1), None)
    assert active_dependants(recipient, on=date(2023, 8, 31)) == 1
    assert active_dependants(recipient, on=date(2023, 9, 1)) == 2
    dependant_end(dependant_id=added.pk, until=date(2023, 12, 31), reason="came of age", actor=specialist)
    assert active_dependants(recipient, on=date(2023, 12, 31)) == 2  # the last day still counts
    assert active_dependants(recipient, on=date(2024, 1, 1)) == 1
    changes = list(recipient.changes.order_by("entered_at", "id").values_list("item", "old_value", "new_value",
                                                                               "changed_on", "reason"))  # fmt: skip
    assert changes == [
        ("dependants", "1", "2", date(2023, 9, 1), "found later"),
        ("dependants", "2", "1", date(2023, 12, 31), "came of age"),
    ]
    actions = list(
        AuditEvent.objects.filter(action__startswith="recipients.dependant")
        .order_by("id")
        .values_list("action", "data")
    )
    assert actions == [
        ("recipients.dependant_add", {"iin": people[7].iin}),
        ("recipients.dependant_end", {"iin": people[7].iin}),
    ]


def test_today_is_the_default_day_of_the_count(people, breadwinner_call) -> None:
    recipient = breadwinner_call(dependants=[child_of(people[5])])
    assert active_dependants(recipient) == 1
    Dependant.objects.filter(recipient=recipient).update(until=timezone.localdate() - timedelta(days=1))
    assert active_dependants(recipient) == 0


def test_dependants_only_for_loss_of_breadwinner(people, disabled, specialist) -> None:
    refused(
        lambda: dependant_add(
            recipient_id=disabled.pk, dependant=child_of(people[7]), since=APPLIED, reason="x", actor=specialist
        ),
        "Only a loss-of-breadwinner recipient has dependants.",
    )


def test_a_dependant_added_needs_its_reason_and_is_checked(people, breadwinner_call, specialist) -> None:
    recipient = breadwinner_call(dependants=[child_of(people[5])])
    refused(
        lambda: dependant_add(
            recipient_id=recipient.pk, dependant=child_of(people[7]), since=APPLIED, reason=" ", actor=specialist
        ),
        "Give the reason for the change.",
    )
    refused(
        lambda: dependant_add(
            recipient_id=recipient.pk, dependant=child_of(people[5]), since=APPLIED, reason="x", actor=specialist
        ),
        "is listed twice",
    )


def test_a_dependant_ends_once_and_not_before_it_started(people, breadwinner_call, specialist) -> None:
    recipient = breadwinner_call(dependants=[child_of(people[5])])
    dependant = recipient.dependants.get()
    refused(
        lambda: dependant_end(dependant_id=dependant.pk, until=DEATH - timedelta(days=1), reason="x", actor=specialist),
        "cannot end before they started",
    )
    refused(lambda: dependant_end(dependant_id=dependant.pk, until=DEATH, reason="", actor=specialist), "reason")
    dependant_end(dependant_id=dependant.pk, until=DEATH, reason="x", actor=specialist)  # the same day: it ends
    refused(
        lambda: dependant_end(dependant_id=dependant.pk, until=APPLIED, reason="x", actor=specialist),
        "already been ended",
    )


def test_only_those_who_change_add_or_end_dependants(people, breadwinner_call, auditor) -> None:
    recipient = breadwinner_call(dependants=[child_of(people[5])])
    with pytest.raises(PermissionDenied):
        dependant_add(recipient_id=recipient.pk, dependant=child_of(people[7]), since=APPLIED, reason="x",
                      actor=auditor)  # fmt: skip
    with pytest.raises(PermissionDenied):
        dependant_end(dependant_id=recipient.dependants.get().pk, until=APPLIED, reason="x", actor=auditor)


# --- The documents of a case file ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"%PDF-1.4 x", "application/pdf"),
        (b"\xff\xd8\xff\xe0 x", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n x", "image/png"),
        (b"II*\x00 x", "image/tiff"),
        (b"MM\x00* x", "image/tiff"),
    ],
)
def test_a_scan_is_known_by_its_first_bytes(content: bytes, kind: str) -> None:
    assert sniff_document(content) == kind


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF", b"PK\x03\x04 a zip named .pdf", b"MZ an exe", b"GIF89a", b" %PDF-1.4",
        # The start of a signature is not the signature.
        b"\xff\xd8", b"\x89PNG\r\n", b"\x89PNG x", b"II*", b"II+\x00", b"MM\x00", b"MM\x00+",
    ],
)  # fmt: skip
def test_anything_else_is_not_a_scan(content: bytes) -> None:
    with pytest.raises(DomainError, match="not a PDF, JPEG, PNG or TIFF"):
        sniff_document(content)


def add_document(recipient, actor, **changes) -> CaseDocument:
    arguments = {
        "recipient_id": recipient.pk, "kind": "application", "number": " A-1 ", "issued_on": APPLIED,
        "file_name": "scan.pdf", "content": PDF, "actor": actor,
    }  # fmt: skip
    arguments.update(changes)
    return case_document_add(**arguments)


def test_a_document_keeps_its_scan_as_received(disabled, specialist) -> None:
    document = add_document(disabled, specialist, file_name="../dir\\scan.pdf")
    assert (document.kind, document.number, document.issued_on) == ("application", "A-1", APPLIED)
    assert (document.content_type, document.size, bytes(document.content)) == ("application/pdf", len(PDF), PDF)
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert document.file_name == ".._dir_scan.pdf"
    assert (document.received_by, document.checked_by, document.checked_at) == (specialist, None, None)
    event = AuditEvent.objects.get(action="recipients.document_add")
    assert event.data == {"document": document.pk, "kind": "application", "sha256": document.sha256}


def test_a_document_with_no_name_is_named_document(disabled, specialist) -> None:
    assert add_document(disabled, specialist, file_name="  ").file_name == "document"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "passport"}, "Unknown kind of document: passport."),
        ({"content": b""}, "The file is empty."),
        ({"content": b"%PDF-" + b"x" * MAX_DOCUMENT_BYTES}, "larger than 10 MB"),
        ({"content": b"<svg onload=alert(1)>"}, "not a PDF, JPEG, PNG or TIFF"),
        ({"issued_on": "TOMORROW"}, "A document cannot be dated in the future."),
    ],
)
def test_a_refused_document(disabled, specialist, changes, message) -> None:
    if changes.get("issued_on") == "TOMORROW":
        changes["issued_on"] = timezone.localdate() + timedelta(days=1)
    refused(lambda: add_document(disabled, specialist, **changes), message)


def test_a_document_at_the_size_limit_and_dated_today_is_taken(disabled, specialist) -> None:
    content = b"%PDF-" + b"x" * (MAX_DOCUMENT_BYTES - 5)
    document = add_document(disabled, specialist, content=content, issued_on=timezone.localdate())
    assert document.size == MAX_DOCUMENT_BYTES


def test_the_same_file_twice_in_one_case_file_is_refused(people, disabled, register, specialist) -> None:
    add_document(disabled, specialist)
    refused(lambda: add_document(disabled, specialist, kind="other", file_name="copy.pdf"), "already in the case file")
    # In another case file it is that file's own document.
    other = register(people[4], "0705", child_birth_order=1)
    assert add_document(other, specialist).recipient == other


def test_a_document_is_checked_once_by_whoever_checks(disabled, specialist, make_user) -> None:
    document = add_document(disabled, specialist)
    checker = make_user("senior_specialist")
    checked = case_document_check(document_id=document.pk, actor=checker)
    assert checked.checked_by == checker
    assert checked.checked_at is not None
    document.refresh_from_db()
    assert document.checked_by == checker
    assert AuditEvent.objects.get(action="recipients.document_check").data == {"document": document.pk}
    refused(lambda: case_document_check(document_id=document.pk, actor=specialist), "already been checked")


def test_only_those_who_file_and_check_documents_may(disabled, specialist, auditor) -> None:
    document = add_document(disabled, specialist)
    before = written()
    with pytest.raises(PermissionDenied):
        add_document(disabled, auditor, content=b"%PDF-other")
    with pytest.raises(PermissionDenied):
        case_document_check(document_id=document.pk, actor=auditor)
    assert written() == before
