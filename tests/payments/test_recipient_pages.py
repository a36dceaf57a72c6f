"""The recipient and case-file pages (Rules, paragraphs 10-12 and 14) as staff use them:
registering each payment type with its own items, bad input answered with a message and nothing
written, the recipient's page and its deadlines, dated changes and dependants, the case file's
documents, the inventory with its filters and its CSV/XLSX export, the payments panel of the
participant page, and every read logged."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from payments.models import CaseDocument, Decision, Dependant, Recipient, RecipientChange, RecipientStatus
from payments.selectors.recipients import DeadlineState, decision_deadline, registration_deadline
from payments.services import case_document_add, recipient_register
from payments.services.recipients import MAX_DOCUMENT_BYTES
from records.models import AccessLog, AuditEvent, Participant, PersonalDataChange

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a scanned application\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def client_for(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def formset(rows: list[dict[str, str]] | None = None, prefix: str = "dependants") -> dict[str, str]:
    data = {
        f"{prefix}-TOTAL_FORMS": str(max(3, len(rows or []))),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "20",
    }
    for index, row in enumerate(rows or []):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def register_data(iin: str, payment_type: str, **items: str) -> dict[str, str]:
    data = {
        "iin": iin,
        "payment_type": payment_type,
        "application_date": "20.12.2023",
        "risk_date": "15.12.2023",
        **formset(),
    }
    data.update(items)
    return data


def state() -> tuple[int, ...]:
    """What a refused registration or upload must leave as it was."""
    return (
        Recipient.objects.count(),
        Participant.objects.count(),
        PersonalDataChange.objects.count(),
        Dependant.objects.count(),
        CaseDocument.objects.count(),
        RecipientChange.objects.count(),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def specialist_client(specialist) -> Client:
    return client_for(specialist)


# --- Registering each payment type with its own items (paragraph 10) ------------------------


def test_loss_of_breadwinner_registers_the_deceased_and_each_dependant_from_the_registry(
    people, specialist, specialist_client
) -> None:
    deceased, child, sibling = people[0], people[5], people[6]
    assert not Participant.objects.filter(iin__in=[deceased.iin, child.iin]).exists()
    data = register_data(
        child.iin,
        "0701",
        application_date="01.07.2023",
        risk_date="10.06.2023",
        deceased_iin=deceased.iin,
        loss_degree="60",  # another type's item: not taken
        **formset(
            [
                {
                    "iin": child.iin,
                    "full_name": "Child One",
                    "birth_date": child.birth_date.strftime("%d.%m.%Y"),
                    "relation": "child",
                },
                {
                    "iin": sibling.iin,
                    "full_name": "Sibling Two",
                    "birth_date": sibling.birth_date.isoformat(),
                    "relation": "sibling",
                },
            ]
        ),
    )
    response = specialist_client.post(reverse("recipient_register"), data)
    recipient = Recipient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("recipient_detail", args=[recipient.pk])
    assert recipient.participant.iin == child.iin  # registered from the registry snapshot
    assert recipient.deceased is not None
    assert (recipient.deceased.iin, recipient.deceased.death_date) == (deceased.iin, date(2023, 6, 10))
    assert recipient.loss_degree is None
    assert recipient.registered_by == specialist
    dependants = list(recipient.dependants.order_by("iin").values_list("iin", "relation", "since"))
    assert dependants == sorted([(child.iin, "child", date(2023, 6, 10)), (sibling.iin, "sibling", date(2023, 6, 10))])
    assert f"case file {recipient.case_number}" in " ".join(flashed(response))


@pytest.mark.parametrize(
    ("payment_type", "items", "expected"),
    [
        ("0702", {"loss_degree": "60"}, {"loss_degree": 60}),
        (
            "0703",
            {"unemployed_registered_on": "14.12.2023", "unemployed_certificate": " UN-77 "},
            {"unemployed_registered_on": date(2023, 12, 14), "unemployed_certificate": "UN-77"},
        ),
        ("0704", {"leave_days": "126"}, {"leave_days": 126}),
        ("0705", {"child_birth_order": "2"}, {"child_birth_order": 2}),
    ],
)
def test_each_type_is_registered_with_its_own_items_only(
    people, specialist_client, payment_type: str, items: dict[str, str], expected: dict[str, object]
) -> None:
    others = {"loss_degree": "45", "leave_days": "100", "child_birth_order": "3", "unemployed_certificate": "X"}
    data = register_data(people[3].iin, payment_type, **{**others, **items})
    response = specialist_client.post(reverse("recipient_register"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    recipient = Recipient.objects.get()
    assert recipient.payment_type == payment_type
    assert (recipient.application_date, recipient.risk_date) == (date(2023, 12, 20), date(2023, 12, 15))
    values = {
        name: getattr(recipient, name)
        for name in (
            "loss_degree",
            "unemployed_registered_on",
            "unemployed_certificate",
            "leave_days",
            "child_birth_order",
        )
    }
    blank = dict.fromkeys(values) | {"unemployed_certificate": ""}
    assert values == blank | expected
    assert recipient.deceased is None
    assert not recipient.dependants.exists()


def test_personal_items_of_the_application_become_dated_change_records(people, specialist_client) -> None:
    data = register_data(
        people[3].iin,
        "0702",
        loss_degree="40",
        address="Астана, ул. Абая 1",
        postal_code="010000",
        id_document_series="",
        id_document_number="N1234567",
        id_document_issued_on="01.02.2020",
        id_document_issuer="МВД РК",
        citizenship="",
    )
    assert specialist_client.post(reverse("recipient_register"), data).status_code == 302
    participant = Participant.objects.get(iin=people[3].iin)
    assert (participant.address, participant.id_document_issued_on) == ("Астана, ул. Абая 1", date(2020, 2, 1))
    changes = dict(participant.changes.values_list("field", "changed_on"))
    # Empty boxes change nothing; each item typed is a change record dated the application.
    assert changes == dict.fromkeys(
        ["address", "postal_code", "id_document_number", "id_document_issued_on", "id_document_issuer"],
        date(2023, 12, 20),
    )


def test_the_form_comes_prefilled_from_the_participant_page(people, specialist, specialist_client) -> None:
    recipient_register(
        iin=people[2].iin, payment_type="0705", application_date=date(2023, 12, 20),
        risk_date=date(2023, 12, 15), child_birth_order=1, actor=specialist,
    )  # fmt: skip
    participant = Participant.objects.get(iin=people[2].iin)
    page = specialist_client.get(reverse("recipient_register"), {"iin": participant.iin, "payment_type": "0702"})
    html = page.content.decode()
    assert f'value="{participant.iin}"' in html
    assert '<option value="0702" selected>' in html
    assert participant.full_name in html  # the applicant is named: a read, logged
    assert AccessLog.objects.filter(view="recipient_register", participant=participant).count() == 1
    # Each type's own items are in a section of their own, which the page's script shows alone.
    for code in ("0701", "0702", "0703", "0704", "0705"):
        assert f'data-payment-type="{code}"' in html
    assert "js/recipient-register.js" in html
    # A query string that is not an IIN is not used (nor sent to the database).
    page = specialist_client.get(reverse("recipient_register"), {"iin": "12345\x00", "payment_type": "x"})
    assert page.status_code == 200
    assert 'value="12345' not in page.content.decode()


# --- Bad input: a clear message, nothing written ---------------------------------------------

FUTURE = (timezone.localdate() + timedelta(days=1)).strftime("%d.%m.%Y")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({"payment_type": "0799"}, "Select a valid choice."),
        ({"iin": "123456789012"}, "The check digit of the IIN/BIN is wrong."),
        ({"iin": "12345"}, "An IIN/BIN has exactly 12 characters."),
        ({"iin": "990140004654"}, "is neither a participant nor known to the state registry"),
        ({"application_date": FUTURE}, "The application cannot be dated in the future."),
        ({"application_date": "31.02.2023"}, "Enter the date as DD.MM.YYYY"),
        ({"risk_date": "21.12.2023"}, "The social risk cannot be later than the application."),
        ({"loss_degree": "10"}, "needs the degree of lost ability, from 30% to 100%."),
        ({"loss_degree": ""}, "needs the degree of lost ability, from 30% to 100%."),
        ({"loss_degree": "101"}, "Ensure this value is less than or equal to 100."),
        ({"payment_type": "0701", "deceased_iin": "PEOPLE0", "risk_date": "10.06.2023"}, "at least one dependant"),
        ({"payment_type": "0701"}, "needs the IIN of the deceased participant"),
        ({"payment_type": "0703", "unemployed_registered_on": "16.12.2023"}, "arises from the registration"),
        ({"payment_type": "0704", "leave_days": ""}, "needs the days of maternity leave"),
        ({"payment_type": "0705"}, "needs the birth order of the child"),
    ],
)
def test_bad_input_is_answered_with_a_message_and_nothing_is_written(
    people, specialist_client, case: dict[str, str], message: str
) -> None:
    data = register_data(people[3].iin, "0702", loss_degree="50", address="Алматы")
    data.update({k: people[0].iin if v == "PEOPLE0" else v for k, v in case.items()})
    before = state()
    response = specialist_client.post(reverse("recipient_register"), data)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert state() == before


def test_a_wrong_dependant_row_is_answered_on_its_row(people, specialist_client) -> None:
    data = register_data(
        people[5].iin, "0701", risk_date="10.06.2023", application_date="01.07.2023", deceased_iin=people[0].iin,
        **formset([{"iin": "111", "full_name": "X", "birth_date": "01.01.2010", "relation": "cousin"}]),
    )  # fmt: skip
    before = state()
    html = specialist_client.post(reverse("recipient_register"), data).content.decode()
    assert "An IIN/BIN has exactly 12 characters." in html
    assert "Select a valid choice." in html
    assert state() == before


def test_a_second_open_case_of_the_same_type_is_refused(people, specialist, specialist_client) -> None:
    data = register_data(people[3].iin, "0702", loss_degree="50")
    assert specialist_client.post(reverse("recipient_register"), data).status_code == 302
    before = state()
    response = specialist_client.post(reverse("recipient_register"), data)
    assert "already has a case file of this payment type" in response.content.decode()
    assert state() == before


# --- The recipient's page (paragraphs 12 and 14) -----------------------------------------------


def test_the_recipient_page_shows_the_items_decisions_case_file_and_deadlines(payments_sample, make_user) -> None:
    recipient = payments_sample["recipient"]
    approved = Decision.objects.get(pk=payments_sample["approved"].pk)
    client = client_for(make_user("specialist"))
    response = client.get(reverse("recipient_detail", args=[recipient.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    expected: list[str] = [
        "Items 1-9: personal data of the recipient",
        "Items 10-23: the payment",
        "Items 22-25: bank details, payments, pension contributions withheld, returns and recoveries",
        "Bank details (item 22)",
        "Payments by month (items 24-25)",
        "202401-01 / 1",  # January's payment of the sample, on Halyk's list, line 1
        "closed",  # what the bank said of it
        recipient.case_number,
        recipient.participant.iin,
        str(approved.number),
        "Payment in force",
        "application.pdf",
        "Checked against the original",  # the check box of the unchecked document
        "Contributions in the window changed",  # the open proposal
        'Degree of lost ability to work</dt><dd class="col-sm-6">50 %</dd>',
    ]
    for text in expected:
        assert text in html, text
    # The dated change of the degree, with the old and new value.
    assert "<td>60</td><td>50</td>" in html.replace(" ", "")
    # The deadlines: registered on the day (met); the decision was approved long after the law's
    # 8 working days from 20.12.2023.
    assert registration_deadline(recipient).due.strftime("%d.%m.%Y") in html  # type: ignore[union-attr]
    assert decision_deadline(recipient).due.strftime("%d.%m.%Y") in html  # type: ignore[union-attr]
    assert ">missed<" in html
    # Links to the decision pages, by name.
    assert reverse("decision_detail", args=[payments_sample["approved"].pk]) in html
    assert reverse("decision_new", args=[recipient.pk]) in html
    # The read is logged, naming the recipient.
    log = AccessLog.objects.get(view="recipient_detail")
    assert (log.kind, log.participant) == (AccessLog.Kind.VIEW, recipient.participant)
    assert recipient.participant.iin in log.query["iins"]


def test_the_access_log_names_the_recipient_pages(payments_sample, auditor) -> None:
    client = client_for(auditor)
    client.get(reverse("recipient_detail", args=[payments_sample["recipient"].pk]))
    client.get(reverse("case_inventory_export", args=["xlsx"]))
    html = client.get(reverse("access_log")).content.decode()
    assert "Recipient page" in html
    assert "Export of the inventory of case files" in html


def test_the_auditor_reads_the_page_without_the_forms(payments_sample, auditor) -> None:
    recipient = payments_sample["recipient"]
    html = client_for(auditor).get(reverse("recipient_detail", args=[recipient.pk])).content.decode()
    assert recipient.case_number in html
    for form_action in ("recipient_change", "case_document_upload"):
        assert reverse(form_action, args=[recipient.pk]) not in html
    assert reverse("case_document_check", args=[payments_sample["document"].pk]) not in html
    assert reverse("case_document_download", args=[payments_sample["document"].pk]) in html


def test_a_recipient_that_does_not_exist_is_404(specialist_client) -> None:
    assert specialist_client.get(reverse("recipient_detail", args=[99_999_999])).status_code == 404
    assert specialist_client.post(reverse("recipient_change", args=[99_999_999]), {}).status_code == 404


def test_the_deadlines_of_an_application_by_the_day(applicant) -> None:
    """Applied on Wednesday 20.12.2023: registered by the next working day (21.12); the law's 8
    working days end on 03.01.2024 (1-2 January are holidays, 30-31 December a weekend)."""
    registration = registration_deadline(applicant, today=date(2023, 12, 20))
    assert registration.due == date(2023, 12, 21)
    registered_on = timezone.localdate(applicant.registered_at)
    assert registration.state == (DeadlineState.MET if registered_on <= date(2023, 12, 21) else DeadlineState.MISSED)
    due = decision_deadline(applicant, today=date(2023, 12, 20)).due
    assert due is not None
    assert due > date(2023, 12, 29)
    assert decision_deadline(applicant, today=due - timedelta(days=1)).state == DeadlineState.OPEN
    assert decision_deadline(applicant, today=due).state == DeadlineState.DUE_TODAY
    assert decision_deadline(applicant, today=due + timedelta(days=1)).state == DeadlineState.LATE
    applicant.decision_date = due
    assert decision_deadline(applicant, today=due + timedelta(days=9)).state == DeadlineState.MET
    applicant.decision_date = due + timedelta(days=1)
    assert decision_deadline(applicant, today=due + timedelta(days=9)).state == DeadlineState.MISSED


def test_job_loss_has_its_shorter_clock(people, specialist) -> None:
    kwargs = {"application_date": date(2024, 3, 4), "risk_date": date(2024, 3, 1), "actor": specialist}
    job = recipient_register(
        iin=people[3].iin, payment_type="0703", unemployed_registered_on=date(2024, 3, 1), **kwargs
    )
    other = recipient_register(iin=people[4].iin, payment_type="0705", child_birth_order=1, **kwargs)
    # Monday 04.03.2024: 6 working days end on Wednesday 13.03 (8 March is a holiday), 8 on 15.03.
    assert decision_deadline(job).due == date(2024, 3, 13)
    assert decision_deadline(other).due == date(2024, 3, 15)
    assert (decision_deadline(job).working_days, decision_deadline(other).working_days) == (6, 8)


def test_an_open_application_past_its_deadline_is_marked_late_on_the_page(applicant, specialist_client) -> None:
    html = specialist_client.get(reverse("recipient_detail", args=[applicant.pk])).content.decode()
    assert ">late<" in html
    assert "Decision: 8 working days from the application (the law)" in html


# --- Dated changes and dependants ----------------------------------------------------------------


def test_a_dated_change_of_an_item_through_the_page(applicant, specialist_client) -> None:
    url = reverse("recipient_change", args=[applicant.pk])
    response = specialist_client.post(url, {"loss_degree": "70", "changed_on": "05.01.2024", "reason": "МСЭ"})
    assert response.status_code == 302
    assert response["Location"].endswith(reverse("recipient_detail", args=[applicant.pk]) + "#changes")
    change = RecipientChange.objects.get(recipient=applicant)
    assert (change.item, change.old_value, change.new_value, change.changed_on) == (
        "loss_degree", "50", "70", date(2024, 1, 5),
    )  # fmt: skip
    assert flashed(response) == ["1 item was changed."]
    # The same values again: nothing differs, nothing recorded.
    response = specialist_client.post(url, {"loss_degree": "70", "changed_on": "06.01.2024", "reason": "again"})
    assert RecipientChange.objects.filter(recipient=applicant).count() == 1
    assert "nothing was changed" in flashed(response)[-1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"loss_degree": "20", "changed_on": "05.01.2024", "reason": "x"}, "from 30% to 100%"),
        ({"loss_degree": "70", "changed_on": FUTURE, "reason": "x"}, "A change cannot be dated in the future."),
        ({"loss_degree": "70", "changed_on": "05.01.2024", "reason": ""}, "This field is required."),
        ({"loss_degree": "50", "leave_days": "100", "changed_on": "05.01.2024", "reason": "x"}, "Nothing differs"),
    ],
)
def test_a_refused_change_says_why_and_changes_nothing(applicant, specialist_client, data, message) -> None:
    before = state()
    response = specialist_client.post(reverse("recipient_change", args=[applicant.pk]), data)
    assert response.status_code == 302
    assert message in " ".join(flashed(response))
    assert state() == before
    applicant.refresh_from_db()
    assert (applicant.loss_degree, applicant.leave_days) == (50, None)


@pytest.fixture
def breadwinner(people, specialist):
    from payments.services import DependantData

    child = people[5]
    return recipient_register(
        iin=child.iin, payment_type="0701", application_date=date(2023, 7, 1), risk_date=date(2023, 6, 10),
        deceased_iin=people[0].iin, dependants=[DependantData(child.iin, "Child", child.birth_date, "child")],
        actor=specialist,
    )  # fmt: skip


def test_dependants_are_added_and_ended_from_a_date_through_the_page(breadwinner, people, specialist_client) -> None:
    other = people[6]
    add = {
        "add-iin": other.iin, "add-full_name": "Second Child", "add-birth_date": "01.01.2010",
        "add-relation": "child", "add-since": "01.09.2023", "add-reason": "born before the death, found later",
    }  # fmt: skip
    response = specialist_client.post(reverse("dependant_add", args=[breadwinner.pk]), add)
    assert flashed(response) == ["The dependant was added."]
    added = breadwinner.dependants.get(iin=other.iin)
    assert added.since == date(2023, 9, 1)
    html = specialist_client.get(reverse("recipient_detail", args=[breadwinner.pk])).content.decode()
    assert "Second Child" in html
    assert "End a dependant" in html
    end = {"end-dependant": str(added.pk), "end-until": "31.12.2023", "end-reason": "came of age"}
    response = specialist_client.post(reverse("dependant_end", args=[breadwinner.pk]), end)
    assert flashed(response) == ["The dependant was ended."]
    added.refresh_from_db()
    assert added.until == date(2023, 12, 31)
    counts = list(breadwinner.changes.order_by("entered_at", "id").values_list("old_value", "new_value"))
    assert counts == [("1", "2"), ("2", "1")]
    # Ended once: it is no longer offered, and a second end is refused as an invalid choice.
    before = state()
    response = specialist_client.post(reverse("dependant_end", args=[breadwinner.pk]), end)
    assert "Select a valid choice" in " ".join(flashed(response))
    assert state() == before


def test_a_dependant_of_another_recipient_cannot_be_ended_here(breadwinner, applicant, specialist_client) -> None:
    dependant = breadwinner.dependants.get()
    end = {"end-dependant": str(dependant.pk), "end-until": "31.12.2023", "end-reason": "x"}
    before = state()
    response = specialist_client.post(reverse("dependant_end", args=[applicant.pk]), end)
    assert "Select a valid choice" in " ".join(flashed(response))
    assert state() == before


def test_a_dependant_for_another_type_is_refused(applicant, people, specialist_client) -> None:
    add = {
        "add-iin": people[6].iin, "add-full_name": "X", "add-birth_date": "01.01.2010", "add-relation": "child",
        "add-since": "01.09.2023", "add-reason": "x",
    }  # fmt: skip
    before = state()
    response = specialist_client.post(reverse("dependant_add", args=[applicant.pk]), add)
    assert flashed(response) == ["Only a loss-of-breadwinner recipient has dependants."]
    assert state() == before


# --- The case file's documents -------------------------------------------------------------------


def upload(client: Client, recipient: Recipient, content: bytes, name: str = "scan.pdf", **fields: str):
    scan = io.BytesIO(content)
    scan.name = name
    data: dict[str, object] = {"kind": "application", "number": "A-7", "issued_on": "20.12.2023", **fields}
    data["file"] = scan
    return client.post(reverse("case_document_upload", args=[recipient.pk]), data)


def test_a_document_is_uploaded_downloaded_and_checked(applicant, specialist, make_user) -> None:
    client = client_for(specialist)
    response = upload(client, applicant, PDF)
    assert response["Location"].endswith("#documents")
    assert flashed(response) == ["scan.pdf was added to the case file."]
    document = CaseDocument.objects.get(recipient=applicant)
    assert (document.kind, document.number, document.issued_on) == ("application", "A-7", date(2023, 12, 20))
    assert (document.content_type, document.size, bytes(document.content)) == ("application/pdf", len(PDF), PDF)
    assert document.received_by == specialist
    # Downloaded as an attachment of the type read from its bytes; the read is logged.
    reader = client_for(make_user("auditor"))
    download = reader.get(reverse("case_document_download", args=[document.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="scan.pdf"'
    assert download.content == PDF
    log = AccessLog.objects.get(view="case_document_download")
    assert (log.kind, log.participant, log.query["document"]) == (
        AccessLog.Kind.EXPORT,
        applicant.participant,
        document.pk,
    )
    # Checked by whoever ticks the box, once.
    checker = make_user("senior_specialist")
    url = reverse("case_document_check", args=[document.pk])
    response = client_for(checker).post(url, {})
    assert "Tick the box" in " ".join(flashed(response))
    document.refresh_from_db()
    assert document.checked_by is None
    response = client_for(checker).post(url, {"confirm": "on"})
    assert flashed(response) == ["The document was marked checked."]
    document.refresh_from_db()
    assert document.checked_by == checker
    assert document.checked_at is not None
    response = client_for(specialist).post(url, {"confirm": "on"})
    assert flashed(response) == ["This document has already been checked."]
    document.refresh_from_db()
    assert document.checked_by == checker
    html = client.get(reverse("recipient_detail", args=[applicant.pk])).content.decode()
    assert checker.username in html


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00 an executable", "scan.pdf", "The file is not a PDF, JPEG, PNG or TIFF scan."),
        (b"<html><script>alert(1)</script>", "scan.pdf", "The file is not a PDF, JPEG, PNG or TIFF scan."),
        (b"", "scan.pdf", "The submitted file is empty."),
        (b"%PDF-" + b"x" * MAX_DOCUMENT_BYTES, "big.pdf", "The file is larger than 10 MB."),  # the size limit
        (
            b"%PDF-" + b"x" * (MAX_DOCUMENT_BYTES + 200_000),
            "bigger.pdf",
            "The file is larger than 10 MB.",
        ),  # the length
    ],
)
def test_a_refused_upload_says_why_and_stores_nothing(applicant, specialist_client, content, name, message) -> None:
    before = state()
    response = upload(specialist_client, applicant, content, name)
    assert response.status_code == 302
    assert message in " ".join(flashed(response))
    assert state() == before


def test_an_upload_whose_length_is_over_the_limit_is_refused_before_its_body_is_read(applicant, specialist) -> None:
    """The request says its length: past the limit it is refused before a byte of the body is
    read (here the body is small, so only the stated length can refuse it)."""
    client = client_for(specialist)
    scan = io.BytesIO(PDF)
    scan.name = "small.pdf"
    before = state()
    response = client.post(
        reverse("case_document_upload", args=[applicant.pk]),
        {"kind": "application", "file": scan},
        CONTENT_LENGTH=str(MAX_DOCUMENT_BYTES + 100_000),
    )
    assert flashed(response) == ["The file is larger than 10 MB."]
    assert state() == before


def test_an_upload_at_the_limit_is_taken(applicant, specialist_client) -> None:
    content = b"%PDF-" + b"x" * (MAX_DOCUMENT_BYTES - 5)
    response = upload(specialist_client, applicant, content, "limit.pdf")
    assert flashed(response) == ["limit.pdf was added to the case file."]
    assert CaseDocument.objects.get().size == MAX_DOCUMENT_BYTES


def test_an_upload_larger_than_its_length_says_is_refused_before_it_is_stored(applicant, specialist) -> None:
    """The size limit on the upload handler: the file is dropped as soon as it passes the limit,
    whatever the request said its length was."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler
    from django.test import RequestFactory

    from payments.views.recipients import DocumentSizeLimit

    scan = io.BytesIO(b"%PDF" + b"x" * 5000)
    scan.name = "scan.pdf"
    request = RequestFactory().post("/x/", {"kind": "other", "file": scan})
    limit = DocumentSizeLimit(request, 1000)
    request.upload_handlers = [limit, TemporaryFileUploadHandler(request)]
    assert "file" not in request.FILES
    assert limit.exceeded
    assert request.POST["kind"] == "other"


