"""The state registry: snapshot loading (bad rows, reloads, change records) and batch lookup."""

from __future__ import annotations

import hashlib
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils.text import capfirst

from records.models import AuditEvent, Participant, PersonalDataChange, RegistryLoad, RegistryPerson
from records.registry import LOOKUP_BY_IIN, SnapshotRegistry, get_registry, registry_load_snapshot
from records.services import Actor, participant_create
from records.synthetic import registry_csv, synthetic_people
from tests.conftest import statements_sent

pytestmark = pytest.mark.django_db

HEADER = "iin,last_name,first_name,patronymic,birth_date,gender,death_date\n"
IVANOV = "791028302728,ИВАНОВ,ИВАН,ИВАНОВИЧ,1979-10-28,M,\n"
SERIKOV = "850615300012,СЕРИКОВ,ДАНИЯР,,1985-06-15,M,\n"
ASEL = "061211600012,ӘБІЛҚАСЫМОВА,ӘСЕЛ,ҰЛАНҚЫЗЫ,2006-12-11,F,\n"
ACTOR = Actor(label="test")


def load(text: str, name: str = "snapshot.csv") -> RegistryLoad:
    return registry_load_snapshot(raw=text.encode("utf-8"), file_name=name, actor=ACTOR)


def test_load_inserts_good_rows_and_keeps_the_raw_file() -> None:
    text = HEADER + IVANOV + SERIKOV + ASEL
    result = load(text)
    assert result.status == RegistryLoad.Status.LOADED
    assert (result.rows_total, result.rows_inserted, result.rows_updated, result.rows_rejected) == (3, 3, 0, 0)
    assert bytes(result.raw) == text.encode("utf-8")
    assert result.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    person = RegistryPerson.objects.get(iin="061211600012")
    assert (person.last_name, person.patronymic, person.gender) == ("ӘБІЛҚАСЫМОВА", "ҰЛАНҚЫЗЫ", "F")
    assert person.birth_date == date(2006, 12, 11)
    assert AuditEvent.objects.filter(action="registry.load", object_pk=str(result.pk)).exists()


def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_kept() -> None:
    text = (
        HEADER
        + IVANOV  # line 2
        + "791028302727,ПЕТРОВ,ПЁТР,,1979-10-28,M,\n"  # 3: check digit
        + "850615300012,СЕРИКОВ,ДАНИЯР,,15.06.1985,M,\n"  # 4: date format
        + "061211600012,,ӘСЕЛ,,2006-12-11,F,\n"  # 5: empty surname
        + "940140000385,ТОО,Х,,2001-01-01,X,\n"  # 6: gender
        + "791028302728,ИВАНОВ,ИВАН,,1979-10-28,M,\n"  # 7: repeats line 2
        + "990140004654,A,B\n"  # 8: column count
        + "150540012348,A,B,,2001-01-01,M,2000-01-01\n"  # 9: death before birth
        + SERIKOV  # 10: good
    )
    result = load(text)
    errors = {e["line"]: e["reason"] for e in result.errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]
    assert "check_digit" in errors[3]
    assert "birth_date" in errors[4]
    assert "ISO" in errors[4]
    assert "last_name is empty" in errors[5]
    assert "gender" in errors[6]
    assert "repeats line 2" in errors[7]
    assert "columns" in errors[8]
    assert "death_date is before birth_date" in errors[9]
    assert (result.rows_total, result.rows_inserted, result.rows_rejected) == (9, 2, 7)
    assert set(RegistryPerson.objects.values_list("iin", flat=True)) == {"791028302728", "850615300012"}


