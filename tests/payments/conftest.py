"""Recipients and decisions on personal accounts built by the real contribution pipeline."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from records.identifiers import make_kz_iban
from records.services import Actor
from tests.conftest import line_for, order_text, take_in

RISK = date(2023, 12, 15)  # Social Code: МЗП 70 000, deduction 50 %, КСУ cap 1.30
APPLIED = date(2023, 12, 20)


def months(first: tuple[int, int], count: int) -> list[str]:
    """``count`` periods MMYYYY from ``first`` (year, month) on."""
    year, month = first
    out = []
    for _ in range(count):
        out.append(f"{month:02d}{year}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return out


def pay(person, periods: list[str], amount: str = "7000,00", reference: str = "ACC", **kwargs) -> None:
    take_in(order_text([line_for(person, amount=amount, period=p) for p in periods], reference=reference, **kwargs))


@pytest.fixture
def steady(people):
    """7 000 tenge a month for 2021-12 ... 2023-11 (24 months): an income of 200 000 a month.
    Disability at 50 % from RISK: (200 000 − 35 000) × 0.6 × КСУ 0.85 × 0.5 = 42 075.00."""
    person = people[4]
    pay(person, months((2021, 12), 24))
    return person


@pytest.fixture
def staff(make_user):
    """One user per part of a decision, and a second head for four-eyes cases."""
    return {
        "drafter": make_user("specialist"),
        "verifier": make_user("senior_specialist"),
        "approver": make_user("head_of_unit"),
        "head_of_service": make_user("head_of_service"),
    }


@pytest.fixture
def applicant(steady, staff):
    """A disability recipient registered from an application (50 % loss of ability)."""
    from payments.services import recipient_register

    return recipient_register(
        iin=steady.iin,
        payment_type="0702",
        application_date=APPLIED,
        risk_date=RISK,
        loss_degree=50,
        actor=staff["drafter"],
    )


def approve_through(decision: Any, staff: dict[str, Any]) -> Any:
    """Submit, verify and approve a drafted decision with the three different people."""
    from payments.services import decision_approve, decision_submit, decision_verify

    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    return decision_approve(decision_id=decision.pk, actor=staff["approver"])


@pytest.fixture
def in_force(applicant, staff):
    """The applicant with an approved assignment in force (42 075.00 a month)."""
    from payments.services import decision_draft

    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    approve_through(decision, staff)
    applicant.refresh_from_db()
    return applicant


# --- Monthly payments ---------------------------------------------------------------------------

SYSTEM = Actor(label="test")
HALYK = make_kz_iban("601", "0000000000001")


def account(
    recipient: Any,
    staff: dict[str, Any],
    *,
    iban: str = HALYK,
    bic: str = "HSBKKZKX",
    valid_from: date = date(2023, 12, 1),
):
    from payments.services.bank_accounts import bank_account_add

    return bank_account_add(
        recipient_id=recipient.pk,
        bic=bic,
        iban=iban,
        valid_from=valid_from,
        reason="application",
        actor=staff["drafter"],
    )


def build(month: date, staff: dict[str, Any]) -> Any:
    from payments.services.runs import build_run, run_start

    run, _ = run_start(month=month, actor=staff["drafter"])
    return build_run(run_id=run.pk, actor=SYSTEM)


def release(run: Any, staff: dict[str, Any]) -> Any:
    from payments.services.runs import run_approve

    return run_approve(run_id=run.pk, actor=staff["head_of_service"])


@pytest.fixture
def paid_to(in_force, staff):
    account(in_force, staff)
    return in_force
