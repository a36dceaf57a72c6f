"""Admin exports as an auditor opens them (issue 19): people by IIN and name, not internal ids;
amounts as numbers and dates as dates (typed cells in XLSX, the reader's notation in CSV);
headers in the reader's language; CSV with a byte order mark and ``;`` for Excel in Kazakh and
Russian. Only exports are named so: the calendar's import still takes field names, and also
the file an export gave."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import BinaryField
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from openpyxl import load_workbook

from records.models import AccessLog
from tests.conftest import PAYER, line_for, order_text, take_in

pytestmark = pytest.mark.django_db

BOM = b"\xef\xbb\xbf"

# The ledger's columns as an auditor asks for them, and their headers in each language.
LEDGER_FIELDS = ("participant_iin", "participant_name", "period", "kind", "amount", "payer_idn", "order", "received")
LEDGER_HEADERS = {
    "ru": [
        "Участник: ИИН",
        "Участник: фамилия, имя, отчество",
        "Период",
        "Вид",
        "Сумма",
        "ИИН/БИН плательщика",
        "Платежное поручение",
        "Дата поступления",
    ],
    "kk": [
        "Қатысушы: ЖСН",
        "Қатысушы: тегі, аты, әкесінің аты",
        "Кезең",
        "Түрі",
        "Сома",
        "Төлеушінің ЖСН/БСН",
        "Төлем тапсырмасы",
        "Түскен күні",
    ],
}
CONTRIBUTION = {"ru": "Социальные отчисления", "kk": "Әлеуметтік аударымдар"}


def signed_in(user: User, language: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def export(client: Client, label: str, fmt: str, fields: tuple[str, ...], query: str = "") -> Any:
    """The admin's export form, posted as the auditor posts it (format by its place in the list)."""
    from django.apps import apps
    from django.contrib import admin

    app, model = label.split(".")
    model_admin: Any = admin.site._registry[apps.get_model(label)]
    resource = model_admin.get_export_resource_classes(None)[0].__name__.lower()
    index = next(i for i, f in enumerate(model_admin.get_export_formats()) if f().get_title() == fmt)
    response = client.post(
        reverse(f"admin:{app}_{model}_export") + query,
        {"format": str(index), "resource": "0", **{f"{resource}_{name}": "on" for name in fields}},
    )
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"].startswith("attachment")
    return response


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(BOM)  # Excel takes the file for UTF-8 only with it
    text = content.decode("utf-8-sig")
    assert text.startswith('"')  # every field quoted (records.export_formats)
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def read_xlsx(content: bytes) -> list[list[Any]]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows()]


@pytest.fixture
def ledger(people) -> Any:
    from contributions.models import LedgerEntry

    take_in(order_text([line_for(people[1])]))
    return LedgerEntry.objects.select_related("participant", "order").get()


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_ledger_as_csv_names_people_and_reads_in_the_readers_notation(auditor, ledger, language: str) -> None:
    response = export(signed_in(auditor, language), "contributions.ledgerentry", "csv", LEDGER_FIELDS)
    assert response.content.startswith(BOM + b'"')
    header, row, *rest = read_csv(response.content)
    assert not rest
    assert header == LEDGER_HEADERS[language]
    person = ledger.participant
    assert row == [
        person.iin,  # not the participant's internal id
        person.full_name,
        "01.10.2023",
        CONTRIBUTION[language],
        "7000,00",
        PAYER,
        f"SO231124000009 /501 {PAYER}",  # the order by its reference and number
        "24.11.2023",
    ]
    # The export is logged as before, with the person in it.
    entry = AccessLog.objects.get(kind=AccessLog.Kind.EXPORT)
    assert (entry.user, entry.row_count, entry.query["format"]) == (auditor, 1, "csv")
    assert person.iin in entry.query["iins"]


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_ledger_as_xlsx_has_typed_cells_and_headers_in_the_readers_language(auditor, ledger, language: str) -> None:
    fields = (*LEDGER_FIELDS, "posted_at")
    response = export(signed_in(auditor, language), "contributions.ledgerentry", "xlsx", fields)
    header, row = read_xlsx(response.content)
    assert [c.value for c in header][:-1] == LEDGER_HEADERS[language]
    cells = dict(zip(fields, row, strict=True))
    assert (cells["participant_iin"].value, cells["participant_iin"].data_type) == (ledger.participant.iin, "s")
    assert cells["participant_name"].value == ledger.participant.full_name
    assert cells["amount"].data_type == "n"
    assert Decimal(str(cells["amount"].value)) == Decimal("7000.00")
    assert cells["period"].is_date
    assert cells["period"].value == datetime(2023, 10, 1)
    assert cells["received"].is_date
    assert cells["received"].value == datetime(2023, 11, 24)
    # A moment is written in the local time (Asia/Almaty), without a zone Excel cannot hold.
    from django.utils import timezone

    assert cells["posted_at"].is_date
    written = cells["posted_at"].value.replace(microsecond=0)  # Excel keeps milliseconds
    assert written == timezone.localtime(ledger.posted_at).replace(tzinfo=None, microsecond=0)
    assert cells["kind"].value == CONTRIBUTION[language]