def test_a_duplicate_file_and_a_missing_kind_are_refused(applicant, specialist_client) -> None:
    upload(specialist_client, applicant, PNG, "photo.png")
    before = state()
    response = upload(specialist_client, applicant, PNG, "again.png", kind="identity")
    assert flashed(response)[-1] == "This file is already in the case file."
    response = upload(specialist_client, applicant, PDF, kind="")
    assert flashed(response)[-1] == "Kind of document: This field is required."
    response = upload(specialist_client, applicant, PDF, issued_on=FUTURE)
    assert flashed(response)[-1] == "A document cannot be dated in the future."
    assert state() == before


@pytest.mark.parametrize(
    ("name", "stored", "header"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf", 'attachment; filename="passwd.pdf"'),
        ("C:\\Users\\x\\скан.pdf", "скан.pdf", "attachment; filename*=utf-8''%D1%81%D0%BA%D0%B0%D0%BD.pdf"),
        ("scan\u202efdp.exe", "scanfdp.exe", 'attachment; filename="scanfdp.exe"'),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf", None),
    ],
)
def test_a_hostile_file_name_is_kept_harmless(applicant, specialist_client, name, stored, header) -> None:
    upload(specialist_client, applicant, PDF, name)
    document = CaseDocument.objects.get()
    assert document.file_name == stored
    download = specialist_client.get(reverse("case_document_download", args=[document.pk]))
    if header:
        assert download["Content-Disposition"] == header
    assert "\n" not in download["Content-Disposition"]


