"""Labels of the codes stored on orders and lines, in the reader's language (templates show
labels, never raw codes such as ``partially_returned``)."""

from __future__ import annotations

from django import template

from contributions.models import OrderStatus, ReturnReason
from contributions.problems import word

register = template.Library()


@register.filter
def order_status_label(code: str) -> str:
    return str(OrderStatus(code).label) if code in OrderStatus.values else code


@register.filter
def return_reason_label(code: str) -> str:
    return str(ReturnReason(code).label) if code in ReturnReason.values else code


@register.filter
def order_problem(entry: object) -> str:
    """A problem stored on an order, worded in the reader's language and naming its line."""
    return word(entry)
