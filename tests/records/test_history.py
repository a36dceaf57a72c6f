"""Row history (django-pghistory): triggers capture every write, bulk and raw SQL included."""

from __future__ import annotations

from datetime import date

import pghistory
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from records.models import CalendarDay, Participant, RegistryPerson

pytestmark = pytest.mark.django_db


def events(model, **filters):
    return pghistory.models.Events.objects.references(model).filter(**filters).order_by("pgh_created_at")


def test_queryset_update_and_raw_sql_are_captured_with_context(participant: Participant) -> None:
    with pghistory.context(actor="task:test"):
        Participant.objects.filter(pk=participant.pk).update(address="АСТАНА, ҚОНАЕВ 1")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE records_participant SET postal_code = 'Z05T3E' WHERE id = %s", [participant.pk])
    history = list(participant.events.order_by("pgh_id"))  # type: ignore[attr-defined]
    assert [e.pgh_label for e in history] == ["insert", "update", "update"]
    assert history[1].address == "АСТАНА, ҚОНАЕВ 1"
    assert history[1].pgh_context.metadata["actor"] == "task:test"
    assert history[2].postal_code == "Z05T3E"


def test_bulk_registry_loads_are_captured() -> None:
    from records.registry import registry_load_snapshot
    from records.services import Actor

    csv = "iin,last_name,first_name,patronymic,birth_date,gender,death_date\n791028302728,А,Б,,1979-10-28,M,\n"
    registry_load_snapshot(raw=csv.encode(), file_name="a.csv", actor=Actor(label="test"))
    registry_load_snapshot(raw=csv.replace(",А,", ",АА,").encode(), file_name="b.csv", actor=Actor(label="test"))
    person = RegistryPerson.objects.get()
    labels = [e.pgh_label for e in person.events.order_by("pgh_id")]  # type: ignore[attr-defined]
    assert labels == ["insert", "update"]


def test_a_web_request_attaches_the_user(make_user) -> None:
    head = make_user("head_of_service")
    client = Client()
    client.force_login(head)
    day = CalendarDay.objects.get(date=date(2027, 5, 16))
    response = client.post(
        reverse("admin:records_calendarday_change", args=[day.pk]),
        {"date": "2027-05-16", "kind": "religious", "name_kk": "Құрбан айт", "name_ru": "Курбан айт",
         "name_en": "Eid al-Adha", "note": "confirmed"},
    )  # fmt: skip
    assert response.status_code == 302
    event = day.events.order_by("-pgh_id").first()  # type: ignore[attr-defined]
    assert event.note == "confirmed"
    assert event.pgh_context.metadata["user"] == head.pk


def test_a_command_attaches_its_name(tmp_path) -> None:
    from django.core.management import call_command

    path = tmp_path / "r.csv"
    path.write_text(
        "iin,last_name,first_name,patronymic,birth_date,gender,death_date\n791028302728,А,Б,,1979-10-28,M,\n"
    )
    call_command("load_registry", str(path), stdout=__import__("io").StringIO())
    event = RegistryPerson.objects.get().events.get()  # type: ignore[attr-defined]
    assert event.pgh_context.metadata["actor"] == "command:load_registry"


def test_role_assignment_history_names_the_head(make_user) -> None:
    from standards.models import UserGroupsEvent
    from standards.services import role_assign

    head = make_user("head_of_unit", username="head")
    clerk = make_user(None, username="clerk")
    role_assign(user_id=clerk.pk, role_key="specialist", actor=head)
    event = UserGroupsEvent.objects.filter(user_id=clerk.pk).get()  # type: ignore[attr-defined]
    assert event.pgh_context.metadata["actor"] == "head"
