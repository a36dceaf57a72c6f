"""The admin, hardened: imports only by the table's owner and audited; reads of personal data
logged with the people read; no server error on NUL or control characters; names in the
reader's language."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from records.models import AccessLog, AuditEvent, CalendarDay, Participant
from records.selectors import access_log
from tests.audit_trail import triggers_off
from tests.test_locale import visible_text

pytestmark = pytest.mark.django_db

NEW_DAY = "2031-03-24"  # no row in the shipped calendar
CALENDAR_CSV = (
    "date,is_working,kind,name_kk,name_ru,name_en,note\n"
    f"{NEW_DAY},0,transfer_off,Демалыс,Выходной,Day off,Transfer by decree\n"
)


def signed_in(user: User, language: str = "") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language) if language else Client()
    client.force_login(user)
    return client


def csv_format_index() -> str:
    from django.contrib import admin

    formats = admin.site._registry[CalendarDay].get_import_formats()  # type: ignore[attr-defined]
    return str(next(i for i, f in enumerate(formats) if f().get_title() == "csv"))


def import_step(client: Client) -> Any:
    upload = io.BytesIO(CALENDAR_CSV.encode())
    upload.name = "calendar.csv"
    return client.post(
        reverse("admin:records_calendarday_import"),
        {"import_file": upload, "format": csv_format_index(), "resource": "0"},
    )


# --- Imports: only the owner of the table, and audited ------------------------------------------


def test_the_auditor_cannot_import_the_calendar(make_user) -> None:
    """The calendar decides every deadline; the auditor reads it and changes nothing (it could
    import one through django-import-export, which lets everyone import by default)."""
    client = signed_in(make_user("auditor"))
    days = list(CalendarDay.objects.values_list("date", "is_working", "kind", "note"))
    assert client.get(reverse("admin:records_calendarday_import")).status_code == 403
    assert import_step(client).status_code == 403
    confirm = {"import_file_name": "calendar.csv", "original_file_name": "calendar.csv", "format": "0"}
    assert client.post(reverse("admin:records_calendarday_process_import"), confirm).status_code == 403
    assert list(CalendarDay.objects.values_list("date", "is_working", "kind", "note")) == days
    assert not AuditEvent.objects.filter(action="calendar.import").exists()
    changelist = client.get(reverse("admin:records_calendarday_changelist")).content.decode()
    assert reverse("admin:records_calendarday_import") not in changelist  # no button either


def test_the_head_of_service_imports_the_calendar_and_the_import_is_audited(make_user) -> None:
    head = make_user("head_of_service")
    client = signed_in(head)
    preview = import_step(client)
    assert preview.status_code == 200
    assert not CalendarDay.objects.filter(date=NEW_DAY).exists()  # the preview is a dry run
    assert not AuditEvent.objects.filter(action="calendar.import").exists()
    confirm = preview.context["confirm_form"].initial
    response = client.post(reverse("admin:records_calendarday_process_import"), confirm)
    assert response.status_code == 302
    day = CalendarDay.objects.get(date=NEW_DAY)
    assert (day.is_working, day.kind, day.source) == (False, "transfer_off", CalendarDay.Source.ADMIN)
    event = AuditEvent.objects.get(action="calendar.import")
    assert (event.actor, event.actor_label) == (head, head.username)
    assert event.data["file"] == "calendar.csv"
    assert event.data["rows"] == {"new": [NEW_DAY]}
    assert event.data["totals"]["new"] == 1


def test_a_calendar_edit_in_the_admin_is_audited(make_user) -> None:
    head = make_user("head_of_service")
    day = CalendarDay.objects.get(date=date(2026, 12, 16))
    response = signed_in(head).post(
        reverse("admin:records_calendarday_change", args=[day.pk]),
        {
            "date": "2026-12-16",
            "is_working": "",
            "kind": day.kind,
            "name_kk": day.name_kk,
            "name_ru": day.name_ru,
            "name_en": day.name_en,
            "note": "Checked against the decree",
        },
    )
    assert response.status_code == 302, response.content[:300]
    event = AuditEvent.objects.get(action="calendar.change")
    assert (event.actor, event.object_pk, event.data) == (
        head,
        str(day.pk),
        {"date": "2026-12-16", "fields": ["note"]},
    )


# --- Reads of personal data are logged with the people read -------------------------------------


def sample_rows(sample: dict[str, Any]) -> dict[str, Any]:
    from contributions.models import LedgerEntry, OrderLine, PaymentOrder, Refund

    order = PaymentOrder.objects.get(pk=sample["order_detail"]["pk"])
    refund = Refund.objects.get(pk=sample["refund_decide"]["pk"])
    entry = LedgerEntry.objects.get(order=order)
    line = OrderLine.objects.filter(order=order).order_by("sequence").first()
    assert line is not None
    return {
        "contributions.orderline": (line, line.iin),
        "contributions.ledgerentry": (entry, entry.participant.iin),
        "contributions.paymentorder": (order, order.payer_idn),
        "contributions.refund": (refund, entry.participant.iin),
    }


@pytest.mark.parametrize(
    "label",
    ["contributions.orderline", "contributions.ledgerentry", "contributions.paymentorder", "contributions.refund"],
)
def test_opening_a_row_in_the_admin_is_logged_with_its_person(make_user, sample, label: str) -> None:
    auditor = make_user("auditor")
    row, iin = sample_rows(sample)[label]
    app, model = label.split(".")
    with triggers_off():
        AccessLog.objects.all().delete()
    response = signed_in(auditor).get(reverse(f"admin:{app}_{model}_change", args=[row.pk]))
    assert response.status_code == 200
    entry = AccessLog.objects.get()
    assert (entry.user, entry.kind, entry.view) == (auditor, AccessLog.Kind.VIEW, f"admin:{label}_change")
    assert iin in entry.query["iins"]
    if Participant.objects.filter(iin=iin).exists():
        assert entry.participant is not None
        assert entry.participant.iin == iin
    assert list(access_log(iin=iin)) == [entry]  # "who read person X" finds it


def test_an_admin_list_logs_the_people_on_the_page(make_user, sample) -> None:
    from contributions.models import LedgerEntry

    auditor = make_user("auditor")
    signed_in(auditor).get(reverse("admin:contributions_ledgerentry_changelist"))
    entry = AccessLog.objects.get(view="admin:contributions.ledgerentry_changelist")
    shown = {e.participant.iin for e in LedgerEntry.objects.all()}
    assert shown <= set(entry.query["iins"])
    assert all(entry in access_log(iin=iin) for iin in shown)


def export(client: Client, label: str, fmt: str = "csv", fields: tuple[str, ...] = ("id",)) -> Any:
    from django.apps import apps
    from django.contrib import admin

    from records.export_formats import EXPORT_FORMATS

    app, model = label.split(".")
    model_admin = admin.site._registry[apps.get_model(label)]
    resource = model_admin.get_export_resource_classes(None)[0].__name__.lower()  # type: ignore[attr-defined]
    index = next(i for i, f in enumerate(EXPORT_FORMATS) if f().get_title() == fmt)
    return client.post(
        reverse(f"admin:{app}_{model}_export"),
        {"format": str(index), "resource": "0", **{f"{resource}_{name}": "on" for name in fields}},
    )


def test_an_export_logs_everyone_in_the_file_and_the_access_log_finds_each(make_user, sample, people) -> None:
    """Not only how many rows, but whose: "who read person X" is answered for exports too,
    with every person of the file (up to the export limit), however many there are."""
    from contributions.models import OrderLine

    auditor = make_user("auditor")
    response = export(signed_in(auditor), "contributions.orderline", fields=("id", "iin", "last_name"))
    assert response["Content-Disposition"].startswith("attachment")
    entry = AccessLog.objects.get(kind=AccessLog.Kind.EXPORT)
    in_the_file = sorted(set(OrderLine.objects.values_list("iin", flat=True)))
    assert entry.query["iins"] == [iin for iin in in_the_file if len(iin) == 12]
    assert entry.row_count == OrderLine.objects.count()
    for iin in entry.query["iins"]:
        assert entry in access_log(iin=iin)
    page = signed_in(auditor).get(reverse("access_log"), {"iin": people[1].iin})
    assert entry in page.context["page"].object_list  # the access log page's IIN filter


def test_an_export_of_a_history_table_is_logged_with_its_people(participant) -> None:
    root = User.objects.create_superuser("root-history", password="x")
    response = export(signed_in(root), "records.participantevent", fields=("pgh_id", "iin", "last_name"))
    assert response["Content-Disposition"].startswith("attachment")
    entry = AccessLog.objects.get(kind=AccessLog.Kind.EXPORT)
    assert (entry.view, entry.query["iins"]) == ("admin:records.participantevent", [participant.iin])


def test_an_export_needs_the_right_to_read_the_table(make_user) -> None:
    """The export is a read: a table a role cannot list, it cannot export either (the head of
    service uses the admin but does not read the workers' heartbeats)."""
    from standards.roles import ROLES_BY_KEY

    assert "records.view_workerheartbeat" not in ROLES_BY_KEY["head_of_service"].permissions
    client = signed_in(make_user("head_of_service"))
    assert client.get(reverse("admin:records_workerheartbeat_changelist")).status_code == 403
    assert client.get(reverse("admin:records_workerheartbeat_export")).status_code == 403


# --- Bad input: NUL, control characters ---------------------------------------------------------


def test_a_search_with_nul_is_the_search_without_it_and_is_logged(make_user, participant) -> None:
    auditor = make_user("auditor")
    response = signed_in(auditor).get(reverse("admin:records_participant_changelist"), {"q": participant.iin + "\x00"})
    assert response.status_code == 200
    assert participant.last_name in response.content.decode()
    entry = AccessLog.objects.get(view="admin:records.participant_changelist")
    assert (entry.query["q"], entry.query["iins"]) == ([participant.iin], [participant.iin])


def test_an_xlsx_export_writes_control_characters_as_their_pictures(make_user, participant) -> None:
    """openpyxl refuses control characters (IllegalCharacterError) and failed the whole export;
    a payer's file or the registry may well hold one in a name."""
    from openpyxl import load_workbook

    Participant.objects.filter(pk=participant.pk).update(last_name="ИВА\x01НОВ", first_name="ИВАН\x1b")
    response = export(
        signed_in(make_user("auditor")), "records.participant", "xlsx", ("iin", "last_name", "first_name")
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[2]] == [participant.iin, "ИВА␁НОВ", "ИВАН␛"]
    assert AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT, row_count=1).exists()


