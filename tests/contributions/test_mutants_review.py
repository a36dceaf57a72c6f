"""Returning an order that needs review in full (Rules, paragraph 6): what the mutants of
``contributions.services.review`` showed no test looked at (docs/testing.md) -- the messages
staff read, the return document's number and amount when the order has nothing readable or
nothing to pay back, and the audit event of the decision."""

from __future__ import annotations

from decimal import Decimal

import pytest

from contributions.models import OrderStatus, PaymentOrder, ReturnDocument
from contributions.services import DomainError, order_resolve_review
from records.models import AuditEvent
from tests.conftest import line_for, order_text, take_in

pytestmark = pytest.mark.django_db


def needs_review(text: str) -> PaymentOrder:
    (order,) = take_in(text)
    assert order.status == OrderStatus.NEEDS_REVIEW
    return order


def test_returning_without_a_reason_says_a_reason_is_needed(make_user, people) -> None:
    order = needs_review(order_text([line_for(people[1])], total="1,00"))
    with pytest.raises(DomainError) as refused:
        order_resolve_review(order_id=order.pk, actor=make_user("senior_specialist"), note=" ")
    assert refused.value.messages == ["Give the reason the order is returned."]


def test_only_an_order_that_needs_review_is_returned_this_way(make_user, people) -> None:
    (posted,) = take_in(order_text([line_for(people[2])]))
    assert posted.status == OrderStatus.POSTED
    with pytest.raises(DomainError) as refused:
        order_resolve_review(order_id=posted.pk, actor=make_user("senior_specialist"), note="Ошибка")
    assert refused.value.messages == ["Only an order that needs review can be returned this way."]
    posted.refresh_from_db()
    assert posted.status == OrderStatus.POSTED


def test_the_return_document_is_numbered_by_receipt_date_and_order(make_user, people) -> None:
    order = needs_review(order_text([line_for(people[3]), line_for(people[4])], total="1,00"))
    order = order_resolve_review(order_id=order.pk, actor=make_user("senior_specialist"), note="Сумма")
    document = ReturnDocument.objects.get(order=order)
    assert document.number == f"RET-20231124-{order.pk}"
    assert (document.lines_count, document.total) == (2, Decimal("1.00"))
    assert (order.lines_returned, order.amount_returned) == (2, Decimal("1.00"))


def test_an_order_without_lines_but_with_money_still_gets_a_document(make_user, people) -> None:
    """Nothing to list, but the money arrived: the document pays the total back."""
    order = needs_review(order_text([], total="500,00"))
    assert not order.lines.exists()
    order = order_resolve_review(order_id=order.pk, actor=make_user("head_of_unit"), note="Нет строк")
    document = ReturnDocument.objects.get(order=order)
    assert (document.lines_count, document.total) == (0, Decimal("500.00"))
    assert (order.lines_returned, order.amount_returned) == (0, Decimal("500.00"))


def test_the_audit_event_names_the_order_and_the_reason(make_user, people) -> None:
    order = needs_review(order_text([line_for(people[5])], total="1,00"))
    senior = make_user("senior_specialist")
    order_resolve_review(order_id=order.pk, actor=senior, note="  Сумма не сходится ")
    event = AuditEvent.objects.get(action="orders.return_in_full")
    assert (event.actor, event.object_pk, getattr(event.content_type, "model", None)) == (
        senior,
        str(order.pk),
        "paymentorder",
    )
    assert event.data == {"note": "Сумма не сходится"}