@pytest.mark.parametrize(
    ("raw", "line", "reason"),
    [
        (b"iin,name\n791028302728,X\n", 1, "header"),
        (b"", 1, "empty"),
        (HEADER.encode() + IVANOV.encode("cp1251"), 2, "UTF-8"),
    ],
)
def test_unusable_file_is_stored_rejected_and_nothing_else_written(raw: bytes, line: int, reason: str) -> None:
    result = registry_load_snapshot(raw=raw, file_name="bad.csv", actor=ACTOR)
    assert result.status == RegistryLoad.Status.REJECTED
    assert result.errors[0]["line"] == line
    assert reason in result.errors[0]["reason"]
    assert bytes(RegistryLoad.objects.get(pk=result.pk).raw) == raw
    assert not RegistryPerson.objects.exists()


LONG_SURNAME = "А" * 150  # the surname column holds 100


def test_a_nul_or_an_overlong_name_refuses_its_row_naming_the_field_not_the_whole_load() -> None:
    """PostgreSQL refuses a NUL in text and a name longer than its column: before, either one
    raised inside the load and rolled it back, the raw file with it."""
    text = (
        HEADER
        + IVANOV  # line 2: good
        + f"850615300012,{LONG_SURNAME},ДАНИЯР,,1985-06-15,M,\n"  # 3
        + "061211600012,ӘБІЛҚАСЫМОВА,ӘС\x00ЕЛ,,2006-12-11,F,\n"  # 4
        + "150540012348,А,Б,В\x00,2001-01-01,M,\n"  # 5
        + f"940140000385,А,Б,{'В' * 101},2001-01-01,M,\n"  # 6
    )
    result = load(text)
    assert result.status == RegistryLoad.Status.LOADED
    assert {e["line"]: e["reason"] for e in result.errors} == {
        3: "last_name is longer than 100 characters (150)",
        4: "first_name contains a NUL character",
        5: "patronymic contains a NUL character",
        6: "patronymic is longer than 100 characters (101)",
    }
    assert (result.rows_inserted, result.rows_rejected) == (1, 4)
    assert set(RegistryPerson.objects.values_list("iin", flat=True)) == {"791028302728"}
    assert bytes(result.raw) == text.encode()


def test_a_file_name_with_a_nul_is_stored_with_the_file() -> None:
    result = load(HEADER + IVANOV, name="snap\x00shot.csv")
    assert (result.status, result.file_name) == (RegistryLoad.Status.LOADED, "snap\ufffdshot.csv")


def test_the_widths_checked_are_the_models_columns() -> None:
    from django.db.models import CharField

    from records.registry import NAME_WIDTHS

    for column, width in NAME_WIDTHS.items():
        registry, participant = (model._meta.get_field(column) for model in (RegistryPerson, Participant))
        assert isinstance(registry, CharField)
        assert isinstance(participant, CharField)
        assert width == registry.max_length
        assert width <= (participant.max_length or 0)


@pytest.fixture
def unchecked_names(monkeypatch):
    """Rows that the checks let through although PostgreSQL refuses them, as every such value
    was before: whatever the checks miss, a failing load must keep its file and say why."""
    from records import registry

    monkeypatch.setattr(registry, "_text_problem", lambda column, value: None)


def test_a_load_that_fails_in_the_database_is_kept_and_marked_failed(unchecked_names) -> None:
    load(HEADER + SERIKOV)
    text = HEADER + IVANOV + f"850615300012,{LONG_SURNAME},ДАНИЯР,,1985-06-15,M,\n"
    result = load(text, name="long.csv")
    stored = RegistryLoad.objects.get(pk=result.pk)
    assert stored.status == RegistryLoad.Status.FAILED
    assert stored.error.startswith("DataError: value too long")
    assert bytes(stored.raw) == text.encode()
    assert stored.sha256 == hashlib.sha256(text.encode()).hexdigest()
    # Nothing of its rows: not Ivanov, and Serikov as the first load left him.
    assert list(RegistryPerson.objects.values_list("iin", "last_name")) == [("850615300012", "СЕРИКОВ")]
    assert AuditEvent.objects.filter(action="registry.store", object_pk=str(result.pk)).exists()
    assert AuditEvent.objects.get(action="registry.fail").data == {"error": stored.error}
    assert not AuditEvent.objects.filter(action="registry.load", object_pk=str(result.pk)).exists()
    # Applying it again does nothing: a failed load stays as it was left, for staff to see.
    from records.registry import registry_apply_snapshot

    assert registry_apply_snapshot(load_id=result.pk, actor=ACTOR).status == RegistryLoad.Status.FAILED


