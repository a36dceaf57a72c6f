"""Stage 4b, refunds: a payer's request to refund excess (erroneously) paid contributions or
penalties is registered by one staff member and decided by another (Rules, paragraphs 7(4)
and 9; conventions: "The personal account")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from contributions.models import EntryKind, LedgerEntry, Refund, RefundStatus
from contributions.services.common import DomainError, clean_note
from records.approval import StalePage, WrongState, take_step
from records.services import Actor, audit_record, with_history_context


def refundable(entry: LedgerEntry) -> Decimal:
    """What may still be refunded of an entry: its amount less refunds posted or pending."""
    taken = entry.refunds.exclude(status=RefundStatus.REJECTED).aggregate(total=Sum("amount"))["total"]
    return entry.amount - (taken or Decimal("0"))


@with_history_context
@transaction.atomic
def refund_register(
    *,
    entry_id: int,
    amount: Decimal,
    request_number: str,
    request_date: date,
    reason: str,
    actor: User,
) -> Refund:
    """Register a payer's request to refund excess (erroneously) paid contributions or penalties
    (Rules, paragraphs 7(4) and 9). A head approves it later. Raises
    ``LedgerEntry.DoesNotExist`` for an unknown entry (a 404 at the door)."""
    if not actor.has_perm("contributions.add_refund"):
        raise PermissionDenied
    reason = clean_note(reason)
    entry = LedgerEntry.objects.select_for_update().get(pk=entry_id)
    if entry.kind == EntryKind.REFUND:
        raise DomainError(_("A refund entry cannot itself be refunded."))
    if amount <= 0 or amount > refundable(entry):
        raise DomainError(_("The amount must be positive and at most what is left to refund of the entry."))
    if request_date > timezone.localdate():
        raise DomainError(_("The payer's request cannot be dated in the future."))
    if entry.refunds.filter(request_number=request_number.strip()).exclude(status=RefundStatus.REJECTED).exists():
        raise DomainError(_("This request of the payer is already registered for this entry."))
    refund = Refund.objects.create(
        entry=entry,
        amount=amount,
        payer_idn=entry.payer_idn,
        request_number=request_number.strip(),
        request_date=request_date,
        reason=reason,
        registered_by=actor,
    )
    audit_record(actor=Actor.of(actor), action="refunds.register", obj=refund, data={"amount": str(amount)})
    return refund


def refund_decide(*, refund_id: int, actor: User, approve: bool, note: str = "", version: int | None = None) -> Refund:
    """Approve (and post as a negative entry that corrects the original) or reject a refund,
    through the one approval mechanism (``records.approval.take_step``): the person who
    registered it can never decide it, a head needs the second factor, a rejection says why,
    and a page out of date changes nothing. Raises ``Refund.DoesNotExist`` for an unknown
    refund (a 404 at the door)."""
    note = clean_note(note, required_message=None if approve else _("Give the reason the refund is refused."))
    try:
        return take_step(
            model=Refund,
            pk=refund_id,
            step="approve" if approve else "reject",
            actor=actor,
            version=version,
            reason=note,
            audit_data={"amount": str(Refund.objects.values_list("amount", flat=True).get(pk=refund_id))},
        )
    except StalePage as exc:
        raise DomainError(exc.messages) from exc
    except WrongState as exc:
        raise DomainError(_("This refund has already been decided.")) from exc
