"""The edges of the benefit rules that the mutants of ``payments.benefits`` showed no test
looked at: each band of КСУ and of the job-loss months at its first and last month, the ranges
of the inputs at their limits, refunds that correct a contribution, the coefficients shown with
each amount and the reasons given when there is none (docs/testing.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from contributions.models import LedgerEntry
from contributions.services import refund_decide, refund_register
from payments.benefits import NoAmount, _job_loss_months, _ksu, _Parameters, calculate, calculate_many, round_money
from tests.conftest import line_for, order_text, take_in
from tests.payments.test_benefits import RISK, _account, _months

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("months", "ksu"),
    [(5, "0.1"), (6, "0.70"), (11, "0.70"), (12, "0.75"), (23, "0.75"), (24, "0.85"), (35, "0.85"),
     (36, "0.90"), (47, "0.90"), (48, "0.95"), (59, "0.95"), (60, "1.00"), (71, "1.00"), (83, "1.02"), (84, "1.04")],
)  # fmt: skip
def test_each_ksu_band_from_its_first_to_its_last_month(months: int, ksu: str) -> None:
    assert _ksu(months, RISK, _Parameters()) == Decimal(ksu)


@pytest.mark.parametrize(
    ("months", "paid"),
    [(6, 1), (11, 1), (12, 2), (23, 2), (24, 3), (35, 3), (36, 4), (47, 4), (48, 5), (59, 5), (60, 6), (200, 6)],
)
def test_each_band_of_job_loss_months(months: int, paid: int) -> None:
    assert _job_loss_months(months, RISK, _Parameters()) == paid


def test_money_is_rounded_half_up() -> None:
    assert round_money(Decimal("0.005")) == Decimal("0.01")
    assert round_money(Decimal("2.675")) == Decimal("2.68")


@pytest.fixture
def steady(people):
    person = people[4]
    _account(person, _months((2021, 12), 24))
    return person


def test_the_inputs_at_their_limits(steady) -> None:
    full = calculate(benefit="disability", iin=steady.iin, risk_date=RISK, loss_degree=Decimal(100))
    assert full.amount == Decimal("84150.00")  # (200 000 − 35 000) × 0.6 × 0.85 × 1.0
    with pytest.raises(NoAmount, match=r"^The degree of lost ability to work \(30-100 per cent\) is needed\.$"):
        calculate(benefit="disability", iin=steady.iin, risk_date=RISK, loss_degree=Decimal(101))
    one = calculate(benefit="breadwinner", iin=steady.iin, risk_date=RISK, dependents=1)
    assert one.coefficients["ki"] == Decimal("0.5")
    five = calculate(benefit="breadwinner", iin=steady.iin, risk_date=RISK, dependents=5)
    assert five.coefficients["ki"] == Decimal("1.0")  # four or more
    with pytest.raises(NoAmount, match=r"^The number of dependants \(at least one\) is needed\.$"):
        calculate(benefit="breadwinner", iin=steady.iin, risk_date=RISK, dependents=0)
    day = calculate(benefit="maternity", iin=steady.iin, risk_date=RISK, leave_days=1)
    assert day.amount == Decimal("6666.67")  # 200 000 × 1 ÷ 30
    with pytest.raises(NoAmount, match=r"^The days of maternity leave are needed\.$"):
        calculate(benefit="maternity", iin=steady.iin, risk_date=RISK, leave_days=0)


def test_the_coefficients_shown_with_each_amount(steady) -> None:
    def shown(**kwargs: Any) -> Any:
        return calculate(iin=steady.iin, risk_date=RISK, **kwargs).as_json()["coefficients"]

    assert shown(benefit="disability", loss_degree=Decimal(50)) == {
        "deduction_mzp": "0.5", "replacement": "0.6", "ksu": "0.85", "loss_degree": "0.5",
    }  # fmt: skip
    assert shown(benefit="breadwinner", dependents=3) == {
        "deduction_mzp": "0.5", "replacement": "0.6", "ksu": "0.85", "ki": "0.8",
    }  # fmt: skip
    assert shown(benefit="maternity", leave_days=140) == {"days": "140", "days_divisor": "30"}
    assert shown(benefit="child_care") == {"replacement": "0.4", "minimum": "0", "maximum": "196000"}


def test_job_loss_at_exactly_six_months_and_the_reason_below(people) -> None:
    person = people[8]
    _account(person, _months((2023, 6), 6), reference="SIX")
    assert calculate(benefit="job_loss", iin=person.iin, risk_date=RISK).duration_months == 1
    with pytest.raises(NoAmount, match=r"^No right to job-loss payments: 5 months of participation, 6 needed\.$"):
        calculate(benefit="job_loss", iin=person.iin, risk_date=date(2023, 11, 15))


def test_a_refund_of_a_contribution_lowers_the_income_and_a_fully_refunded_month_does_not_count(
    steady, make_user
) -> None:
    """The November 2023 contribution refunded in full: that month's income is 0 and it is no
    month of participation; half of October refunded: 3 500 ÷ 3.5 % = 100 000."""
    clerk, head = make_user("specialist"), make_user("head_of_unit")
    entries = LedgerEntry.objects.filter(participant__iin=steady.iin, kind="contribution")
    for period, amount in ((date(2023, 11, 1), "7000.00"), (date(2023, 10, 1), "3500.00")):
        refund = refund_register(
            entry_id=entries.get(period=period).pk,
            amount=Decimal(amount),
            request_number=f"R{period:%m}",
            request_date=date(2023, 12, 1),
            reason="Излишне уплачено",
            actor=clerk,
        )
        refund_decide(refund_id=refund.pk, actor=head, approve=True, note="")
    result = calculate(benefit="job_loss", iin=steady.iin, risk_date=RISK)
    incomes = {m.period: m.income for m in result.window}
    assert incomes[date(2023, 11, 1)] == Decimal("0.00")
    assert incomes[date(2023, 10, 1)] == Decimal("100000.00")
    assert result.participation_months == 23
    assert result.average_monthly_income == Decimal("187500.00")  # (22 × 200 000 + 100 000) ÷ 24


def test_a_refund_of_a_penalty_changes_nothing(steady, make_user) -> None:
    take_in(order_text([line_for(steady, amount="800,00", period="112023")], reference="PEN2", knp="017"))
    penalty = LedgerEntry.objects.get(participant__iin=steady.iin, kind="penalty")
    before = calculate(benefit="job_loss", iin=steady.iin, risk_date=RISK).as_json()
    refund = refund_register(
        entry_id=penalty.pk,
        amount=Decimal("800.00"),
        request_number="RP",
        request_date=date(2023, 12, 1),
        reason="Излишне уплачено",
        actor=make_user("specialist"),
    )
    refund_decide(refund_id=refund.pk, actor=make_user("head_of_unit"), approve=True, note="")
    assert calculate(benefit="job_loss", iin=steady.iin, risk_date=RISK).as_json() == before


def test_many_at_once_pass_the_inputs_of_the_type(steady) -> None:
    many = calculate_many(benefit="disability", risk_date=RISK, iins=[steady.iin], loss_degree=Decimal(50))
    first = many[steady.iin]
    assert not isinstance(first, NoAmount)
    assert first.amount == Decimal("42075.00")
    assert calculate_many(benefit="breadwinner", risk_date=RISK, iins=[steady.iin], dependents=2)[
        steady.iin
    ].amount == Decimal("54697.50")  # type: ignore[union-attr]
    assert calculate_many(benefit="maternity", risk_date=RISK, iins=[steady.iin], leave_days=126)[
        steady.iin
    ].amount == Decimal("840000.00")  # type: ignore[union-attr]


def test_the_reasons_when_there_is_no_amount(steady, people) -> None:
    with pytest.raises(NoAmount, match=r"^Unknown payment type: pension\.$"):
        calculate(benefit="pension", iin=steady.iin, risk_date=RISK)
    with pytest.raises(NoAmount, match=r"^Unknown payment type: pension\.$"):
        calculate_many(benefit="pension", iins=[steady.iin], risk_date=RISK)
    with pytest.raises(NoAmount, match=r"^No participant has the IIN 000000000000\.$"):
        calculate(benefit="job_loss", iin="000000000000", risk_date=RISK)
    missing = calculate_many(benefit="job_loss", iins=["000000000000"], risk_date=RISK)["000000000000"]
    assert str(missing) == "No participant has the IIN 000000000000."
    with pytest.raises(NoAmount, match=r"^The participant has no contributions before the month of the risk\.$"):
        calculate(benefit="job_loss", iin=steady.iin, risk_date=date(2021, 12, 1))
    early = people[9]
    _account(early, ["062020"], reference="EARLY")  # the window of a risk in July 2020 reaches 2018
    with pytest.raises(NoAmount, match=r"^No value of “Social contribution rate” is in force on 2018-07-01\.$"):
        calculate(benefit="disability", iin=early.iin, risk_date=date(2020, 7, 15), loss_degree=Decimal(50))


def test_the_json_names_every_parameter_row_used_and_the_notes(people) -> None:
    """The command's JSON, as a program reads it: the payment type's code, every parameter row
    with its date, value, confidence and id, the flagged names, and the note of a formula below
    zero (a 1-tenge month: income 28.57, far below the deduction)."""
    person = people[10]
    _account(person, ["112023"], amount="1,00", reference="ONE")
    data = calculate(benefit="disability", iin=person.iin, risk_date=RISK, loss_degree=Decimal(40)).as_json()
    assert data["payment_type"] == "0702"
    assert data["participation_months"] == 1  # a month of one tenge is a month with contributions
    assert data["amount"] == "0.00"
    assert data["average_monthly_income"] == "1.19"  # 1 ÷ 3.5 % = 28.57, over 24 months
    assert data["notes"] == ["The formula gives less than zero: the amount is zero."]
    mzp = next(p for p in data["parameters"] if p["name"] == "mzp")
    assert mzp["valid_from"] == "2023-01-01"
    assert mzp["value"] == "70000"
    assert mzp["confidence"] == "confirmed"
    assert isinstance(mzp["id"], int)
    assert {p["name"] for p in data["parameters"]} >= {"mzp", "contribution_rate", "deduction_mzp", "ksu_below_6"}
    assert data["flagged"] == []


def test_a_parameter_is_in_force_from_its_first_day_and_the_code_from_1_july_2023(steady) -> None:
    on_the_day = calculate(benefit="job_loss", iin=steady.iin, risk_date=date(2023, 7, 1))
    assert on_the_day.law == "Social Code"
    assert calculate(benefit="job_loss", iin=steady.iin, risk_date=date(2023, 6, 30)).law == "Law 286-VI of 26.12.2019"
    parameters = _Parameters()
    assert parameters.value("mzp", date(2023, 1, 1)) == Decimal("70000")  # its first day
    assert parameters.value("mzp", date(2022, 12, 31)) == Decimal("60000")


def test_an_amount_below_one_tenge_is_kept_and_zero_is_no_formula_below_zero(people) -> None:
    """Maternity on a 1-tenge month: 28.57 ÷ 12 = 2.38 × 1 ÷ 30 = 0.08, an amount, no note.
    Child care for someone whose only contribution is older than the window: 0 × 0.4 = 0,
    no less than the minimum (0): zero, but not "less than zero"."""
    small = people[11]
    _account(small, ["112023"], amount="1,00", reference="TINY")
    tiny = calculate(benefit="maternity", iin=small.iin, risk_date=RISK, leave_days=1)
    assert (tiny.amount, tiny.notes) == (Decimal("0.08"), [])
    old = people[12]
    _account(old, ["012020"], reference="OLD")
    care = calculate(benefit="child_care", iin=old.iin, risk_date=RISK)
    assert (care.average_monthly_income, care.amount, care.notes) == (Decimal("0.00"), Decimal("0.00"), [])
