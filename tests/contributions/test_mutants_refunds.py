"""Refunds (Rules, paragraphs 7(4) and 9; four eyes): what the mutants of
``contributions.services.refunds`` showed no test looked at (docs/testing.md) -- the limits
at their exact edges, a refund of a refund, a rejection (its reason, its audit event, no money
moved), the correcting entry's payer and the messages staff read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from contributions.models import EntryKind, LedgerEntry, Refund, RefundStatus
from contributions.services import DomainError, refund_decide, refund_register, refundable
from records.approval import StepNotPermitted
from records.models import AuditEvent
from tests.conftest import PAYER, line_for, order_text, take_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(people) -> LedgerEntry:
    """A contribution of 7000.00 posted from an order of ``PAYER``."""
    take_in(order_text([line_for(people[1])]))
    return LedgerEntry.objects.get()


@pytest.fixture
def clerk(make_user):
    return make_user("specialist")


@pytest.fixture
def head(make_user):
    return make_user("head_of_unit")


def register(entry: LedgerEntry, actor, amount: str = "100.00", number: str = "Z-1", **changes) -> Refund:
    kwargs = {"request_date": date(2023, 12, 1), "reason": "ошибочно уплачено", **changes}
    return refund_register(entry_id=entry.pk, amount=Decimal(amount), request_number=number, actor=actor, **kwargs)


def refused(call) -> list[str]:
    with pytest.raises(DomainError) as error:
        call()
    return error.value.messages


def test_all_that_is_left_may_be_refunded_and_then_nothing(entry, clerk) -> None:
    register(entry, clerk, amount="7000.00")
    assert refundable(entry) == Decimal("0")
    assert refused(lambda: register(entry, clerk, amount="0.01", number="Z-2")) == [
        "The amount must be positive and at most what is left to refund of the entry."
    ]


def test_a_request_may_be_dated_today_not_tomorrow(entry, clerk) -> None:
    today = timezone.localdate()
    assert register(entry, clerk, request_date=today).request_date == today
    tomorrow = date.fromordinal(today.toordinal() + 1)
    assert refused(lambda: register(entry, clerk, number="Z-2", request_date=tomorrow)) == [
        "The payer's request cannot be dated in the future."
    ]


def test_a_request_registered_twice_is_refused_by_name(entry, clerk) -> None:
    register(entry, clerk)
    assert refused(lambda: register(entry, clerk, number=" Z-1 ")) == [
        "This request of the payer is already registered for this entry."
    ]


def test_a_rejected_request_may_be_registered_again(entry, clerk, head) -> None:
    refund_decide(refund_id=register(entry, clerk).pk, actor=head, approve=False, note="Нет документов")
    again = register(entry, clerk)  # the payer brought the documents: the same request, anew
    assert again.status == RefundStatus.REGISTERED
    assert entry.refunds.count() == 2


def test_a_refund_entry_cannot_itself_be_refunded(entry, clerk, head) -> None:
    correction = refund_decide(refund_id=register(entry, clerk).pk, actor=head, approve=True).posted_entry
    assert correction is not None
    assert correction.kind == EntryKind.REFUND
    assert refused(lambda: register(correction, clerk, amount="1.00", number="Z-2")) == [
        "A refund entry cannot itself be refunded."
    ]
    assert not correction.refunds.exists()


def test_the_correcting_entry_is_the_payers_own_and_an_approval_needs_no_note(entry, clerk, head) -> None:
    refund = refund_decide(refund_id=register(entry, clerk).pk, actor=head, approve=True)
    correction = refund.posted_entry
    assert correction is not None
    assert (correction.payer_idn, correction.participant_id, correction.period) == (
        PAYER,
        entry.participant_id,
        entry.period,
    )
    assert (correction.order_id, correction.line_id, correction.corrects) == (None, None, entry)
    assert (refund.decided_by, refund.decision_note) == (head, "")
    event = AuditEvent.objects.get(action="refunds.approve")
    assert (event.actor, event.object_pk, getattr(event.content_type, "model", None)) == (
        head,
        str(refund.pk),
        "refund",
    )
    assert event.data == {"amount": "100.00", "from": "registered", "to": "posted", "reason": ""}


def test_a_rejection_needs_its_reason_and_moves_no_money(entry, clerk, head) -> None:
    refund = register(entry, clerk, amount="250.00")
    for note in ("", "   "):
        assert refused(lambda note=note: refund_decide(refund_id=refund.pk, actor=head, approve=False, note=note)) == [
            "Give the reason the refund is refused."
        ]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REGISTERED
    refund = refund_decide(refund_id=refund.pk, actor=head, approve=False, note=" Нет оснований ")
    assert (refund.status, refund.posted_entry, refund.decision_note) == (RefundStatus.REJECTED, None, "Нет оснований")
    assert LedgerEntry.objects.count() == 1  # only the contribution: nothing posted
    assert refundable(entry) == Decimal("7000.00")  # a rejected request holds nothing back
    assert not AuditEvent.objects.filter(action="refunds.approve").exists()
    event = AuditEvent.objects.get(action="refunds.reject")
    assert (event.actor, event.object_pk, getattr(event.content_type, "model", None)) == (
        head,
        str(refund.pk),
        "refund",
    )
    assert event.data == {"amount": "250.00", "from": "registered", "to": "rejected", "reason": "Нет оснований"}


def test_a_decided_refund_is_not_decided_again_and_the_registrar_never_decides(entry, clerk, head, make_user) -> None:
    refund = register(entry, head)
    with pytest.raises(StepNotPermitted, match="by the person who registered it"):
        refund_decide(refund_id=refund.pk, actor=head, approve=True)
    other = make_user("head_of_service")
    refund_decide(refund_id=refund.pk, actor=other, approve=False, note="Нет")
    assert refused(lambda: refund_decide(refund_id=refund.pk, actor=other, approve=True)) == [
        "This refund has already been decided."
    ]
    refund.refresh_from_db()
    assert (refund.status, refund.posted_entry) == (RefundStatus.REJECTED, None)


def test_registering_is_audited_with_the_amount(entry, clerk) -> None:
    refund = register(entry, clerk, amount="12.34")
    event = AuditEvent.objects.get(action="refunds.register")
    assert (event.actor, event.object_pk, event.data) == (clerk, str(refund.pk), {"amount": "12.34"})
    assert (refund.payer_idn, refund.request_number, refund.reason, refund.registered_by) == (
        PAYER,
        "Z-1",
        "ошибочно уплачено",
        clerk,
    )
