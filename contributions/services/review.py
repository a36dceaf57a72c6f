"""Stage 4a, staff decisions on orders: an order that needs review is returned to the payer in
full, with a reason (Rules, paragraph 6; conventions: "Incoming payment orders")."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from contributions.models import LineStatus, OrderLine, OrderStatus, PaymentOrder, ReturnDocument, ReturnReason
from contributions.services.common import DomainError, clean_note
from contributions.services.posting import return_document_number
from records.services import Actor, audit_record, with_history_context


@with_history_context
@transaction.atomic
def order_resolve_review(*, order_id: int, actor: User, note: str) -> PaymentOrder:
    """A staff member returns an order that needs review to the payer in full, with a reason.

    Until then the order is open for the one-working-day clock (conventions, "Within one working
    day"): it is flagged due today or late like an order waiting for a worker. Raises
    ``PaymentOrder.DoesNotExist`` for an unknown order (a 404 at the door)."""
    if not actor.has_perm("contributions.resolve_review"):
        raise PermissionDenied
    note = clean_note(note, required_message=_("Give the reason the order is returned."))
    order = PaymentOrder.objects.select_for_update().get(pk=order_id)
    if order.status != OrderStatus.NEEDS_REVIEW:
        raise DomainError(_("Only an order that needs review can be returned this way."))
    lines = OrderLine.objects.filter(order=order)
    lines.update(status=LineStatus.RETURNED, reason=ReturnReason.ORDER_RETURNED)
    amount = lines.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    count = lines.count()
    total = order.total if order.total is not None else amount
    if count or total:  # a file nothing could be read from has nothing to list or pay back
        ReturnDocument.objects.create(
            order=order, number=return_document_number(order.received, order.pk), lines_count=count, total=total
        )
    order.status = OrderStatus.RETURNED
    order.is_original = False  # (already so for an order that needs review: its key stays free)
    order.lines_returned, order.amount_returned = count, total
    order.resolved_by, order.resolution_note = actor, note
    order.finished_at = timezone.now()  # the one-working-day clock stops here, not at intake
    order.save(
        update_fields=[
            "status",
            "is_original",
            "lines_returned",
            "amount_returned",
            "resolved_by",
            "resolution_note",
            "finished_at",
        ]
    )
    audit_record(actor=Actor.of(actor), action="orders.return_in_full", obj=order, data={"note": note})
    return order
