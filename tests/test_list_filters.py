"""List filters (django-filter FilterSets): an unknown filter value is an error that matches
nothing and says why, never the whole list as if no filter had been asked for."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from contributions.filters import OrderFilter
from contributions.models import DeadlineState, OrderStatus, PaymentOrder
from contributions.selectors import deadline_q
from records.models import AccessLog
from records.selectors import access_log
from tests.conftest import line_for, order_text, take_in

pytestmark = pytest.mark.django_db


def test_deadline_q_refuses_an_unknown_state() -> None:
    with pytest.raises(ValueError, match="soon"):
        deadline_q("soon")
    assert {str(state) for state in DeadlineState} == {"due_today", "late", "met", "missed"}


def test_an_unknown_order_status_is_an_error_not_no_filter(people) -> None:
    take_in(order_text([line_for(people[1])]))
    everything = OrderFilter({}, queryset=PaymentOrder.objects.all())
    assert everything.qs.count() == 1
    unknown = OrderFilter({"status": "postedd"}, queryset=PaymentOrder.objects.all())
    assert not unknown.is_valid()
    assert "status" in unknown.errors
    known = OrderFilter({"status": OrderStatus.POSTED}, queryset=PaymentOrder.objects.all())
    assert known.is_valid()
    assert known.qs.count() == 1


@pytest.mark.parametrize(
    "query",
    [{"status": "postedd"}, {"deadline_state": "soon"}, {"payer": "123"}, {"received_from": "31.02.2023"}],
    ids=["status", "deadline", "payer", "date"],
)
def test_the_order_list_with_a_wrong_filter_shows_nothing_and_why(people, head_of_service, query) -> None:
    take_in(order_text([line_for(people[2])]))
    client = Client()
    client.force_login(head_of_service)
    page = client.get(reverse("order_list"), query)
    assert page.status_code == 200
    assert page.context["page"].count == 0
    assert page.context["form"].errors
    assert client.get(reverse("order_list")).context["page"].count == 1


def test_the_access_log_selector_refuses_what_the_page_refuses(head_of_service) -> None:
    AccessLog.objects.create(kind=AccessLog.Kind.VIEW, view="x", actor_label="x")
    with pytest.raises(ValueError, match="kind"):
        access_log(kind="peek")
    with pytest.raises(ValueError, match="iin"):
        access_log(iin="12345")
    assert access_log(kind=AccessLog.Kind.VIEW).count() == 1


def test_the_return_list_with_a_wrong_payer_shows_nothing(people, head_of_service) -> None:
    take_in(order_text([line_for(people[3], iin="123")]))  # returned: a return document
    client = Client()
    client.force_login(head_of_service)
    assert client.get(reverse("return_document_list")).context["page"].count == 1
    assert client.get(reverse("return_document_list"), {"payer": "x"}).context["page"].count == 0
