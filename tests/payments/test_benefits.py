"""Benefit amounts (conventions: "Benefit amounts"; reference.md §4-5), from personal accounts
built by the real contribution pipeline, against amounts computed by hand here: never by the
code under test."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from payments.benefits import NoAmount, _ksu, _Parameters, calculate
from tests.conftest import line_for, order_text, take_in

pytestmark = pytest.mark.django_db


def _months(first: tuple[int, int], count: int) -> list[str]:
    """``count`` periods MMYYYY from ``first`` (year, month) on."""
    year, month = first
    out = []
    for _ in range(count):
        out.append(f"{month:02d}{year}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return out


def _account(person, periods: list[str], amount: str = "7000,00", reference: str = "ACC", **kwargs) -> None:
    take_in(order_text([line_for(person, amount=amount, period=p) for p in periods], reference=reference, **kwargs))


@pytest.fixture
def steady(people):
    """7 000 tenge of contributions a month for 2021-12 ... 2023-11 (24 months): an income of
    7 000 ÷ 3.5% = 200 000 a month; a penalty that must not count."""
    person = people[4]
    _account(person, _months((2021, 12), 24))
    _account(person, ["112023"], amount="500,00", reference="PEN", knp="017")
    return person


RISK = date(2023, 12, 15)  # Social Code: МЗП 70 000, deduction 50 %, job-loss КЗД 0.45, КСУ cap 1.30


def test_disability_by_hand(steady) -> None:
    # (200 000 − 0.5 × 70 000) × 0.6 × КСУ 0.85 (24 months) × 0.5 = 42 075.00
    result = calculate(benefit="disability", iin=steady.iin, risk_date=RISK, loss_degree=Decimal(50))
    assert result.average_monthly_income == Decimal("200000.00")
    assert result.participation_months == 24
    assert len(result.window) == 24
    assert result.window[0].period == date(2021, 12, 1)
    assert result.window[-1].period == date(2023, 11, 1)
    assert result.coefficients["ksu"] == Decimal("0.85")
    assert result.amount == Decimal("42075.00")
    assert result.law == "Social Code"


def test_loss_of_breadwinner_by_hand_and_its_likely_table_flagged(steady) -> None:
    # (200 000 − 35 000) × 0.6 × КИ 0.65 (two dependants) × 0.85 = 54 697.50
    result = calculate(benefit="breadwinner", iin=steady.iin, risk_date=RISK, dependents=2)
    assert result.amount == Decimal("54697.50")
    assert [p.name for p in result.flagged] == ["ki_2"]  # the Code's КИ table is LIKELY


def test_job_loss_by_hand_with_its_duration(steady) -> None:
    # 200 000 × 0.45 × 0.85 = 76 500.00, for 3 months (24-35 months of participation)
    result = calculate(benefit="job_loss", iin=steady.iin, risk_date=RISK)
    assert result.amount == Decimal("76500.00")
    assert result.duration_months == 3


def test_maternity_over_twelve_months_by_hand(steady) -> None:
    # the window 2022-12 ... 2023-11: 200 000 × 126 ÷ 30 = 840 000.00
    result = calculate(benefit="maternity", iin=steady.iin, risk_date=RISK, leave_days=126)
    assert len(result.window) == 12
    assert result.amount == Decimal("840000.00")


def test_child_care_by_hand_with_its_open_minimum_flagged(steady) -> None:
    # 200 000 × 0.4 = 80 000.00, between the minimum and 40 % of 7 МЗП (196 000)
    result = calculate(benefit="child_care", iin=steady.iin, risk_date=RISK)
    assert result.amount == Decimal("80000.00")
    assert "child_care_minimum" in [p.name for p in result.flagged]


def test_the_2020_law_by_hand(people) -> None:
    """Risk on 2022-06-15: МЗП 60 000, deduction 55 % (LIKELY for the 2020 original), КЗД of job
    loss 0.40; the window 2020-06 ... 2022-05."""
    person = people[5]
    _account(person, _months((2020, 6), 24))
    risk = date(2022, 6, 15)
    disability = calculate(benefit="disability", iin=person.iin, risk_date=risk, loss_degree=Decimal(30))
    # (200 000 − 0.55 × 60 000) × 0.6 × 0.85 × 0.3 = 25 551.00
    assert disability.amount == Decimal("25551.00")
    assert disability.law == "Law 286-VI of 26.12.2019"
    assert "deduction_mzp" in [p.name for p in disability.flagged]
    # 200 000 × 0.40 × 0.85 = 68 000.00
    assert calculate(benefit="job_loss", iin=person.iin, risk_date=risk).amount == Decimal("68000.00")


def test_the_income_cap_the_empty_months_and_a_formula_below_zero(people) -> None:
    """20 000 in 2023-10 is an income of 571 428.57, capped at 7 × 70 000 = 490 000; 3 500 in
    2023-11 is 100 000; the other 22 months count as 0: 590 000 ÷ 24 = 24 583.33. Below the
    deduction (35 000) the disability formula is negative: zero, said so."""
    person = people[6]
    _account(person, ["102023"], amount="20000,00", reference="CAP1")
    _account(person, ["112023"], amount="3500,00", reference="CAP2")
    result = calculate(benefit="disability", iin=person.iin, risk_date=RISK, loss_degree=Decimal(100))
    incomes = {m.period: m.income for m in result.window if m.income}
    assert incomes == {date(2023, 10, 1): Decimal("490000.00"), date(2023, 11, 1): Decimal("100000.00")}
    assert result.average_monthly_income == Decimal("24583.33")
    assert result.coefficients["ksu"] == Decimal("0.1")  # 2 months of participation
    assert result.amount == Decimal("0.00")
    assert result.notes
    with pytest.raises(NoAmount, match="6 needed"):
        calculate(benefit="job_loss", iin=person.iin, risk_date=RISK)


def test_ksu_grows_by_full_years_and_is_capped_from_the_social_code() -> None:
    parameters = _Parameters()
    assert _ksu(5, RISK, parameters) == Decimal("0.1")
    assert _ksu(71, RISK, parameters) == Decimal("1.00")
    assert _ksu(72, RISK, parameters) == Decimal("1.02")
    assert _ksu(300, RISK, parameters) == Decimal("1.30")  # 1.00 + 0.02 × 20, capped
    assert _ksu(300, date(2023, 6, 30), parameters) == Decimal("1.40")  # no cap before the Code


def test_no_amount_without_a_participant_contributions_or_the_inputs(people, steady) -> None:
    with pytest.raises(NoAmount, match="No participant"):
        calculate(benefit="disability", iin="000000000000", risk_date=RISK, loss_degree=Decimal(50))
    with pytest.raises(NoAmount, match="no contributions"):
        calculate(benefit="disability", iin=steady.iin, risk_date=date(2021, 12, 31), loss_degree=Decimal(50))
    with pytest.raises(NoAmount, match="degree"):
        calculate(benefit="disability", iin=steady.iin, risk_date=RISK)
    with pytest.raises(NoAmount, match="dependants"):
        calculate(benefit="breadwinner", iin=steady.iin, risk_date=RISK, dependents=0)
    with pytest.raises(NoAmount, match="days"):
        calculate(benefit="maternity", iin=steady.iin, risk_date=RISK)


def test_benefit_calc_prints_one_json_object_and_fails_with_the_reason(steady) -> None:
    out = io.StringIO()
    call_command(
        "benefit_calc", "--type", "job_loss", "--iin", steady.iin, "--risk-date", "2023-12-15", "--json", stdout=out
    )
    data = json.loads(out.getvalue())
    assert data["amount"] == "76500.00"
    assert data["average_monthly_income"] == "200000.00"
    assert (data["type"], data["iin"], data["risk_date"], data["law"]) == (
        "job_loss",
        steady.iin,
        "2023-12-15",
        "Social Code",
    )
    assert (data["months_in_window"], data["participation_months"], data["duration_months"]) == (24, 24, 3)
    assert data["coefficients"] == {"replacement": "0.45", "ksu": "0.85"}
    assert data["inputs"][0] == {
        "period": "2021-12",
        "contributions": "7000.00",
        "rate": "0.035",
        "income": "200000.00",
    }
    with pytest.raises(CommandError, match="No participant"):
        call_command("benefit_calc", "--type", "disability", "--iin", "000000000000", "--risk-date", "2023-12-15")


def test_many_at_once_give_what_each_alone_gives_in_a_fixed_number_of_queries(people, steady) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from payments.benefits import calculate_many

    short = people[7]
    _account(short, ["112023"], reference="SHORT")  # one month: no right to job-loss payments
    iins = [steady.iin, short.iin, "000000000000"]
    with CaptureQueriesContext(connection) as queries:
        many = calculate_many(benefit="job_loss", risk_date=RISK, iins=iins)
    assert len(queries) == 4  # participants, parameters, contributions, refunds: whatever the count
    alone = calculate(benefit="job_loss", iin=steady.iin, risk_date=RISK)
    first = many[steady.iin]
    assert not isinstance(first, NoAmount)
    assert first.as_json() == alone.as_json()
    assert isinstance(many[short.iin], NoAmount)
    assert "6 needed" in str(many[short.iin])
    assert isinstance(many["000000000000"], NoAmount)