def test_json_is_for_programs_field_names_iso_dates_and_a_decimal_point(auditor, ledger) -> None:
    response = export(signed_in(auditor, "ru"), "contributions.ledgerentry", "json", LEDGER_FIELDS)
    (row,) = json.loads(response.content)
    assert row == {
        "participant_iin": ledger.participant.iin,
        "participant_name": ledger.participant.full_name,
        "period": "2023-10-01",
        "kind": "contribution",
        "amount": "7000.00",
        "payer_idn": PAYER,
        "order": f"SO231124000009 /501 {PAYER}",
        "received": "2023-11-24",
    }


def test_the_export_form_names_the_columns_as_the_file_will(auditor, ledger) -> None:
    page = signed_in(auditor, "ru").get(reverse("admin:contributions_ledgerentry_export")).content.decode()
    assert "Участник: ИИН (participant_iin)" in page
    assert "Участник: фамилия, имя, отчество (participant_name)" in page


def test_an_export_makes_no_query_per_row(auditor, people) -> None:
    """Related rows (the person, the order, a corrected entry's person) come in the export's
    one query, not one per row: the same number of queries for one row as for three."""
    fields = ("id", *LEDGER_FIELDS, "line", "corrects")
    client = signed_in(auditor, "ru")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            export(client, "contributions.ledgerentry", "csv", fields)
        return len(captured)

    take_in(order_text([line_for(people[1])]))
    one = queries()
    take_in(order_text([line_for(people[2]), line_for(people[3])], reference="SO2", number="502"))
    assert queries() == one


# --- Payments ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_payments_are_exported_with_the_recipient_by_iin_and_name(auditor, payments_sample, language: str) -> None:
    from payments.models import Payment

    payment = Payment.objects.select_related("recipient__participant", "payment_list", "bank").get()
    assert payment.payment_list is not None
    assert payment.bank is not None
    person = payment.recipient.participant
    fields = ("run", "payment_list", "month", "gross", "net", "bank", "recipient_iin", "recipient_name")
    client = signed_in(auditor, language)

    header, row = read_csv(export(client, "payments.payment", "csv", fields).content)
    headers = {
        "ru": ["Прогон", "Выплатной список", "Месяц", "До удержаний", "К выплате", "Банк", "Получатель: ИИН"],
        "kk": ["Жүргізілім", "Төлем тізімі", "Ай", "Ұстауға дейін", "Ұстаудан кейін", "Банк", "Алушы: ЖСН"],
    }
    assert header[:-1] == headers[language]
    decimal = f"{payment.net:f}".replace(".", ",")
    assert row == [
        "2024-01",
        payment.payment_list.number,
        "01.01.2024",
        f"{payment.gross:f}".replace(".", ","),
        decimal,
        f"{payment.bank.bic} {payment.bank.name}",
        person.iin,
        person.full_name,
    ]

    top, cells = read_xlsx(export(client, "payments.payment", "xlsx", fields).content)
    assert [c.value for c in top] == header
    by_name = dict(zip(fields, cells, strict=True))
    assert by_name["net"].data_type == "n"
    assert Decimal(str(by_name["net"].value)) == payment.net
    assert by_name["month"].is_date
    assert by_name["recipient_iin"].value == person.iin


