"""Needs-review resolution and refunds (four eyes), through services and pages."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from contributions.models import EntryKind, LedgerEntry, OrderStatus, PaymentOrder, Refund, RefundStatus
from contributions.selectors import account_totals, deadline_q
from contributions.services import (
    DomainError,
    order_resolve_review,
    refund_decide,
    refund_register,
)
from records.approval import StepNotPermitted
from records.models import AuditEvent
from records.services import Actor
from tests.conftest import line_for, order_text, take_in

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")


def take_in_one(text: str) -> PaymentOrder:
    (order,) = take_in(text)
    return order


def test_a_senior_specialist_returns_a_needs_review_order_in_full(make_user, people) -> None:
    order = take_in_one(order_text([line_for(people[1]), line_for(people[2])], total="1,00"))
    assert order.status == OrderStatus.NEEDS_REVIEW
    # Open for the one-working-day clock until someone resolves it (received 2023-11-24: late).
    assert (order.finished_at, order.deadline_met, order.deadline_state()) == (None, None, "late")
    assert PaymentOrder.objects.filter(deadline_q("late"), pk=order.pk).exists()
    senior = make_user("senior_specialist")
    client = Client()
    client.force_login(senior)
    response = client.post(reverse("order_resolve", args=[order.pk]), {"note": "Сумма не сходится", "confirm": "on"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED
    assert (order.resolved_by, order.resolution_note) == (senior, "Сумма не сходится")
    assert order.finished_at is not None
    assert order.deadline_met is False
    assert not PaymentOrder.objects.filter(deadline_q("late"), pk=order.pk).exists()
    assert PaymentOrder.objects.filter(deadline_q("missed"), pk=order.pk).exists()
    assert order.return_document.lines_count == 2
    assert set(order.lines.values_list("reason", flat=True)) == {"order_returned"}
    assert not LedgerEntry.objects.exists()
    assert AuditEvent.objects.filter(action="orders.return_in_full", actor=senior).exists()
    with pytest.raises(DomainError):
        order_resolve_review(order_id=order.pk, actor=senior, note="again")


def test_a_specialist_may_not_resolve_and_a_reason_is_required(make_user, people) -> None:
    order = take_in_one(order_text([line_for(people[3])], knp="010"))
    with pytest.raises(PermissionDenied):
        order_resolve_review(order_id=order.pk, actor=make_user("specialist"), note="x")
    with pytest.raises(DomainError):
        order_resolve_review(order_id=order.pk, actor=make_user("head_of_unit"), note="  ")
    order.refresh_from_db()
    assert order.status == OrderStatus.NEEDS_REVIEW


def test_refund_registered_by_one_approved_by_another_posts_a_correcting_entry(make_user, people) -> None:
    take_in_one(order_text([line_for(people[4])]))
    entry = LedgerEntry.objects.get()
    specialist, head = make_user("specialist"), make_user("head_of_unit")
    refund = refund_register(
        entry_id=entry.pk,
        amount=Decimal("2000.00"),
        request_number="Z-17",
        request_date=date(2023, 12, 1),
        reason="ошибочно уплачено",
        actor=specialist,
    )
    with pytest.raises(PermissionDenied):
        refund_decide(refund_id=refund.pk, actor=specialist, approve=True)  # a specialist may not decide
    refund = refund_decide(refund_id=refund.pk, actor=head, approve=True, note="ok")
    assert refund.status == RefundStatus.POSTED
    correction = refund.posted_entry
    assert correction is not None
    assert (correction.kind, correction.amount, correction.corrects) == (EntryKind.REFUND, Decimal("-2000.00"), entry)
    totals = account_totals(entry.participant)
    assert (totals["contribution"], totals["refund"]) == (Decimal("7000.00"), Decimal("-2000.00"))
    assert AuditEvent.objects.filter(action="refunds.approve", actor=head).exists()


def test_the_registrar_can_never_decide_even_as_a_head(make_user, people) -> None:
    take_in_one(order_text([line_for(people[5])]))
    entry = LedgerEntry.objects.get()
    head = make_user("head_of_unit")
    refund = refund_register(
        entry_id=entry.pk,
        amount=Decimal("1.00"),
        request_number="Z-18",
        request_date=date(2023, 12, 1),
        reason="x",
        actor=head,
    )
    with pytest.raises(StepNotPermitted, match="registered"):
        refund_decide(refund_id=refund.pk, actor=head, approve=True)
    # The database refuses it too, whatever path a write takes.
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.filter(pk=refund.pk).update(decided_by=head)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REGISTERED


def test_a_refund_cannot_exceed_what_is_left(make_user, people) -> None:
    take_in_one(order_text([line_for(people[6])]))
    entry = LedgerEntry.objects.get()
    specialist = make_user("specialist")
    kwargs = {"request_date": date(2023, 12, 1), "reason": "x", "actor": specialist}
    refund_register(entry_id=entry.pk, amount=Decimal("6000.00"), request_number="A", **kwargs)
    with pytest.raises(DomainError):
        refund_register(entry_id=entry.pk, amount=Decimal("1000.01"), request_number="B", **kwargs)
    with pytest.raises(DomainError):
        refund_register(entry_id=entry.pk, amount=Decimal("0"), request_number="C", **kwargs)


def test_refund_pages(make_user, people) -> None:
    take_in_one(order_text([line_for(people[7])]))
    entry = LedgerEntry.objects.get()
    specialist, head = make_user("specialist"), make_user("head_of_service")
    clerk = Client()
    clerk.force_login(specialist)
    response = clerk.post(
        reverse("refund_new", args=[entry.pk]),
        {"amount": "100.00", "request_number": "R-1", "request_date": "2023-12-01", "reason": "двойная оплата"},
    )
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert clerk.post(reverse("refund_decide", args=[refund.pk]), {"decision": "approve"}).status_code == 403
    boss = Client()
    boss.force_login(head)
    page = boss.get(reverse("refund_list")).content.decode()
    assert f'action="/refunds/{refund.pk}/decide/"' in page
    assert (
        boss.post(reverse("refund_decide", args=[refund.pk]), {"decision": "approve", "confirm": "on"}).status_code
        == 302
    )
    refund.refresh_from_db()
    assert refund.status == RefundStatus.POSTED


def test_the_monthly_chart_nets_refunds_of_contributions_only(make_user, people) -> None:
    from contributions.selectors import monthly_contributions

    take_in_one(order_text([line_for(people[8])], reference="C1", number="1"))
    take_in_one(order_text([line_for(people[8])], reference="P1", number="2", knp="017"))
    contribution = LedgerEntry.objects.get(kind=EntryKind.CONTRIBUTION)
    penalty = LedgerEntry.objects.get(kind=EntryKind.PENALTY)
    specialist, head = make_user("specialist"), make_user("head_of_unit")
    kwargs = {"request_date": date(2023, 12, 1), "reason": "x", "actor": specialist}
    for entry, amount in ((contribution, "2000.00"), (penalty, "500.00")):
        refund = refund_register(entry_id=entry.pk, amount=Decimal(amount), request_number=str(entry.pk), **kwargs)
        refund_decide(refund_id=refund.pk, actor=head, approve=True)
    period = f"{contribution.period:%Y-%m}"
    # 7000 contributed, 2000 of it refunded; the penalty and its refund are not contributions.
    assert monthly_contributions(contribution.participant) == [(period, "5000.00")]


def test_the_monthly_chart_shows_months_without_contributions_as_zero(people) -> None:
    from contributions.selectors import monthly_contributions

    person = people[9]
    for n, period in enumerate(("112022", "022023", "032023")):
        take_in_one(order_text([line_for(person, period=period)], reference=f"G{n}", number=str(n)))
    participant = LedgerEntry.objects.filter(participant__iin=person.iin)[0].participant
    series = monthly_contributions(participant)
    assert [month for month, _ in series] == ["2022-11", "2022-12", "2023-01", "2023-02", "2023-03"]
    assert [amount for _, amount in series] == ["7000.00", "0.00", "0.00", "7000.00", "7000.00"]
    # At most the last ``months`` months, ending with the latest period.
    assert monthly_contributions(participant, months=2) == [("2023-02", "7000.00"), ("2023-03", "7000.00")]


def test_the_refund_pages_log_their_reads_of_personal_data(make_user, people) -> None:
    from records.models import AccessLog

    order = take_in_one(order_text([line_for(people[10])], reference="L1", number="1"))
    entry = LedgerEntry.objects.get(order=order)
    specialist = make_user("specialist")
    client = Client()
    client.force_login(specialist)
    assert client.get(reverse("refund_new", args=[entry.pk])).status_code == 200
    assert client.get(reverse("refund_list")).status_code == 200
    opened = AccessLog.objects.get(view="refund_new")
    assert (opened.user, opened.kind, opened.participant) == (specialist, "view", entry.participant)
    listed = AccessLog.objects.get(view="refund_list")
    assert (listed.kind, listed.row_count) == ("search", 0)


def test_a_refund_request_dated_in_the_future_or_registered_twice_is_refused(make_user, people) -> None:
    from django.utils import timezone

    from contributions.services import DomainError

    order = take_in_one(order_text([line_for(people[11])], reference="L2", number="2"))
    entry = LedgerEntry.objects.get(order=order)
    specialist = make_user("specialist")
    kwargs = {"entry_id": entry.pk, "amount": Decimal("1.00"), "reason": "x", "actor": specialist}
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(DomainError, match="future"):
        refund_register(request_number="A-1", request_date=tomorrow, **kwargs)
    refund_register(request_number="A-1", request_date=date(2023, 12, 1), **kwargs)
    with pytest.raises(DomainError, match="already registered"):
        refund_register(request_number="A-1", request_date=date(2023, 12, 1), **kwargs)
    assert entry.refunds.count() == 1
    client = Client()
    client.force_login(specialist)
    page = client.get(reverse("refund_new", args=[entry.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Left to refund of this entry: 6,999.00." in page