def test_reload_is_idempotent() -> None:
    text = HEADER + IVANOV + SERIKOV
    load(text)
    again = load(text)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    assert RegistryPerson.objects.count() == 2
    assert not PersonalDataChange.objects.exists()


def test_reload_with_changes_updates_participants_and_records_old_and_new_values() -> None:
    load(HEADER + IVANOV + SERIKOV)
    ivanov = participant_create(
        iin="791028302728",
        actor=ACTOR,
        source="test",
        last_name="ИВАНОВ",
        first_name="ИВАН",
        patronymic="ИВАНОВИЧ",
        birth_date=date(1979, 10, 28),
        gender="M",
    )
    changed = load(
        HEADER + "791028302728,ИВАНОВ-ПЕТРОВ,ИВАН,ИВАНОВИЧ,1979-10-28,M,2026-01-15\n" + SERIKOV, name="second.csv"
    )
    assert (changed.rows_updated, changed.rows_unchanged, changed.participants_changed) == (1, 1, 1)
    ivanov.refresh_from_db()
    assert ivanov.last_name == "ИВАНОВ-ПЕТРОВ"
    assert ivanov.death_date == date(2026, 1, 15)
    changes = {c.field: c for c in PersonalDataChange.objects.filter(participant=ivanov)}
    assert set(changes) == {"last_name", "death_date"}
    assert (changes["last_name"].old_value, changes["last_name"].new_value) == ("ИВАНОВ", "ИВАНОВ-ПЕТРОВ")
    assert (changes["death_date"].old_value, changes["death_date"].new_value) == ("", "2026-01-15")
    assert changes["last_name"].registry_load == changed
    assert "second.csv" in changes["last_name"].source
    # The same file again changes nothing and records nothing more.
    load(HEADER + "791028302728,ИВАНОВ-ПЕТРОВ,ИВАН,ИВАНОВИЧ,1979-10-28,M,2026-01-15\n" + SERIKOV)
    assert PersonalDataChange.objects.filter(participant=ivanov).count() == 2


def test_lookup_many_answers_in_one_query() -> None:
    load(HEADER + IVANOV + SERIKOV + ASEL)
    registry = get_registry()
    assert isinstance(registry, SnapshotRegistry)
    wanted = ["791028302728", "061211600012", "000000000000"] + [f"{n:012d}" for n in range(3000)]
    with statements_sent() as sent:
        found = registry.lookup_many(wanted)
    assert len(sent) == 1, sent
    assert set(found) == {"791028302728", "061211600012"}
    assert found["061211600012"].first_name == "ӘСЕЛ"
    assert found["791028302728"].death_date is None
    assert registry.lookup_many([]) == {}