def test_a_decision_names_its_people_by_username_and_the_recipient_resource_keeps_its_iin_columns(
    auditor, payments_sample
) -> None:
    from payments.models import Decision, Recipient

    decision = Decision.objects.select_related("approved_by").get(pk=payments_sample["approved"].pk)
    assert decision.approved_by is not None
    client = signed_in(auditor, "ru")
    header, *rows = read_csv(
        export(
            client, "payments.decision", "csv", ("number", "approved_by", "recipient_iin"), "?state__exact=approved"
        ).content
    )
    assert header == ["Номер", "Кем утверждено", "Получатель: ИИН"]
    assert rows == [[decision.number, decision.approved_by.username, payments_sample["recipient"].participant.iin]]

    recipient = Recipient.objects.select_related("participant").get(pk=payments_sample["recipient"].pk)
    header, *rows = read_csv(
        export(client, "payments.recipient", "csv", ("participant_iin", "participant_name", "deceased_iin")).content
    )
    assert header == ["Получатель: ИИН", "Получатель: фамилия, имя, отчество", "Умерший кормилец: ИИН"]
    assert [recipient.participant.iin, recipient.participant.full_name, ""] in rows


# --- Imports keep their field names; an exported file imports again --------------------------------


def test_a_calendar_exported_in_russian_imports_again(auditor, make_user) -> None:
    """The auditor's CSV (";", the byte order mark, Russian headers, choices by name, dates as
    24.03.2031) is a file the head of the service can edit and import."""
    from records.models import AuditEvent, CalendarDay

    CalendarDay.objects.filter(date="2026-12-16").update(note="Постановление")
    day = CalendarDay.objects.get(date="2026-12-16")
    query = "?date__year=2026&date__month=12&date__day=16"
    fields = ("date", "is_working", "kind", "name_kk", "name_ru", "name_en", "note")
    content = export(signed_in(auditor, "ru"), "records.calendarday", "csv", fields, query).content
    header, row = read_csv(content)
    assert header[:3] == ["Дата", "Рабочий день", "Вид"]
    assert row[0] == "16.12.2026"
    with translation.override("ru"):
        assert row[2] == day.get_kind_display() == "Государственный или национальный праздник"
    edited = content.decode("utf-8-sig").replace('"Постановление"', '"Сверено с указом"')

    head = signed_in(make_user("head_of_service"), "ru")
    from django.contrib import admin

    formats = admin.site._registry[CalendarDay].get_import_formats()  # type: ignore[attr-defined]
    upload = io.BytesIO(b"\xef\xbb\xbf" + edited.encode())
    upload.name = "calendar.csv"
    preview = head.post(
        reverse("admin:records_calendarday_import"),
        {
            "import_file": upload,
            "format": str(next(i for i, f in enumerate(formats) if f().get_title() == "csv")),
            "resource": "0",
        },
    )
    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors()
    assert not result.has_validation_errors(), result.invalid_rows
    response = head.post(reverse("admin:records_calendarday_process_import"), preview.context["confirm_form"].initial)
    assert response.status_code == 302
    day.refresh_from_db()
    assert (day.note, day.date.isoformat()) == ("Сверено с указом", "2026-12-16")
    assert AuditEvent.objects.filter(action="calendar.import").exists()


def test_tsv_stays_tab_separated(auditor, ledger) -> None:
    content = export(signed_in(auditor, "ru"), "contributions.ledgerentry", "tsv", LEDGER_FIELDS).content
    assert content.startswith(BOM)
    header, row = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter="\t"))
    assert (header[0], row[0], row[4]) == ("Участник: ИИН", ledger.participant.iin, "7000,00")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_every_admin_exports_every_column(sample, payments_sample, fmt: str) -> None:
    """Each admin's export, with all its columns, builds (the relations of every table become
    keys a reader knows; nothing a spreadsheet cannot hold): no server error on any table."""
    from django.contrib import admin

    from records.admin_export import LoggedExportMixin

    client = signed_in(User.objects.create_superuser("root-exports", password="x"), "ru")
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, LoggedExportMixin):
            continue
        resource = model_admin.get_export_resource_classes(None)[0]
        response = export(client, model._meta.label_lower, fmt, tuple(resource().get_export_order()))
        if fmt == "xlsx":
            header, *_rows = read_xlsx(response.content)
            assert all(cell.value for cell in header), model
        if fmt == "csv":
            header, *_rows = read_csv(response.content)
            assert not any("_id" in name for name in header), (model, header)
            with translation.override("ru"):  # no file in a cell: each has its own, logged page
                files = {capfirst(f.verbose_name) for f in model._meta.fields if isinstance(f, BinaryField)}
            assert not files & set(header), (model, files)
