"""The admin: an administrator's calendar edit is marked so the package refresh keeps it."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import User
from django.test import Client

from records.models import CalendarDay
from records.services import Actor, calendar_refresh_from_package

pytestmark = pytest.mark.django_db


def test_calendar_edit_in_the_admin_survives_a_refresh(client: Client) -> None:
    admin = User.objects.create_superuser("root", "root@example.kz", "x" * 16)
    client.force_login(admin)
    row = CalendarDay.objects.get(date=date(2027, 5, 16))
    response = client.post(
        f"/admin/records/calendarday/{row.pk}/change/",
        {
            "date": "2027-05-16",
            "is_working": "",
            "kind": "religious",
            "name_kk": "Құрбан айт",
            "name_ru": "Курбан айт",
            "name_en": "Eid al-Adha",
            "note": "ДУМК calendar 2027",
        },
    )
    assert response.status_code == 302, response.content
    row.refresh_from_db()
    assert row.source == CalendarDay.Source.ADMIN
    calendar_refresh_from_package(years=[2027], actor=Actor(label="test"))
    row.refresh_from_db()
    assert row.note == "ДУМК calendar 2027"


def test_participants_cannot_be_edited_in_the_admin(client: Client) -> None:
    admin = User.objects.create_superuser("root", "root@example.kz", "x" * 16)
    client.force_login(admin)
    assert client.get("/admin/records/participant/add/").status_code == 403