@pytest.mark.parametrize("analyzed", [False, True])
@pytest.mark.parametrize("table", ["records_registryperson", "records_participant"])
def test_lookups_by_iin_probe_the_index_whatever_the_table_size(table: str, analyzed: bool) -> None:
    """A plain ``iin = ANY(...)`` was planned as a scan of the whole participant table (hashed
    against the hundred IINs of an order) once the table had a few thousand rows: a hundred index
    probes cost a fraction of that. The lookup must stay a probe per IIN."""
    people = list(synthetic_people(5000, seed=11))
    load(registry_csv(people).decode())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO records_participant (iin, last_name, first_name, patronymic, birth_date, gender,"
            " address, postal_code, id_document_series, id_document_number, id_document_issuer, citizenship,"
            " created_at, updated_at) SELECT iin, last_name, first_name, patronymic, birth_date, gender,"
            " '', '', '', '', '', '', now(), now() FROM records_registryperson"
        )
        if analyzed:
            cursor.execute(f"ANALYZE {table}")
        columns = "found.iin" if table == "records_registryperson" else "found.id, found.iin"
        cursor.execute("EXPLAIN " + LOOKUP_BY_IIN.format(columns=columns, table=table), [[p.iin for p in people[:100]]])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan" in plan or "Index Only Scan" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_load_registry_command_prints_counts_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(HEADER + IVANOV + "791028302727,X,Y,,1979-10-28,M,\n", encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("load_registry", str(path), stdout=out, stderr=err)
    assert "read 2, inserted 1, updated 0, unchanged 0, rejected 1" in out.getvalue()
    assert f"{path}:3:" in err.getvalue()


