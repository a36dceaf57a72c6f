"""Labels of the codes stored on orders and lines, in the reader's language (templates show
labels, never raw codes such as ``partially_returned``)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext

from contributions.documents import mt102_problem
from contributions.models import OrderStatus, ReturnDocument, ReturnReason
from contributions.problems import word
from records.formatting import money

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


register.filter("money", money)


@register.filter
def money_or_value(value: object) -> object:
    """A table cell: an amount in the reader's style, a count grouped, anything else as it is."""
    if isinstance(value, Decimal):
        return money(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return number_format(value, force_grouping=True)
    return value


@register.filter
def duration_label(seconds: float | None) -> str:
    """How long processing took, in the reader's language: seconds with a decimal under a minute
    (orders take seconds), then minutes, hours and days (an order that waited for review)."""
    if seconds is None:
        return "—"
    if round(seconds, 1) < 60:
        return gettext("%(seconds)s s") % {"seconds": number_format(round(seconds, 1), decimal_pos=1)}
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return gettext("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": rest}
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}


@register.filter
def return_mt102_problem(document: ReturnDocument) -> str:
    """Why the document has no MT102, in the reader's language; "" when it has one."""
    problem = mt102_problem(document)
    return gettext(problem) if problem else ""
