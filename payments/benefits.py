"""Benefit amounts computed from the personal account (Rules, paragraph 12 items 14-15, 22;
conventions: "Benefit amounts", binding; reference.md §4-5 for the facts).

Every legal value comes from ``LegalParameter`` as in force on the date the right arises (the
contribution rate: as in force for each period). A ``Calculation`` keeps every input and every
parameter row it used, so an amount can be explained after a parameter was corrected, and names
the values the reference does not confirm. Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from contributions.selectors import net_contributions
from payments.models import Confidence, LegalParameter, ParameterName
from records.models import Participant

CENT = Decimal("0.01")
SOCIAL_CODE_FROM = date(2023, 7, 1)


class BenefitType:
    """The Fund's payment types (conventions: "Recipients and decisions") by their command names."""

    BREADWINNER = "breadwinner"  # 0701
    DISABILITY = "disability"  # 0702
    JOB_LOSS = "job_loss"  # 0703
    MATERNITY = "maternity"  # 0704
    CHILD_CARE = "child_care"  # 0705
    CODES = {BREADWINNER: "0701", DISABILITY: "0702", JOB_LOSS: "0703", MATERNITY: "0704", CHILD_CARE: "0705"}


class NoAmount(Exception):
    """No amount can be computed: the participant is unknown, has no contributions before the
    risk, has no right (job loss below the months required), or an input the type needs is
    missing. The message says which."""


def round_money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class UsedParameter:
    name: str
    valid_from: date
    value: Decimal
    confidence: str
    row_id: int


@dataclass(frozen=True)
class WindowMonth:
    period: date
    contributions: Decimal
    rate: Decimal
    income: Decimal  # contributions ÷ rate, rounded, capped


@dataclass
class Calculation:
    benefit: str
    iin: str
    risk_date: date
    law: str
    window: list[WindowMonth]
    average_monthly_income: Decimal
    participation_months: int
    coefficients: dict[str, Decimal]
    amount: Decimal
    duration_months: int | None
    parameters: list[UsedParameter]
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[UsedParameter]:
        """The parameters used whose value the reference does not confirm."""
        return [p for p in self.parameters if p.confidence != Confidence.CONFIRMED]

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.benefit,
            "payment_type": BenefitType.CODES[self.benefit],
            "iin": self.iin,
            "risk_date": self.risk_date.isoformat(),
            "law": self.law,
            "average_monthly_income": f"{self.average_monthly_income:.2f}",
            "months_in_window": len(self.window),
            "participation_months": self.participation_months,
            "coefficients": {name: _plain(value) for name, value in self.coefficients.items()},
            "amount": f"{self.amount:.2f}",
            "duration_months": self.duration_months,
            "inputs": [
                {
                    "period": f"{month.period:%Y-%m}",
                    "contributions": f"{month.contributions:.2f}",
                    "rate": _plain(month.rate),
                    "income": f"{month.income:.2f}",
                }
                for month in self.window
            ],
            "parameters": [
                {
                    "name": p.name,
                    "valid_from": p.valid_from.isoformat(),
                    "value": _plain(p.value),
                    "confidence": p.confidence,
                    "id": p.row_id,
                }
                for p in self.parameters
            ],
            "flagged": sorted({p.name for p in self.flagged}),
            "notes": self.notes,
        }


def _plain(value: Decimal) -> str:
    """A coefficient as written in the law: ``0.6``, ``1.02``, ``126``."""
    return f"{value.normalize():f}"


class _Parameters:
    """The parameter rows, read once (the table is small), each picked as in force on a date
    and remembered as used."""

    def __init__(self) -> None:
        self.rows: dict[str, list[LegalParameter]] = {}
        for row in LegalParameter.objects.order_by("name", "-valid_from"):
            self.rows.setdefault(row.name, []).append(row)
        self.used: dict[int, UsedParameter] = {}

    def get(self, name: str, on: date, *, required: bool = True) -> Decimal | None:
        row = next((r for r in self.rows.get(name, []) if r.valid_from <= on), None)
        if row is None:
            if required:
                label = ParameterName(name).label
                raise NoAmount(_("No value of “%(name)s” is in force on %(day)s.") % {"name": label, "day": on})
            return None
        self.used[row.pk] = UsedParameter(name, row.valid_from, row.value, row.confidence, row.pk)
        return row.value

    def value(self, name: str, on: date) -> Decimal:
        found = self.get(name, on)
        assert found is not None  # noqa: S101 - get() raises for a required one
        return found

    def fresh(self) -> _Parameters:
        """The same rows, nothing used yet: one calculation of many."""
        other = _Parameters.__new__(_Parameters)
        other.rows, other.used = self.rows, {}
        return other