def test_load_registry_command_fails_on_an_unusable_file(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text("wrong,header\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"registry.csv:1: the header must be"):
        call_command("load_registry", str(path))
    assert RegistryLoad.objects.get().status == RegistryLoad.Status.REJECTED


def test_load_registry_command_lists_a_nul_and_an_overlong_name_as_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "registry.csv"
    path.write_text(
        HEADER
        + IVANOV
        + "850615300012,СЕРИКОВ,ДА\x00НИЯР,,1985-06-15,M,\n"
        + f"061211600012,{LONG_SURNAME},Ә,,2006-12-11,F,\n",
        encoding="utf-8",
    )
    out, err = StringIO(), StringIO()
    call_command("load_registry", str(path), stdout=out, stderr=err)
    assert "read 3, inserted 1, updated 0, unchanged 0, rejected 2" in out.getvalue()
    assert f"{path}:3: first_name contains a NUL character" in err.getvalue()
    assert f"{path}:4: last_name is longer than 100 characters (150)" in err.getvalue()


def test_load_registry_command_says_a_load_failed_and_keeps_the_file(tmp_path: Path, unchecked_names) -> None:
    path = tmp_path / "registry.csv"
    raw = (HEADER + "850615300012,СЕРИКОВ,ДА\x00НИЯР,,1985-06-15,M,\n").encode()
    path.write_bytes(raw)
    with pytest.raises(CommandError, match=r"registry\.csv: loading failed, nothing of it was loaded: DataError"):
        call_command("load_registry", str(path))
    stored = RegistryLoad.objects.get()
    assert (stored.status, bytes(stored.raw)) == (RegistryLoad.Status.FAILED, raw)
    assert not RegistryPerson.objects.exists()


def test_load_registry_command_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"missing\.csv"):
        call_command("load_registry", str(tmp_path / "missing.csv"))


def test_the_shared_sample_snapshot_loads_cleanly() -> None:
    sample = Path(__file__).resolve().parents[3] / "shared" / "samples" / "registry.csv"
    if not sample.exists():
        pytest.skip("the shared samples are not beside this checkout")
    result = registry_load_snapshot(raw=sample.read_bytes(), file_name=sample.name, actor=ACTOR)
    assert result.rows_rejected == 0
    assert result.rows_inserted == RegistryPerson.objects.count() > 30


def test_participant_create_validates_the_iin() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        participant_create(
            iin="791028302727",
            actor=ACTOR,
            source="test",
            last_name="X",
            first_name="Y",
            birth_date=date(1979, 10, 28),
            gender="M",
        )
    assert not Participant.objects.exists()


def test_change_of_personal_items_through_the_service_leaves_dated_records() -> None:
    from records.services import participant_change_personal_data

    participant = participant_create(
        iin="850615300012",
        actor=ACTOR,
        source="test",
        last_name="СЕРИКОВ",
        first_name="ДАНИЯР",
        birth_date=date(1985, 6, 15),
        gender="M",
        id_document_number="012345678",
    )
    records = participant_change_personal_data(
        participant_id=participant.pk,
        changes={"id_document_number": "098765432", "id_document_issued_on": date(2026, 2, 1), "first_name": "ДАНИЯР"},
        actor=ACTOR,
        source="identity document replaced",
        changed_on=date(2026, 2, 3),
    )
    assert {(r.field, r.old_value, r.new_value) for r in records} == {
        ("id_document_number", "012345678", "098765432"),
        ("id_document_issued_on", "", "2026-02-01"),
    }
    assert all(r.changed_on == date(2026, 2, 3) for r in records)
    participant.refresh_from_db()
    assert participant.id_document_number == "098765432"
    assert AuditEvent.objects.filter(action="participant.change_personal_data").count() == 1
    # Nothing changed: nothing written.
    assert (
        participant_change_personal_data(
            participant_id=participant.pk, changes={"first_name": "ДАНИЯР"}, actor=ACTOR, source="x"
        )
        == []
    )
    with pytest.raises(ValueError, match="iin"):
        participant_change_personal_data(participant_id=participant.pk, changes={"iin": "1"}, actor=ACTOR, source="x")


# --- The staff page that loads a snapshot -------------------------------------------------------

BAD_ROWS = (
    HEADER + IVANOV + "791028302727,ПЕТРОВ,ПЁТР,,1979-10-28,M,\n" + "850615300012,СЕРИКОВ,ДАНИЯР,,15.06.1985,M,\n"
)


@pytest.fixture
def loader():
    """Whoever may load the registry (``records.add_registryload``; no staff role holds it)."""
    from django.contrib.auth.models import Permission, User
    from django.test import Client

    user = User.objects.create_user("loader", password="pw-123456789")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_registryload", "view_registryload"]))
    client = Client(HTTP_ACCEPT_LANGUAGE="kk")
    client.force_login(user)
    return client, user


def upload(client, text: bytes, name: str = "snapshot.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    return client.post(reverse("registry_upload"), {"file": SimpleUploadedFile(name, text)}, follow=True)


def test_the_registry_page_loads_a_snapshot_and_lists_the_refused_rows(loader) -> None:
    from django.utils import translation

    client, user = loader
    response = upload(client, BAD_ROWS.encode())
    result = RegistryLoad.objects.get()
    assert response.redirect_chain[-1][0] == f"/registry/loads/{result.pk}/"
    # Loaded as by manage.py load_registry: the raw file kept, good rows in, an audit event.
    assert bytes(result.raw) == BAD_ROWS.encode()
    assert (result.loaded_by, result.rows_inserted, result.rows_rejected) == (user.username, 1, 2)
    assert set(RegistryPerson.objects.values_list("iin", flat=True)) == {"791028302728"}
    event = AuditEvent.objects.get(action="registry.load")
    assert event.actor == user
    page = response.content.decode()
    with translation.override("kk"):
        warned = translation.gettext("Loaded, except the rows listed below.")
        check_digit = translation.gettext("The IIN %(value)s is not valid (%(code)s).") % {
            "value": "'791028302727'",
            "code": "check_digit",
        }
    assert warned in page
    assert "<td>3</td>" in page  # the lines refused
    assert "<td>4</td>" in page
    assert check_digit.replace("'", "&#x27;") in page  # the reason in the reader's language
    assert "is not an ISO date" not in page


def test_a_file_refused_as_a_whole_is_kept_and_said(loader) -> None:
    client, _user = loader
    response = upload(client, b"iin,name\n1,2\n", name="wrong.csv")
    result = RegistryLoad.objects.get()
    assert result.status == RegistryLoad.Status.REJECTED
    assert bytes(result.raw) == b"iin,name\n1,2\n"
    assert AuditEvent.objects.filter(action="registry.reject").exists()
    assert "iin,last_name,first_name" in response.content.decode()  # the header expected
    assert not RegistryPerson.objects.exists()


def test_the_registry_page_refuses_the_rows_postgresql_cannot_hold_and_loads_the_rest(loader) -> None:
    from django.utils import translation

    client, _user = loader
    text = (
        HEADER
        + IVANOV
        + f"850615300012,{LONG_SURNAME},ДАНИЯР,,1985-06-15,M,\n"
        + "061211600012,Ә,Ә\x00,,2006-12-11,F,\n"
    )
    response = upload(client, text.encode())
    assert response.status_code == 200
    result = RegistryLoad.objects.get()
    assert (result.status, result.rows_inserted, result.rows_rejected) == (RegistryLoad.Status.LOADED, 1, 2)
    page = response.content.decode()
    with translation.override("kk"):
        too_long = translation.gettext("The %(column)s is longer than %(width)s characters (%(length)s).") % {
            "column": translation.gettext("surname"),
            "length": 150,
            "width": 100,
        }
        nul = translation.gettext("The %(column)s contains a NUL character.") % {
            "column": translation.gettext("first name")
        }
    assert "<td>3</td>" in page
    assert capfirst(too_long) in page
    assert "<td>4</td>" in page
    assert capfirst(nul) in page


def test_a_load_that_fails_is_kept_and_said_on_its_page_never_a_500(loader, unchecked_names) -> None:
    from django.utils import translation

    client, _user = loader
    raw = (HEADER + IVANOV + f"850615300012,{LONG_SURNAME},ДАНИЯР,,1985-06-15,M,\n").encode()
    response = upload(client, raw, name="long.csv")
    result = RegistryLoad.objects.get()
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/registry/loads/{result.pk}/"
    assert (result.status, bytes(result.raw), result.file_name) == (RegistryLoad.Status.FAILED, raw, "long.csv")
    assert not RegistryPerson.objects.exists()
    page = response.content.decode()
    with translation.override("kk"):
        said = translation.gettext("The file was kept, but loading it failed; nothing of it was loaded.")
        status = translation.gettext("Loading failed")
    assert said in page
    assert status in page
    assert "DataError: value too long" in page
    assert "long.csv" in client.get("/registry/").content.decode()  # listed among the loads


def test_the_admin_upload_says_a_load_failed_and_keeps_the_file(unchecked_names) -> None:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(User.objects.create_superuser("root", "root@example.kz", "x" * 16))
    raw = (HEADER + f"850615300012,{LONG_SURNAME},ДАНИЯР,,1985-06-15,M,\n").encode()
    response = client.post(
        "/admin/records/registryload/upload/", {"file": SimpleUploadedFile("long.csv", raw)}, follow=True
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "The file was kept, but loading it failed; nothing of it was loaded."
    ]
    assert (RegistryLoad.objects.get().status, bytes(RegistryLoad.objects.get().raw)) == ("failed", raw)


def test_the_registry_page_needs_the_permission_to_load(make_user) -> None:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(make_user("head_of_unit"))  # the head of service loads it, no one below
    assert client.get(reverse("registry_upload")).status_code == 403
    assert upload(client, BAD_ROWS.encode()).status_code == 403
    assert not RegistryLoad.objects.exists()


@pytest.mark.parametrize(
    "reason",
    [
        "expected 7 columns, found 3",
        "iin '1' is not a valid IIN (length)",
        "last_name is empty",
        "first_name is empty",
        "birth_date '15.06.1985' is not an ISO date (YYYY-MM-DD)",
        "gender 'X' is not M or F",
        "first_name contains a NUL character",
        "last_name is longer than 100 characters (150)",
        "death_date is before birth_date",
        "iin 791028302728 repeats line 2",
        "not UTF-8 text (byte 40)",
        "the file is empty",
        "the header must be iin,last_name,first_name,patronymic,birth_date,gender,death_date",
        "malformed CSV: new-line character seen in unquoted field",
    ],
)
def test_every_reason_of_the_loader_is_worded_in_kazakh_and_russian(reason: str) -> None:
    from django.utils import translation

    from records.templatetags.records_labels import registry_error_label

    for language in ("kk", "ru"):
        with translation.override(language):
            worded = registry_error_label(reason)
        assert worded != reason
        assert not any(word in worded for word in ("expected", "empty", "header", "before", "repeats"))


# --- The demo registry of the quick start -----------------------------------------------------


def test_seed_demo_loads_the_people_of_the_sample_orders(settings, tmp_path: Path) -> None:
    settings.DEBUG = True
    sample = tmp_path / "registry.csv"
    sample.write_text(HEADER + IVANOV + SERIKOV, encoding="utf-8")
    out = StringIO()
    call_command("seed_demo", "--people", "20", "--sample-registry", str(sample), stdout=out)
    assert RegistryPerson.objects.filter(iin__in=["791028302728", "850615300012"]).count() == 2
    assert RegistryPerson.objects.count() == 22
    assert "Sample orders' registry" in out.getvalue()
    # Without the file (a checkout without the shared samples): the synthetic people only.
    call_command("seed_demo", "--people", "20", "--sample-registry", str(tmp_path / "none.csv"), stdout=StringIO())


def test_after_seed_demo_the_sample_orders_are_checked_against_their_people(settings) -> None:
    """The quick start: ``seed_demo`` then ``ingest ../shared/samples/*.mt102``. The clean order
    is posted in full; the order with returns returns only the lines meant to be returned."""
    from contributions.models import PaymentOrder
    from contributions.services import intake_file, process_order
    from records.synthetic import SAMPLE_REGISTRY

    if not SAMPLE_REGISTRY.exists():
        pytest.skip("the shared samples are not beside this checkout")
    settings.DEBUG = True
    call_command("seed_demo", "--people", "50", stdout=StringIO())
    for path in sorted(SAMPLE_REGISTRY.parent.glob("*.mt102")):
        # Received on the last document date of the samples (the penalty order is of 27 November).
        result = intake_file(
            raw=path.read_bytes(), file_name=path.name, door="command", actor=ACTOR, received=date(2023, 11, 27)
        )
        for order in result.orders:
            process_order(order_id=order.pk, actor=ACTOR)
    orders = {order.reference: order for order in PaymentOrder.objects.all()}
    reasons = {
        ref: set(order.lines.exclude(reason="").values_list("reason", flat=True)) for ref, order in orders.items()
    }
    # Before, the demo registry knew none of the samples' people: every line came back unknown_iin.
    assert orders["PE231127000003"].status == "posted"
    assert reasons["SO231124000001"] == {"deceased"}  # the sample's one person who died before the period
    assert orders["SO231124000001"].lines_posted == orders["SO231124000001"].lines_total - 1
    assert reasons["SO231124000002"] == {"invalid_iin", "unknown_iin", "birth_date_mismatch", "deceased"}
    assert orders["SO231124000002"].lines_posted > 0


def test_a_load_left_stored_but_not_applied_is_applied_by_the_sweep() -> None:
    """The process died between storing the file and applying it: beat's sweep applies it."""
    from datetime import timedelta

    from django.utils import timezone

    from records.registry import registry_store_snapshot, registry_sweep_loads

    stored = registry_store_snapshot(raw=(HEADER + IVANOV).encode(), file_name="left.csv", actor=ACTOR)
    assert registry_sweep_loads(actor=ACTOR) == 0  # not yet: it may still be in hand
    RegistryLoad.objects.filter(pk=stored.pk).update(loaded_at=timezone.now() - timedelta(minutes=10))
    assert registry_sweep_loads(actor=ACTOR) == 1
    assert RegistryLoad.objects.get(pk=stored.pk).status == RegistryLoad.Status.LOADED
    assert RegistryPerson.objects.filter(iin="791028302728").exists()
    assert registry_sweep_loads(actor=ACTOR) == 0
