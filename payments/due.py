"""What a recipient is due for each month, from the approved decisions (conventions: "Monthly
payments"; reference.md §4.5, "Payment" and "Indexation").

Pure arithmetic on plain values, so that the monthly run's set-based SQL and the per-recipient
settlement (arrears and recoveries) answer the same, and a test can hold one against the other:

- a month is paid in proportion to the days of the period ``[start, end]`` in it: amount ×
  days paid ÷ days in the month, rounded half-up to the tiyn (the first month from the risk
  date, the last to the last day paid);
- disability and breadwinner amounts are raised by each indexation step dated after the risk
  date and on or before the first day of the month (the factor multiplied out, rounded once);
- a month is not paid while a suspension is in force in it: from the month the suspension
  takes effect to the month before the payment resumes; a suspension withdrawn by its
  deadline suspends nothing (its months are due again);
- a lump sum (pregnancy and childbirth) is due once, in the month of the start.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from payments.benefits import round_money


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months(first: date, last: date) -> list[date]:
    """Every month from the month of ``first`` to the month of ``last``, inclusive."""
    out: list[date] = []
    month = month_start(first)
    while month <= last:
        out.append(month)
        month = next_month(month)
    return out


@dataclass(frozen=True)
class IndexStep:
    """An indexation step: from ``valid_from`` amounts assigned before it are raised by
    ``percent``."""

    valid_from: date
    percent: Decimal


def index_factor(steps: Iterable[IndexStep], *, start: date, month: date) -> Decimal:
    """The product of ``1 + percent/100`` of the steps after ``start`` and on or before the
    first day of ``month``."""
    factor = Decimal(1)
    for step in steps:
        if start < step.valid_from <= month:
            factor *= 1 + step.percent / 100
    return factor


@dataclass(frozen=True)
class Suspension:
    """A suspension in force from ``since`` until the day the payment resumed (``None``: not
    resumed)."""

    since: date
    until: date | None = None

    def covers(self, month: date) -> bool:
        return month_start(self.since) <= month and (self.until is None or month < month_start(self.until))


@dataclass(frozen=True)
class Entitlement:
    """What the approved decisions say of one recipient, in the run's terms."""

    amount: Decimal
    start: date
    end: date | None = None
    lump_sum: bool = False
    suspensions: Sequence[Suspension] = field(default_factory=tuple)
    index_steps: Sequence[IndexStep] = field(default_factory=tuple)


@dataclass(frozen=True)
class MonthDue:
    month: date
    amount: Decimal
    days_paid: int
    days_in_month: int
    suspended: bool = False


def days_in_period(entitlement: Entitlement, month: date) -> int:
    """The days of ``[start, end]`` inside ``month`` (0 when none)."""
    first = max(entitlement.start, month)
    last = month_end(month) if entitlement.end is None else min(entitlement.end, month_end(month))
    return max((last - first).days + 1, 0)


def due_for(entitlement: Entitlement, month: date) -> MonthDue:
    """What is due for ``month`` (its first day)."""
    days = calendar.monthrange(month.year, month.month)[1]
    if entitlement.lump_sum:
        amount = entitlement.amount if month == month_start(entitlement.start) else Decimal("0.00")
        return MonthDue(month, amount, days if amount else 0, days)
    paid_days = days_in_period(entitlement, month)
    if paid_days == 0:
        return MonthDue(month, Decimal("0.00"), 0, days)
    if any(suspension.covers(month) for suspension in entitlement.suspensions):
        return MonthDue(month, Decimal("0.00"), 0, days, suspended=True)
    factor = index_factor(entitlement.index_steps, start=entitlement.start, month=month)
    return MonthDue(month, round_money(entitlement.amount * factor * paid_days / days), paid_days, days)


def due_through(entitlement: Entitlement, last_month: date) -> list[MonthDue]:
    """What is due for every month from the start to ``last_month``."""
    return [due_for(entitlement, month) for month in months(entitlement.start, last_month)]