def parameter_in_force(name: str, on: date) -> UsedParameter:
    """One legal parameter's row in force on ``on`` (the deciding rules read them too: the
    approval thresholds, the law's clock, the child-care months). ``NoAmount`` when none is."""
    row = LegalParameter.objects.filter(name=name, valid_from__lte=on).order_by("-valid_from").first()
    if row is None:
        raise NoAmount(
            _("No value of “%(name)s” is in force on %(day)s.") % {"name": ParameterName(name).label, "day": on}
        )
    return UsedParameter(name, row.valid_from, row.value, row.confidence, row.pk)


def _month(day: date) -> date:
    return day.replace(day=1)


def _months_back(month: date, count: int) -> list[date]:
    """The ``count`` calendar months before ``month``, oldest first."""
    index = month.year * 12 + month.month - 1
    return [date((i // 12), i % 12 + 1, 1) for i in range(index - count, index)]


def _ksu(months: int, on: date, parameters: _Parameters) -> Decimal:
    """КСУ by months of participation (reference.md §4.2), capped where a cap is in force."""
    bands = (
        (6, ParameterName.KSU_BELOW_6),
        (12, ParameterName.KSU_6),
        (24, ParameterName.KSU_12),
        (36, ParameterName.KSU_24),
        (48, ParameterName.KSU_36),
        (60, ParameterName.KSU_48),
    )
    for below, name in bands:
        if months < below:
            return parameters.value(name, on)
    years = Decimal((months - 60) // 12)
    ksu = parameters.value(ParameterName.KSU_60, on) + parameters.value(ParameterName.KSU_STEP, on) * years
    cap = parameters.get(ParameterName.KSU_CAP, on, required=False)
    return min(ksu, cap) if cap is not None else ksu


def _job_loss_months(months: int, on: date, parameters: _Parameters) -> int:
    bands = (
        (12, ParameterName.JOB_LOSS_MONTHS_6),
        (24, ParameterName.JOB_LOSS_MONTHS_12),
        (36, ParameterName.JOB_LOSS_MONTHS_24),
        (48, ParameterName.JOB_LOSS_MONTHS_36),
        (60, ParameterName.JOB_LOSS_MONTHS_48),
    )
    name = next((n for below, n in bands if months < below), ParameterName.JOB_LOSS_MONTHS_60)
    return int(parameters.value(name, on))


def calculate(
    *,
    benefit: str,
    iin: str,
    risk_date: date,
    loss_degree: Decimal | None = None,
    dependents: int | None = None,
    leave_days: int | None = None,
) -> Calculation:
    """The amount of ``benefit`` for the participant ``iin`` whose right arises on ``risk_date``
    (conventions: "Benefit amounts"). Raises ``NoAmount`` with the reason when there is none."""
    if benefit not in BenefitType.CODES:
        raise NoAmount(_("Unknown payment type: %(type)s.") % {"type": benefit})
    participant = Participant.objects.filter(iin=iin).first()
    if participant is None:
        raise NoAmount(_("No participant has the IIN %(iin)s.") % {"iin": iin})
    contributions = net_contributions([participant.pk], before=_month(risk_date))[participant.pk]
    return _amount(
        benefit=benefit,
        iin=iin,
        risk_date=risk_date,
        contributions=contributions,
        parameters=_Parameters(),
        loss_degree=loss_degree,
        dependents=dependents,
        leave_days=leave_days,
    )


def calculate_many(
    *,
    benefit: str,
    risk_date: date,
    iins: list[str],
    loss_degree: Decimal | None = None,
    dependents: int | None = None,
    leave_days: int | None = None,
) -> dict[str, Calculation | NoAmount]:
    """``calculate`` for many participants with the same risk date and inputs, in one set-based
    pass: the participants in one read, their net contributions in two grouped reads, the
    parameters once; the formula is the same code (``_amount``). Each IIN maps to its
    calculation or to the ``NoAmount`` that says why it has none."""
    if benefit not in BenefitType.CODES:
        raise NoAmount(_("Unknown payment type: %(type)s.") % {"type": benefit})
    ids = dict(Participant.objects.filter(iin__in=iins).values_list("pk", "iin"))
    contributions = net_contributions(list(ids), before=_month(risk_date))
    parameters = _Parameters()
    results: dict[str, Calculation | NoAmount] = {
        iin: NoAmount(_("No participant has the IIN %(iin)s.") % {"iin": iin}) for iin in iins
    }
    for pk, iin in ids.items():
        try:
            results[iin] = _amount(
                benefit=benefit,
                iin=iin,
                risk_date=risk_date,
                contributions=contributions[pk],
                parameters=parameters.fresh(),
                loss_degree=loss_degree,
                dependents=dependents,
                leave_days=leave_days,
            )
        except NoAmount as exc:
            results[iin] = exc
    return results


def _amount(
    *,
    benefit: str,
    iin: str,
    risk_date: date,
    contributions: dict[date, Decimal],
    parameters: _Parameters,
    loss_degree: Decimal | None,
    dependents: int | None,
    leave_days: int | None,
) -> Calculation:
    """The formula of ``benefit`` (conventions: "Benefit amounts") on a participant's net
    contributions by period before the month of the risk."""
    on = risk_date
    risk_month = _month(risk_date)
    participation = sum(1 for total in contributions.values() if total > 0)
    if not participation:
        raise NoAmount(_("The participant has no contributions before the month of the risk."))

    window_name = (
        ParameterName.MATERNITY_WINDOW_MONTHS if benefit == BenefitType.MATERNITY else ParameterName.WINDOW_MONTHS
    )
    months = int(parameters.value(window_name, on))
    mzp = parameters.value(ParameterName.MZP, on)
    cap = round_money(parameters.value(ParameterName.INCOME_CAP_MZP, on) * mzp)
    window = []
    for period in _months_back(risk_month, months):
        paid = contributions.get(period, Decimal("0"))
        rate = parameters.value(ParameterName.CONTRIBUTION_RATE, period)
        income = min(round_money(paid / rate), cap) if paid > 0 else Decimal("0.00")
        window.append(WindowMonth(period, paid, rate, income))
    average = round_money(sum((m.income for m in window), Decimal("0")) / months)
    ksu = _ksu(participation, on, parameters)
    coefficients: dict[str, Decimal] = {}
    notes: list[str] = []
    duration: int | None = None

    if benefit in (BenefitType.DISABILITY, BenefitType.BREADWINNER):
        deduction = parameters.value(ParameterName.DEDUCTION_MZP, on)
        replacement = parameters.value(ParameterName.REPLACEMENT, on)
        coefficients.update(deduction_mzp=deduction, replacement=replacement, ksu=ksu)
        base = (average - deduction * mzp) * replacement * ksu
        if benefit == BenefitType.DISABILITY:
            if loss_degree is None or not Decimal(30) <= loss_degree <= Decimal(100):
                raise NoAmount(_("The degree of lost ability to work (30-100 per cent) is needed."))
            degree = loss_degree / Decimal(100)
            coefficients["loss_degree"] = degree
            raw = base * degree
        else:
            if dependents is None or dependents < 1:
                raise NoAmount(_("The number of dependants (at least one) is needed."))
            names = (ParameterName.KI_1, ParameterName.KI_2, ParameterName.KI_3, ParameterName.KI_4)
            ki = parameters.value(names[min(dependents, 4) - 1], on)
            coefficients["ki"] = ki
            raw = base * ki
    elif benefit == BenefitType.JOB_LOSS:
        minimum = int(parameters.value(ParameterName.JOB_LOSS_MIN_MONTHS, on))
        if participation < minimum:
            raise NoAmount(
                _("No right to job-loss payments: %(months)s months of participation, %(minimum)s needed.")
                % {"months": participation, "minimum": minimum}
            )
        replacement = parameters.value(ParameterName.JOB_LOSS_REPLACEMENT, on)
        coefficients.update(replacement=replacement, ksu=ksu)
        raw = average * replacement * ksu
        duration = _job_loss_months(participation, on, parameters)
    elif benefit == BenefitType.MATERNITY:
        if leave_days is None or leave_days < 1:
            raise NoAmount(_("The days of maternity leave are needed."))
        divisor = parameters.value(ParameterName.MATERNITY_DAYS_DIVISOR, on)
        coefficients.update(days=Decimal(leave_days), days_divisor=divisor)
        raw = average * Decimal(leave_days) / divisor
    else:  # child care
        replacement = parameters.value(ParameterName.CHILD_CARE_REPLACEMENT, on)
        lowest = parameters.value(ParameterName.CHILD_CARE_MINIMUM, on)
        highest = round_money(parameters.value(ParameterName.CHILD_CARE_MAX_MZP, on) * mzp)
        coefficients.update(replacement=replacement, minimum=lowest, maximum=highest)
        raw = min(max(average * replacement, lowest), highest)

    if raw < 0:
        notes.append(str(_("The formula gives less than zero: the amount is zero.")))
        raw = Decimal("0")
    return Calculation(
        benefit=benefit,
        iin=iin,
        risk_date=risk_date,
        # Named in English, as the API and the command print it for programs.
        law="Social Code" if risk_date >= SOCIAL_CODE_FROM else "Law 286-VI of 26.12.2019",
        window=window,
        average_monthly_income=average,
        participation_months=participation,
        coefficients=coefficients,
        amount=round_money(raw),
        duration_months=duration,
        parameters=sorted(parameters.used.values(), key=lambda p: (p.name, p.valid_from)),
        notes=notes,
    )