def test_an_export_that_fails_is_not_logged(make_user, participant, monkeypatch) -> None:
    """The access log says a file went out only when one did."""
    from records import export_formats

    def fail(self: Any, dataset: Any, **kwargs: Any) -> Any:
        raise OSError("no space left on device")

    monkeypatch.setattr(export_formats.CSV, "export_data", fail)
    with pytest.raises(OSError, match="no space left"):
        export(signed_in(make_user("auditor")), "records.participant", "csv", ("iin",))
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()


@pytest.mark.parametrize(
    "query", ["?period__lt=garbage", "?period__gte=garbage&period__lt=2023-13-01", "?period__lt=9999-12-31T23:59"]
)
def test_an_export_with_a_filter_the_list_cannot_apply_goes_back_to_the_list(make_user, sample, query: str) -> None:
    """django-import-export builds the list's queryset for the export without catching
    ``IncorrectLookupParameters``: a 500. The export answers as the list does (back to it,
    ``?e=1``), says why, and exports and logs nothing; the form (GET) and the file (POST) alike."""
    from django.contrib import admin

    from contributions.models import LedgerEntry

    model_admin: Any = admin.site._registry[LedgerEntry]
    csv_index = next(i for i, f in enumerate(model_admin.get_export_formats()) if f().get_title() == "csv")
    client = signed_in(make_user("auditor"), "en")
    url = reverse("admin:contributions_ledgerentry_export") + query
    back = reverse("admin:contributions_ledgerentry_changelist") + "?e=1"
    for response in (
        client.get(url),
        client.post(url, {"format": str(csv_index), "resource": "0", "ledgerentryresource_id": "on"}),
    ):
        assert (response.status_code, response["Location"]) == (302, back)
    page = client.get(back)
    assert page.status_code == 200
    assert "The list&#x27;s filters are not valid, so nothing was exported." in page.content.decode()
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()


