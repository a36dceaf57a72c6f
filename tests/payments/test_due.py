"""``payments.due``: what each month is due (conventions: "Monthly payments"), on plain values.
Every boundary the run relies on: the first and last day of the period, the month of a
suspension and of the resumption, an indexation step on the risk date or on the first of the
month, a lump sum once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from payments.due import (
    Entitlement,
    IndexStep,
    Suspension,
    days_in_period,
    due_for,
    due_through,
    index_factor,
    month_end,
    months,
    next_month,
)

A = Decimal("42075.00")


def test_months_and_their_ends() -> None:
    assert next_month(date(2024, 12, 1)) == date(2025, 1, 1)
    assert next_month(date(2024, 1, 1)) == date(2024, 2, 1)
    assert month_end(date(2024, 2, 10)) == date(2024, 2, 29)
    assert month_end(date(2023, 2, 1)) == date(2023, 2, 28)
    assert months(date(2023, 11, 15), date(2024, 2, 1)) == [
        date(2023, 11, 1),
        date(2023, 12, 1),
        date(2024, 1, 1),
        date(2024, 2, 1),
    ]
    assert months(date(2024, 3, 5), date(2024, 2, 1)) == []


@pytest.mark.parametrize(
    ("start", "end", "month", "days"),
    [
        (date(2023, 12, 15), None, date(2023, 12, 1), 17),  # the first month from the risk date
        (date(2023, 12, 1), None, date(2023, 12, 1), 31),
        (date(2023, 12, 31), None, date(2023, 12, 1), 1),
        (date(2023, 12, 15), None, date(2024, 1, 1), 31),
        (date(2023, 12, 15), date(2024, 2, 10), date(2024, 2, 1), 10),  # the last month to its last day
        (date(2023, 12, 15), date(2024, 2, 29), date(2024, 2, 1), 29),
        (date(2023, 12, 15), date(2024, 1, 31), date(2024, 2, 1), 0),  # after the end
        (date(2024, 3, 1), None, date(2024, 2, 1), 0),  # before the start
        (date(2024, 2, 10), date(2024, 2, 12), date(2024, 2, 1), 3),  # both in one month
    ],
)
def test_days_in_period(start: date, end: date | None, month: date, days: int) -> None:
    assert days_in_period(Entitlement(amount=A, start=start, end=end), month) == days


def test_a_month_in_proportion_to_its_days_rounded_half_up() -> None:
    due = due_for(Entitlement(amount=A, start=date(2023, 12, 15)), date(2023, 12, 1))
    assert (due.amount, due.days_paid, due.days_in_month, due.suspended) == (Decimal("23073.39"), 17, 31, False)
    # 0.25 × 14 / 28 days = 0.125 -> 0.13: half-up, not half-to-even
    half = Entitlement(amount=Decimal("0.25"), start=date(2023, 2, 15))
    assert due_for(half, date(2023, 2, 1)).amount == Decimal("0.13")


def test_nothing_outside_the_period() -> None:
    entitlement = Entitlement(amount=A, start=date(2023, 12, 15), end=date(2024, 1, 31))
    due = due_for(entitlement, date(2024, 2, 1))
    assert (due.amount, due.days_paid, due.days_in_month) == (Decimal("0.00"), 0, 29)
    assert due_for(entitlement, date(2023, 11, 1)).amount == 0


STEPS = (IndexStep(date(2024, 1, 1), Decimal("7")), IndexStep(date(2026, 1, 1), Decimal("10")))


@pytest.mark.parametrize(
    ("start", "month", "factor"),
    [
        (date(2023, 12, 15), date(2023, 12, 1), Decimal("1")),
        (date(2023, 12, 15), date(2024, 1, 1), Decimal("1.07")),  # a step on the first of the month applies
        (date(2023, 12, 15), date(2025, 12, 1), Decimal("1.07")),
        (date(2023, 12, 15), date(2026, 1, 1), Decimal("1.07") * Decimal("1.10")),
        (date(2024, 1, 1), date(2024, 6, 1), Decimal("1")),  # assigned on the step's date: not before it
        (date(2023, 12, 31), date(2024, 6, 1), Decimal("1.07")),
    ],
)
def test_indexation_steps_after_the_risk_date(start: date, month: date, factor: Decimal) -> None:
    assert index_factor(STEPS, start=start, month=month) == factor


def test_the_indexed_amount_is_rounded_once() -> None:
    entitlement = Entitlement(amount=A, start=date(2023, 12, 15), index_steps=STEPS)
    assert due_for(entitlement, date(2024, 1, 1)).amount == Decimal("45020.25")
    assert due_for(entitlement, date(2026, 1, 1)).amount == Decimal("49522.28")  # 42 075 × 1.177 = 49 522.275


def test_suspended_months() -> None:
    suspension = Suspension(date(2024, 2, 15), date(2024, 4, 10))
    assert not suspension.covers(date(2024, 1, 1))
    assert suspension.covers(date(2024, 2, 1))  # the month it takes effect
    assert suspension.covers(date(2024, 3, 1))
    assert not suspension.covers(date(2024, 4, 1))  # the month it resumes is paid
    open_ended = Suspension(date(2024, 2, 1))
    assert open_ended.covers(date(2030, 1, 1))
    entitlement = Entitlement(amount=A, start=date(2023, 12, 15), suspensions=(suspension,))
    due = due_for(entitlement, date(2024, 3, 1))
    assert (due.amount, due.days_paid, due.suspended) == (Decimal("0.00"), 0, True)
    assert due_for(entitlement, date(2024, 4, 1)).amount == A


def test_a_lump_sum_is_due_once_in_the_month_of_the_start() -> None:
    entitlement = Entitlement(amount=Decimal("630000.00"), start=date(2023, 12, 15), lump_sum=True)
    dues = due_through(entitlement, date(2024, 2, 1))
    assert [(d.month, d.amount, d.days_paid) for d in dues] == [
        (date(2023, 12, 1), Decimal("630000.00"), 31),
        (date(2024, 1, 1), Decimal("0.00"), 0),
        (date(2024, 2, 1), Decimal("0.00"), 0),
    ]


def test_the_reason_a_month_is_recovered() -> None:
    from payments.models import RecoveryReason
    from payments.services.runs import _recovery_reason

    ended = Entitlement(amount=A, start=date(2023, 12, 15), end=date(2024, 1, 31))
    after = due_for(ended, date(2024, 2, 1))
    assert _recovery_reason(ended, after, death=True) == RecoveryReason.DEATH
    assert _recovery_reason(ended, after, death=False) == RecoveryReason.END_OF_RIGHT
    last = due_for(ended, date(2024, 1, 1))  # the last month, whole: a recalculation of it
    assert _recovery_reason(ended, last, death=False) == RecoveryReason.RECALCULATED
    mid = Entitlement(amount=A, start=date(2023, 12, 15), end=date(2024, 1, 10))
    assert _recovery_reason(mid, due_for(mid, date(2024, 1, 1)), death=False) == RecoveryReason.END_OF_RIGHT
    suspended = Entitlement(amount=A, start=date(2023, 12, 15), suspensions=(Suspension(date(2024, 1, 1)),))
    assert _recovery_reason(suspended, due_for(suspended, date(2024, 1, 1)), death=True) == RecoveryReason.SUSPENDED
    assert (
        _recovery_reason(Entitlement(amount=A, start=date(2023, 12, 15)), due_for(ended, date(2024, 1, 1)), death=True)
        == RecoveryReason.RECALCULATED
    )
