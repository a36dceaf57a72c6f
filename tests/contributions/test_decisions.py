"""Decisions about money on the staff pages (Rules, paragraphs 6 and 9): approving or rejecting a
refund and returning an order in full need an explicit confirmation on the form, a rejection
needs its reason, and free text has a length limit. A refused form changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from contributions.models import LedgerEntry, OrderStatus, Refund, RefundStatus
from contributions.services import refund_register
from records.services import NOTE_MAX_LENGTH
from tests.conftest import line_for, order_text, take_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def refund(specialist, people) -> Refund:
    take_in(order_text([line_for(people[7])]))
    return refund_register(
        entry_id=LedgerEntry.objects.get().pk,
        amount=Decimal("100.00"),
        request_number="Z-1",
        request_date=date(2023, 12, 1),
        reason="ошибочно",
        actor=specialist,
    )


@pytest.fixture
def head(head_of_unit) -> Client:
    """The head of unit who decides (four eyes: not the specialist who registered the refund)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(head_of_unit)
    return client


def said(response) -> list[str]:
    """The messages shown on the page a decision redirects to (read there, as staff read them)."""
    assert response.redirect_chain
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def decide(client: Client, refund: Refund, **data: str) -> list[str]:
    return said(client.post(reverse("refund_decide", args=[refund.pk]), data, follow=True))


def test_a_refund_decision_needs_the_confirmation(head, refund) -> None:
    assert decide(head, refund, decision="approve", note="") == ["Tick the box to confirm: this decision moves money."]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REGISTERED
    assert decide(head, refund, decision="approve", confirm="on") == ["The refund was approved and posted."]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.POSTED


def test_a_rejection_needs_its_reason(head, refund) -> None:
    assert decide(head, refund, decision="reject", note="  ", confirm="on") == [
        "Note: Give the reason the refund is refused."
    ]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REGISTERED
    decide(head, refund, decision="reject", note="Нет оснований", confirm="on")
    refund.refresh_from_db()
    assert (refund.status, refund.decision_note) == (RefundStatus.REJECTED, "Нет оснований")


def test_a_decision_note_over_the_limit_is_refused_with_its_length(head, refund) -> None:
    told = decide(head, refund, decision="reject", note="x" * (NOTE_MAX_LENGTH + 1), confirm="on")
    assert told == [f"Note: Ensure this value has at most {NOTE_MAX_LENGTH} characters (it has {NOTE_MAX_LENGTH + 1})."]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REGISTERED


def test_the_refund_list_asks_for_the_confirmation_without_a_script(head, refund) -> None:
    page = head.get(reverse("refund_list")).content.decode()
    assert 'type="checkbox" name="confirm"' in page
    assert "I confirm this decision on the refund of 100.00." in page
    assert "confirm(" not in page  # no JavaScript dialog


def test_returning_an_order_in_full_needs_a_reason_and_the_confirmation(senior_specialist, people) -> None:
    (order,) = take_in(order_text([line_for(people[8])], knp="010"))
    assert order.status == OrderStatus.NEEDS_REVIEW
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(senior_specialist)
    url = reverse("order_resolve", args=[order.pk])
    page = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert 'name="confirm"' in page
    told = said(client.post(url, {"note": "КНП не тот"}, follow=True))
    assert told == ["Tick the box to confirm: this decision moves money."]
    told = said(client.post(url, {"confirm": "on"}, follow=True))
    assert told == ["Reason for returning the order in full: This field is required."]
    said(client.post(url, {"note": "x" * (NOTE_MAX_LENGTH + 1), "confirm": "on"}, follow=True))
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_REVIEW
    client.post(url, {"note": "КНП не тот", "confirm": "on"})
    order.refresh_from_db()
    assert (order.status, order.resolution_note) == (OrderStatus.RETURNED, "КНП не тот")


def test_registering_a_refund_takes_an_amount_with_a_decimal_comma_on_a_kazakh_page(specialist, people) -> None:
    take_in(order_text([line_for(people[9], amount="20000,00")]))
    entry = LedgerEntry.objects.get()
    client = Client(HTTP_ACCEPT_LANGUAGE="kk")
    client.force_login(specialist)
    data = {"amount": "12000,50", "request_number": "Z-2", "request_date": "03.12.2026", "reason": "қате төленді"}
    response = client.post(reverse("refund_new", args=[entry.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    assert Refund.objects.get().amount == Decimal("12000.50")
    refused = client.post(reverse("refund_new", args=[entry.pk]), {**data, "amount": "12.000,50"})
    assert refused.status_code == 200
    assert "12000,50" in refused.context["form"].errors["amount"][0]
    assert Refund.objects.count() == 1