# --- Names in the reader's language -------------------------------------------------------------

OURS = {"records", "contributions", "standards", "payments"}


def english_names() -> set[str]:
    """The English names of our models, as the admin would show them untranslated."""
    from django.contrib import admin
    from django.utils.text import capfirst

    names: set[str] = set()
    with translation.override("en"):
        for model in admin.site._registry:
            if model._meta.app_label in OURS:
                names.update(capfirst(str(n)) for n in (model._meta.verbose_name_plural, model._meta.verbose_name))
    return names


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_admin_names_our_models_in_the_readers_language(language: str, sample) -> None:
    root = User.objects.create_superuser("root-names", password="x")
    client = signed_in(root, language)
    english = english_names()
    assert "Payment order history" in english  # the row history tables too
    for address in (
        reverse("admin:index"),
        reverse("admin:contributions_ledgerentry_changelist"),
        reverse("admin:contributions_paymentorderevent_changelist"),
        reverse("admin:contributions_refund_changelist"),
    ):
        text = visible_text(client.get(address).content.decode())
        left = sorted(n for n in english if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text))
        assert not left, (address, left)
    index = visible_text(client.get(reverse("admin:index")).content.decode())
    for library_name in ("Access attempts", "Periodic tasks", "Crontabs", "Solar events", "Intervals", "Events"):
        assert not re.search(rf"(?<!\w){library_name}(?!\w)", index), library_name


def test_a_ledger_entry_reads_in_the_readers_language(sample) -> None:
    from contributions.models import LedgerEntry, OrderLine, Refund

    entry = LedgerEntry.objects.get(order_id=sample["order_detail"]["pk"])
    with translation.override("kk"):
        kk = str(entry)
        line = str(OrderLine.objects.filter(order_id=entry.order_id).first())
        refund = str(Refund.objects.get())
    with translation.override("en"):
        en = str(entry)
    assert en == f"{entry.participant.iin} {entry.period:%Y-%m}: Social contribution 7,000.00"
    assert kk.startswith(f"{entry.participant.iin} {entry.period:%Y-%m}: Әлеуметтік аударымдар 7")
    assert "contribution" not in kk
    assert "7000.00" not in kk
    assert "жол" in line
    assert "line" not in line
    assert "өтініш" in refund


def test_history_names_and_roles_read_in_the_readers_language(participant) -> None:
    from django.apps import apps

    from standards.models import Role

    ParticipantEvent = apps.get_model("records", "ParticipantEvent")
    event = ParticipantEvent.objects.filter(pgh_obj=participant).first()
    with translation.override("ru"):
        assert str(ParticipantEvent._meta.verbose_name_plural) == "история участников"
        assert "Запись добавлена" in str(event)
        assert str(Role.objects.get(key="auditor")) == "Аудитор"
