"""The participant search as staff use it: by IIN, or by the start of the surname alone (with
the first name if known); an empty result says so and what was searched."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(make_user("specialist"))
    return client


def test_a_surname_alone_finds_by_its_first_letters(clerk, participant) -> None:
    for typed in ("ИВАНОВ", "ив", "  Ив  "):
        response = clerk.get(reverse("participant_search"), {"last_name": typed})
        assert response.context["form"].is_valid(), (typed, response.context["form"].errors)
        assert participant.iin in response.content.decode(), typed
    both = clerk.get(reverse("participant_search"), {"last_name": "ив", "first_name": "ИВ"})
    assert participant.iin in both.content.decode()


def test_one_letter_or_a_first_name_alone_is_refused_with_the_reason(clerk, participant) -> None:
    one = clerk.get(reverse("participant_search"), {"last_name": "И"})
    assert one.context["form"].errors["last_name"] == ["Enter at least 2 letters of the surname."]
    first = clerk.get(reverse("participant_search"), {"first_name": "ИВАН"})
    assert first.context["form"].non_field_errors() == ["Enter an IIN, or a surname (at least its first letters)."]
    assert participant.iin not in one.content.decode() + first.content.decode()


def test_an_empty_result_says_nothing_was_found_and_what_was_searched(clerk, participant) -> None:
    page = clerk.get(reverse("participant_search"), {"last_name": "Жоқов", "first_name": "Ай"}).content.decode()
    assert "Nothing found." in page
    assert "Surname «Жоқов»" in page
    assert "First name «Ай»" in page
    by_iin = clerk.get(reverse("participant_search"), {"iin": "850615300012"}).content.decode()
    assert "Nothing found." in by_iin
    assert "IIN «850615300012»" in by_iin