def test_a_document_stored_with_a_control_character_in_its_name_downloads_safely(applicant, specialist) -> None:
    document = case_document_add(
        recipient_id=applicant.pk, kind="other", number="", issued_on=None, file_name="a\r\nSet-Cookie: x.pdf",
        content=PDF, actor=specialist,
    )  # fmt: skip
    response = client_for(specialist).get(reverse("case_document_download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="aSet-Cookie: x.pdf"'


# --- The inventory of case files and its export ----------------------------------------------------


@pytest.fixture
def inventory(payments_sample, people, specialist):
    """The sample's two recipients (0702 in force with an unchecked document, 0703 applied) and
    a third, 0705, applied in March 2024 with its document checked."""
    third = recipient_register(
        iin=people[9].iin, payment_type="0705", application_date=date(2024, 3, 4), risk_date=date(2024, 3, 1),
        child_birth_order=2, actor=specialist,
    )  # fmt: skip
    document = case_document_add(
        recipient_id=third.pk, kind="birth", number="B", issued_on=None, file_name="b.png", content=PNG,
        actor=specialist,
    )  # fmt: skip
    from payments.services import case_document_check

    case_document_check(document_id=document.pk, actor=specialist)
    return {"disability": payments_sample["recipient"], "job": payments_sample["other"], "care": third}


def listed(client: Client, **query: str) -> list[str]:
    response = client.get(reverse("recipient_list"), query)
    assert response.status_code == 200
    return [r.case_number for r in response.context["page"].object_list]


def test_the_inventory_filters(inventory, specialist_client) -> None:
    disability, job, care = inventory["disability"], inventory["job"], inventory["care"]
    assert listed(specialist_client) == [care.case_number, job.case_number, disability.case_number]
    assert listed(specialist_client, payment_type="0703") == [job.case_number]
    assert listed(specialist_client, status=RecipientStatus.IN_FORCE) == [disability.case_number]
    assert listed(specialist_client, applied_from="01.01.2024") == [care.case_number]
    assert listed(specialist_client, applied_to="31.12.2023") == [job.case_number, disability.case_number]
    assert listed(specialist_client, iin=job.participant.iin) == [job.case_number]
    assert listed(specialist_client, unchecked="on") == [disability.case_number]
    # A filter it does not know lists nothing, with the error; never the whole inventory.
    for wrong in ({"payment_type": "0799"}, {"status": "lost"}, {"iin": "123"}, {"applied_from": "99.99.9999"}):
        assert listed(specialist_client, **wrong) == []
    html = specialist_client.get(reverse("recipient_list"), {"applied_from": "02.01.2024", "applied_to": "01.01.2024"})
    assert "The end date is before the start date." in html.content.decode()
    # Counts of documents on each row.
    page = specialist_client.get(reverse("recipient_list")).context["page"].object_list
    assert {r.case_number: (r.documents_count, r.unchecked_count) for r in page} == {
        disability.case_number: (1, 1), job.case_number: (0, 0), care.case_number: (1, 0),
    }  # fmt: skip


def test_the_inventory_is_logged_with_the_people_shown(inventory, specialist_client) -> None:
    specialist_client.get(reverse("recipient_list"), {"payment_type": "0703"})
    log = AccessLog.objects.get(view="recipient_list")
    assert (log.kind, log.row_count) == (AccessLog.Kind.VIEW, 1)
    assert log.query["iins"] == [inventory["job"].participant.iin]
    assert log.query["payment_type"] == "0703"
    specialist_client.get(reverse("recipient_list"), {"iin": inventory["care"].participant.iin})
    assert AccessLog.objects.filter(view="recipient_list", kind=AccessLog.Kind.SEARCH).count() == 1


def test_the_inventory_pages_by_key(inventory, specialist_client, monkeypatch) -> None:
    monkeypatch.setattr("payments.views.recipients.PAGE", 2)
    first = specialist_client.get(reverse("recipient_list")).context["page"]
    assert len(first.object_list) == 2
    assert first.next_query
    second = specialist_client.get(f"{reverse('recipient_list')}?{first.next_query}").context["page"]
    assert [r.pk for r in second.object_list] == [inventory["disability"].pk]


def test_the_inventory_and_the_recipient_page_read_the_same_number_of_queries_with_more_data(
    inventory, people, specialist, specialist_client
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert specialist_client.get(url).status_code == 200
        return len(queries)

    detail = reverse("recipient_detail", args=[inventory["disability"].pk])
    before = (count(reverse("recipient_list")), count(detail))
    for index in (10, 11, 12):
        more = recipient_register(
            iin=people[index].iin, payment_type="0704", application_date=date(2024, 1, 9), risk_date=date(2024, 1, 9),
            leave_days=126, actor=specialist,
        )  # fmt: skip
        case_document_add(
            recipient_id=more.pk, kind="other", number="", issued_on=None, file_name="x.pdf",
            content=PDF + bytes([index]), actor=specialist,
        )  # fmt: skip
        case_document_add(
            recipient_id=inventory["disability"].pk, kind="other", number=str(index), issued_on=None,
            file_name="y.pdf", content=PDF + bytes([index, 1]), actor=specialist,
        )  # fmt: skip
    assert (count(reverse("recipient_list")), count(detail)) == before


def test_the_csv_export_opens_in_excel_in_kazakh_and_russian(inventory, make_user) -> None:
    client = client_for(make_user("auditor"), "ru")
    response = client.get(reverse("case_inventory_export", args=["csv"]), {"applied_to": "31.12.2023"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="case-files-')
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Дело", "ИИН"]
    disability = inventory["disability"]
    by_case = {row[0]: row for row in rows[1:]}
    assert set(by_case) == {disability.case_number, inventory["job"].case_number}
    row = by_case[disability.case_number]
    assert row[1] == disability.participant.iin
    assert row[4:6] == ["20.12.2023", "15.12.2023"]
    assert row[7] == f"{disability.amount:.2f}".replace(".", ",")  # a number as Russian Excel reads it
    assert row[8:] == ["1", "1"]
    log = AccessLog.objects.get(view="case_inventory_export")
    assert (log.kind, log.row_count) == (AccessLog.Kind.EXPORT, 2)
    assert log.query["iins"] == sorted([disability.participant.iin, inventory["job"].participant.iin])
    assert (log.query["format"], log.query["filters"]) == ("csv", {"applied_to": "2023-12-31"})


def test_the_xlsx_export_has_dates_as_dates_and_amounts_as_numbers(inventory, specialist) -> None:
    response = client_for(specialist, "kk").get(reverse("case_inventory_export", args=["xlsx"]), {"status": "in_force"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "ЖСН"  # headers in the reader's language
    assert len(rows) == 2
    row = rows[1]
    assert row[0] == inventory["disability"].case_number
    assert isinstance(row[4], datetime)
    assert row[4].date() == date(2023, 12, 20)
    assert isinstance(row[7], int | float)
    assert Decimal(str(row[7])) == inventory["disability"].amount
    assert (row[8], row[9]) == (1, 1)
    assert sheet.cell(row=2, column=5).number_format == "DD.MM.YYYY"


def test_the_export_stops_at_its_limit_and_says_so(inventory, specialist_client, settings) -> None:
    settings.EXPORT_MAX_ROWS = 2
    response = specialist_client.get(reverse("case_inventory_export", args=["csv"]))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 4  # the header, two case files, the note
    assert "The export stops at 2 case files" in lines[-1]
    assert AccessLog.objects.get(view="case_inventory_export").row_count == 2
    book = load_workbook(io.BytesIO(specialist_client.get(reverse("case_inventory_export", args=["xlsx"])).content))
    assert "The export stops at 2 case files" in list(book.worksheets[0].iter_rows(values_only=True))[-1][0]


def test_the_export_keeps_text_from_becoming_a_formula(inventory, specialist_client) -> None:
    participant = inventory["care"].participant
    Participant.objects.filter(pk=participant.pk).update(last_name="=HYPERLINK(1)", first_name='Али "Ә"', patronymic="")
    csv_text = specialist_client.get(reverse("case_inventory_export", args=["csv"]), {"payment_type": "0705"})
    assert '"\'=HYPERLINK(1) Али ""Ә"""' in csv_text.content.decode("utf-8-sig")
    xlsx = specialist_client.get(reverse("case_inventory_export", args=["xlsx"]), {"payment_type": "0705"})
    cell = load_workbook(io.BytesIO(xlsx.content)).worksheets[0].cell(row=2, column=3)
    assert (cell.value, cell.data_type) == ('=HYPERLINK(1) Али "Ә"', "s")


def test_an_unknown_format_or_filter_exports_nothing(inventory, specialist_client) -> None:
    assert specialist_client.get("/recipients/export.pdf/").status_code == 404
    response = specialist_client.get(reverse("case_inventory_export", args=["csv"]), {"status": "lost"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("recipient_list"))
    assert not AccessLog.objects.filter(view="case_inventory_export").exists()


# --- The payments panel of the participant page ------------------------------------------------


def test_the_participant_page_lists_the_case_files_and_their_decisions(payments_sample, make_user) -> None:
    recipient = payments_sample["recipient"]
    html = (
        client_for(make_user("specialist"))
        .get(reverse("participant_detail", args=[recipient.participant.pk]))
        .content.decode()
    )
    assert "appear here once the participant becomes a recipient" not in html
    assert reverse("recipient_detail", args=[recipient.pk]) in html
    assert str(Decision.objects.get(pk=payments_sample["approved"].pk).number) in html
    assert f"{reverse('recipient_register')}?iin={recipient.participant.iin}" in html


def test_the_panel_offers_registration_only_to_those_who_register(participant, make_user) -> None:
    url = reverse("participant_detail", args=[participant.pk])
    html = client_for(make_user("specialist")).get(url).content.decode()
    assert "appear here once the participant becomes a recipient" in html
    assert f"?iin={participant.iin}" in html
    html = client_for(make_user("auditor")).get(url).content.decode()
    assert "appear here once the participant becomes a recipient" in html
    assert f"?iin={participant.iin}" not in html


def test_the_deceased_breadwinners_page_names_who_receives_and_logs_it(breadwinner, specialist_client) -> None:
    deceased = breadwinner.deceased
    html = specialist_client.get(reverse("participant_detail", args=[deceased.pk])).content.decode()
    assert breadwinner.participant.iin in html
    assert "this participant is the deceased breadwinner" in html
    assert f"?iin={deceased.iin}" not in html  # no application in a dead person's name
    log = AccessLog.objects.get(view="participant_detail:payments")
    assert log.query["iins"] == [breadwinner.participant.iin]


# --- Pages in Kazakh, hostile input --------------------------------------------------------------


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_pages_read_in_kazakh_and_russian(payments_sample, breadwinner, make_user, language) -> None:
    client = client_for(make_user("head_of_service"), language)
    expected = {"kk": ("өтініш", "Өтініш", "Іс"), "ru": ("аявлени", "Дело")}[language]
    for url in (
        reverse("recipient_list"),
        reverse("recipient_register"),
        reverse("recipient_detail", args=[payments_sample["recipient"].pk]),
        reverse("recipient_detail", args=[breadwinner.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'lang="{language}"' in html
        assert any(word in html for word in expected), url
        for english in ("Case file", "Register an application", "Date of the application", "Deadlines"):
            assert f">{english}<" not in html, (url, english)


HOSTILE = ["\x00", "x" * 5000, "-1", "' OR 1=1 --", "<script>", "31.02.2026", "9999-12-31", "%s"]


def test_hostile_input_never_gives_a_server_error(payments_sample, make_user) -> None:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user("head_of_service"))
    recipient, document = payments_sample["recipient"], payments_sample["document"]
    get_urls = [
        reverse("recipient_list"),
        reverse("recipient_register"),
        reverse("recipient_detail", args=[recipient.pk]),
        reverse("case_inventory_export", args=["csv"]),
        reverse("case_inventory_export", args=["xlsx"]),
        reverse("case_document_download", args=[document.pk]),
    ]
    fields = ["payment_type", "status", "applied_from", "applied_to", "iin", "unchecked", "page", "after", "before"]
    post_urls = [
        reverse("recipient_register"),
        reverse("recipient_change", args=[recipient.pk]),
        reverse("dependant_add", args=[recipient.pk]),
        reverse("dependant_end", args=[recipient.pk]),
        reverse("case_document_upload", args=[recipient.pk]),
        reverse("case_document_check", args=[document.pk]),
    ]
    post_fields = [
        "iin", "payment_type", "application_date", "risk_date", "loss_degree", "deceased_iin", "leave_days",
        "child_birth_order", "unemployed_registered_on", "address", "changed_on", "reason", "kind", "number",
        "issued_on", "add-iin", "add-since", "end-dependant", "end-until", "dependants-TOTAL_FORMS",
        "dependants-0-iin", "dependants-0-birth_date",
    ]  # fmt: skip
    before = state()
    for value in HOSTILE:
        for url in get_urls:
            assert client.get(url, dict.fromkeys(fields, value)).status_code < 500, (url, value[:10])
        for url in post_urls:
            assert client.post(url, dict.fromkeys(post_fields, value)).status_code < 500, (url, value[:10])
    assert state() == before
