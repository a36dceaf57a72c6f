"""Reads of the decision pages (Rules, paragraphs 11 and 14; conventions: "Recipients and
decisions", "Benefit amounts"): a decision with everything its page shows, each role's queue
with its deadlines, the open proposals, and a calculation explained for the reader.

Nothing here writes. The queue's deadlines come from one read of the working-day calendar and
one of the law's clock parameters for the whole page, never a query per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, QuerySet
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from payments.benefits import BenefitType
from payments.models import (
    Confidence,
    Decision,
    DecisionKind,
    DecisionProposal,
    DecisionState,
    LegalParameter,
    ParameterName,
    PaymentType,
    ProposalStatus,
    Recipient,
    RecipientStatus,
)
from records.formatting import money
from records.models import ApprovalStep
from records.paging import Key, KeysetPage, keyset_page
from records.working_days import CalendarNotLoaded, WorkingCalendar, next_working_day

OPEN_STATES = (DecisionState.DRAFT, DecisionState.SUBMITTED, DecisionState.VERIFIED, DecisionState.REJECTED)
STEPS = ("submit", "verify", "approve", "reject")
QUEUE_ROWS = 50  # rows of each queue section per page (keyset paging: every page reads only its rows)
PROPOSAL_ROWS = 50

# The kinds a recipient's status allows (the service refuses the others anyway).
KINDS_BY_STATUS: dict[str, tuple[str, ...]] = {
    RecipientStatus.APPLIED: (DecisionKind.ASSIGN,),
    RecipientStatus.IN_FORCE: (DecisionKind.SUSPEND, DecisionKind.TERMINATE, DecisionKind.RECALCULATE),
    RecipientStatus.SUSPENDED: (DecisionKind.RESUME, DecisionKind.TERMINATE, DecisionKind.RECALCULATE),
    RecipientStatus.TERMINATED: (),
}
# The payment types whose assigned period ends on a date the drafter gives (the МСЭ period, the
# dependants' right); the others' end is computed.
PERIOD_END_TYPES = (PaymentType.DISABILITY, PaymentType.BREADWINNER)


# --- Recipients, decisions, proposals ------------------------------------------------------------


def recipients_with_people() -> QuerySet[Recipient]:
    return Recipient.objects.select_related("participant", "deceased")


def decisions_with_people() -> QuerySet[Decision]:
    return Decision.objects.select_related(
        "recipient__participant",
        "recipient__deceased",
        "drafted_by",
        "verified_by",
        "approved_by",
        "proposal",
        "suspension",
    )


def kinds_allowed(recipient: Recipient) -> tuple[str, ...]:
    return KINDS_BY_STATUS.get(recipient.status, ())


def open_decision(recipient: Recipient) -> Decision | None:
    return recipient.decisions.filter(state__in=OPEN_STATES).first()


def open_proposal(recipient: Recipient, proposal_id: int) -> DecisionProposal | None:
    return DecisionProposal.objects.filter(pk=proposal_id, recipient=recipient, status=ProposalStatus.OPEN).first()


def open_proposals() -> QuerySet[DecisionProposal]:
    return DecisionProposal.objects.filter(status=ProposalStatus.OPEN).select_related("recipient__participant")


PROPOSAL_KEYS = (Key.field("created_at", datetime), Key.field("id", int))


def proposal_page(request: HttpRequest) -> KeysetPage[DecisionProposal]:
    """The open proposals, oldest first (the longest waiting on top)."""
    return keyset_page(request, open_proposals(), PROPOSAL_KEYS, descending=False, per_page=PROPOSAL_ROWS)


@dataclass(frozen=True)
class HistoryRow:
    step: str
    from_state: str
    to_state: str
    actor: Any
    taken_at: datetime
    reason: str


def decision_history(decision: Decision) -> list[HistoryRow]:
    """Every step of the decision (who, when, from, to, why), oldest first, with state labels."""

    def label(state: str) -> str:
        return str(DecisionState(state).label) if state in DecisionState.values else state

    return [
        HistoryRow(
            step=str(STEP_LABELS.get(step.step, step.step)),
            from_state=label(step.from_state),
            to_state=label(step.to_state),
            actor=step.actor,
            taken_at=step.taken_at,
            reason=step.reason,
        )
        for step in decision.approval_steps().order_by("taken_at", "id")
    ]


@dataclass(frozen=True)
class Threshold:
    value: Decimal
    valid_from: date | None


def threshold_of(decision: Decision) -> Threshold | None:
    """The approval threshold the decision was drafted with (``Decision.threshold``)."""
    if not decision.threshold:
        return None
    return Threshold(_decimal(decision.threshold.get("value")), _day(decision.threshold.get("valid_from")))


@dataclass(frozen=True)
class DifferenceRow:
    month: str
    fraction: str
    amount: Decimal


def difference_rows(decision: Decision) -> list[DifferenceRow]:
    """A recalculation's difference for each month already paid (``difference_months``)."""
    return [
        DifferenceRow(
            month=str(row.get("month", "")),
            fraction=number(_decimal(row.get("fraction"))),
            amount=_decimal(row.get("amount")),
        )
        for row in decision.difference_months or []
    ]


STEP_LABELS = {
    "submit": _("Submitted for verification"),
    "verify": _("Verified"),
    "approve": _("Approved"),
    "reject": _("Returned to the drafter"),
}


# --- Deadlines (Rules, paragraph 14; conventions: "Within one working day") ----------------------


@dataclass(frozen=True)
class Deadline:
    """A deadline (a local date: the end of that working day) and where it stands: ``late``,
    ``due_today`` or ``ahead`` while the thing is open; ``met`` or ``missed`` once it is done."""

    day: date
    state: str

    @classmethod
    def of(cls, day: date, *, today: date, done_on: date | None = None) -> Deadline:
        if done_on is not None:
            return cls(day, "met" if done_on <= day else "missed")
        if day < today:
            return cls(day, "late")
        return cls(day, "due_today" if day == today else "ahead")


def working_calendar(days: Iterable[date], *, longest: int = 1) -> WorkingCalendar | None:
    """The calendar for ``days``, or ``None`` when it has no data for them (the page says so)."""
    try:
        return WorkingCalendar(days, longest=longest)
    except CalendarNotLoaded:
        return None


def submission_deadline(decision: Decision) -> date | None:
    """Paragraph 14: a submitted decision is dealt with by the end of the next working day after
    the local date it was submitted (entered). ``None`` before it is submitted or when the
    calendar has no data for the year."""
    if decision.submitted_at is None:
        return None
    try:
        return next_working_day(timezone.localdate(decision.submitted_at))
    except CalendarNotLoaded:
        return None


class LawClock:
    """The law's clock of an application (reference.md §4.5): a decision within the working
    days of ``decision_working_days`` (``job_loss_decision_working_days`` for job loss) in force
    on the date of the application. The parameter rows are read once for a whole list."""

    NAMES = (ParameterName.DECISION_WORKING_DAYS, ParameterName.JOB_LOSS_DECISION_WORKING_DAYS)

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[date, int]]] = {}
        for row in LegalParameter.objects.filter(name__in=self.NAMES).order_by("name", "-valid_from"):
            self.rows.setdefault(row.name, []).append((row.valid_from, int(row.value)))

    def days(self, payment_type: str, on: date) -> int | None:
        name = self.NAMES[1] if payment_type == PaymentType.JOB_LOSS else self.NAMES[0]
        return next((value for since, value in self.rows.get(name, []) if since <= on), None)

    @property
    def longest(self) -> int:
        return max((value for rows in self.rows.values() for _since, value in rows), default=1)


# --- Each role's queue ----------------------------------------------------------------------------


@dataclass
class QueueRow:
    """A decision or an application of a queue with its deadlines: paragraph 14's one working
    day (from the submission of a decision, or from the application) and, for an application
    and a decision to assign, the law's clock from the application."""

    decision: Decision | None
    recipient: Recipient
    deadline: Deadline | None = None
    law_deadline: Deadline | None = None
    law_days: int | None = None


@dataclass
class QueueSection:
    key: str
    page: KeysetPage[Any]
    rows: list[QueueRow] = field(default_factory=list)


DECISION_KEYS = (Key.field("submitted_at", datetime), Key.field("id", int))
DRAFT_KEYS = (Key.field("drafted_at", datetime), Key.field("id", int))
APPLICATION_KEYS = (Key.field("application_date", date), Key.field("id", int))


def _queue_decisions() -> QuerySet[Decision]:
    return Decision.objects.select_related("recipient__participant", "drafted_by", "verified_by")


def _verified_by(user: User) -> Exists:
    """Decisions ``user`` verified in any round (the verifier never approves, even later)."""
    return Exists(
        ApprovalStep.objects.filter(
            content_type=ContentType.objects.get_for_model(Decision),
            object_pk=Cast(OuterRef("pk"), CharField()),
            actor_id=user.pk,
            step="verify",
        )
    )


def queue_querysets(user: User) -> list[tuple[str, QuerySet[Any], tuple[Key, ...]]]:
    """The sections of ``user``'s queue by the roles they hold, each with its ordering keys
    (the longest waiting first)."""
    sections: list[tuple[str, QuerySet[Any], tuple[Key, ...]]] = []
    mine = user.pk
    if user.has_perm("payments.verify_decision"):
        to_verify = _queue_decisions().filter(state=DecisionState.SUBMITTED).exclude(drafted_by_id=mine)
        sections.append(("verify", to_verify, DECISION_KEYS))
    if user.has_perm("payments.approve_decision"):
        to_approve = (
            _queue_decisions()
            .filter(state=DecisionState.VERIFIED)
            .exclude(drafted_by_id=mine)
            .exclude(verified_by_id=mine)
            .exclude(_verified_by(user))
        )
        if not user.has_perm("payments.approve_decision_above_threshold"):
            to_approve = to_approve.filter(needs_head_of_service=False)
        sections.append(("approve", to_approve, DECISION_KEYS))
    if user.has_perm("payments.add_decision"):
        returned = _queue_decisions().filter(state=DecisionState.REJECTED, drafted_by_id=mine)
        sections.append(("returned", returned, DRAFT_KEYS))
        drafts = _queue_decisions().filter(state=DecisionState.DRAFT, drafted_by_id=mine)
        sections.append(("drafts", drafts, DRAFT_KEYS))
        waiting = (
            Recipient.objects.filter(status=RecipientStatus.APPLIED)
            .exclude(Exists(Decision.objects.filter(recipient=OuterRef("pk"), state__in=OPEN_STATES)))
            .select_related("participant")
        )
        sections.append(("applications", waiting, APPLICATION_KEYS))
    if not sections:  # a reader (an auditor): what is waiting for verification or approval
        in_progress = _queue_decisions().filter(state__in=(DecisionState.SUBMITTED, DecisionState.VERIFIED))
        sections.append(("in_progress", in_progress, DECISION_KEYS))
    return sections


def decision_queue(request: HttpRequest, user: User) -> tuple[list[QueueSection], bool]:
    """Each section of ``user``'s queue, a keyset page each (``<key>-after=``…), its rows with
    their deadlines; and whether the calendar had the data for every deadline."""
    sections = [
        QueueSection(key, keyset_page(request, queryset, keys, descending=False, per_page=QUEUE_ROWS, prefix=f"{key}-"))
        for key, queryset, keys in queue_querysets(user)
    ]
    clock = LawClock()
    days: list[date] = []
    for section in sections:
        for item in section.page.object_list:
            recipient = item if isinstance(item, Recipient) else item.recipient
            days.append(recipient.application_date)
            if isinstance(item, Decision) and item.submitted_at is not None:
                days.append(timezone.localdate(item.submitted_at))
    calendar = working_calendar(days, longest=clock.longest) if days else None
    complete = calendar is not None or not days
    today = timezone.localdate()
    for section in sections:
        for item in section.page.object_list:
            if isinstance(item, Decision):
                row = QueueRow(decision=item, recipient=item.recipient)
            else:
                row = QueueRow(decision=None, recipient=item)
            if calendar is not None:
                try:
                    _deadlines(row, calendar, clock, today)
                except CalendarNotLoaded:
                    complete = False
            section.rows.append(row)
    return sections, complete


def _deadlines(row: QueueRow, calendar: WorkingCalendar, clock: LawClock, today: date) -> None:
    recipient, decision = row.recipient, row.decision
    if decision is None:
        row.deadline = Deadline.of(calendar.next_working_day(recipient.application_date), today=today)
    elif decision.submitted_at is not None:
        row.deadline = Deadline.of(calendar.next_working_day(timezone.localdate(decision.submitted_at)), today=today)
    if decision is None or decision.kind == DecisionKind.ASSIGN:
        row.law_days = clock.days(recipient.payment_type, recipient.application_date)
        if row.law_days is not None:
            day = calendar.add_working_days(recipient.application_date, row.law_days)
            row.law_deadline = Deadline.of(day, today=today)


def queue_people(sections: list[QueueSection]) -> list[str]:
    """The IINs a queue page shows (for its access-log row)."""
    return [row.recipient.participant.iin for section in sections for row in section.rows]


# --- A calculation explained (conventions: "Benefit amounts") --------------------------------------

LAW_LABELS = {
    "Social Code": _("Social Code of the Republic of Kazakhstan"),
    "Law 286-VI of 26.12.2019": _("Law No. 286-VI of 26 December 2019 on compulsory social insurance"),
}
FORMULAS = {
    BenefitType.DISABILITY: _("(СМД − deduction × МЗП) × replacement rate × КСУ × degree of lost ability"),
    BenefitType.BREADWINNER: _("(СМД − deduction × МЗП) × replacement rate × КИ × КСУ"),
    BenefitType.JOB_LOSS: _("СМД × КЗД × КСУ"),
    BenefitType.MATERNITY: _("СМД × days of leave ÷ days of a month"),
    BenefitType.CHILD_CARE: _(
        "СМД × replacement rate, no less than the minimum and no more than the maximum (a share of 7 МЗП)"
    ),
}
COEFFICIENT_LABELS = {
    "deduction_mzp": _("Deduction, share of МЗП"),
    "replacement": _("Replacement rate"),
    "ksu": _("КСУ (participation length coefficient)"),
    "loss_degree": _("Degree of lost ability to work"),
    "ki": _("КИ (dependants coefficient)"),
    "days": _("Days of leave"),
    "days_divisor": _("Days of a month"),
    "minimum": _("Minimum, KZT"),
    "maximum": _("Maximum, KZT"),
}


def _coefficient_sources(name: str, benefit: str) -> tuple[str, ...]:
    """The parameters a coefficient was read from (names, or a prefix ending in ``_``)."""
    if name == "replacement":
        return {
            BenefitType.JOB_LOSS: (ParameterName.JOB_LOSS_REPLACEMENT,),
            BenefitType.CHILD_CARE: (ParameterName.CHILD_CARE_REPLACEMENT,),
        }.get(benefit, (ParameterName.REPLACEMENT,))
    return {
        "deduction_mzp": (ParameterName.DEDUCTION_MZP,),
        "ksu": ("ksu_",),
        "ki": ("ki_",),
        "days_divisor": (ParameterName.MATERNITY_DAYS_DIVISOR,),
        "minimum": (ParameterName.CHILD_CARE_MINIMUM,),
        "maximum": (ParameterName.CHILD_CARE_MAX_MZP, ParameterName.MZP),
    }.get(name, ())


def _matches(parameter: str, sources: tuple[str, ...]) -> bool:
    return any(parameter == s or (s.endswith("_") and parameter.startswith(s)) for s in sources)


def number(value: Decimal) -> str:
    """A coefficient or parameter as the reader's language writes it: ``0,85`` and ``70 000`` in
    kk and ru, ``0.85`` and ``70,000`` in en (as many decimals as it has, no trailing zeros)."""
    return str(formats.number_format(Decimal(f"{value.normalize():f}"), use_l10n=True, force_grouping=True))


@dataclass(frozen=True)
class ExplainedParameter:
    name: str
    label: str
    value: Decimal
    valid_from: date
    confidence: str
    confidence_label: str
    row_id: int | None

    @property
    def flagged(self) -> bool:
        return self.confidence != Confidence.CONFIRMED

    @property
    def shown(self) -> str:
        return number(self.value)


@dataclass(frozen=True)
class ExplainedMonth:
    period: str
    contributions: Decimal
    rate: Decimal
    rate_flagged: bool
    income: Decimal
    capped: bool

    @property
    def rate_shown(self) -> str:
        return number(self.rate)


@dataclass(frozen=True)
class ExplainedCoefficient:
    name: str
    label: str
    shown: str
    flagged: bool


@dataclass
class ExplainedCalculation:
    """A calculation (``Calculation.as_json()``, live or as a decision keeps it) in the terms of
    the reader: the formula written out with its values and every input, each value the
    reference does not confirm flagged wherever it is used."""

    benefit: str
    payment_type: str
    payment_type_label: str
    law: str
    risk_date: date | None
    formula: str
    formula_with_values: str
    average_monthly_income: Decimal
    months_in_window: int
    participation_months: int
    mzp: Decimal | None
    mzp_flagged: bool
    cap: Decimal | None
    cap_flagged: bool
    amount: Decimal
    duration_months: int | None
    months: list[ExplainedMonth]
    coefficients: list[ExplainedCoefficient]
    parameters: list[ExplainedParameter]
    notes: list[str]

    @property
    def flagged(self) -> list[ExplainedParameter]:
        return [p for p in self.parameters if p.flagged]


def _decimal(value: Any, default: str = "0") -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else default))
    except (InvalidOperation, ValueError):
        return Decimal(default)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def explain_calculation(data: dict[str, Any]) -> ExplainedCalculation:
    """``data`` is ``Calculation.as_json()``: what the amount preview computes now and what a
    decision keeps (so the page explains a decision with the parameter versions it used, even
    if a parameter was corrected since)."""
    benefit = str(data.get("type", ""))
    parameters: list[ExplainedParameter] = []
    for p in data.get("parameters", []):
        name, confidence = str(p.get("name", "")), str(p.get("confidence", Confidence.CONFIRMED))
        parameters.append(
            ExplainedParameter(
                name=name,
                label=str(ParameterName(name).label) if name in ParameterName.values else name,
                value=_decimal(p.get("value")),
                valid_from=_day(p.get("valid_from")) or date.min,
                confidence=confidence,
                confidence_label=str(Confidence(confidence).label) if confidence in Confidence.values else confidence,
                row_id=p.get("id"),
            )
        )

    def used(*sources: str) -> list[ExplainedParameter]:
        return [p for p in parameters if _matches(p.name, sources)]

    mzp_rows, cap_rows = used(ParameterName.MZP), used(ParameterName.INCOME_CAP_MZP)
    mzp = mzp_rows[-1].value if mzp_rows else None
    cap = (cap_rows[-1].value * mzp).quantize(Decimal("0.01"), ROUND_HALF_UP) if mzp is not None and cap_rows else None
    rates = sorted(used(ParameterName.CONTRIBUTION_RATE), key=lambda p: p.valid_from)

    months = []
    for row in data.get("inputs", []):
        period = _day(f"{row.get('period', '')}-01")
        rate_row = next((r for r in reversed(rates) if period is not None and r.valid_from <= period), None)
        contributions, rate, income = (
            _decimal(row.get("contributions")),
            _decimal(row.get("rate")),
            _decimal(row.get("income")),
        )
        uncapped = (contributions / rate).quantize(Decimal("0.01"), ROUND_HALF_UP) if rate else Decimal("0")
        months.append(
            ExplainedMonth(
                period=str(row.get("period", "")),
                contributions=contributions,
                rate=rate,
                rate_flagged=bool(rate_row and rate_row.flagged),
                income=income,
                capped=cap is not None and contributions > 0 and uncapped > cap,
            )
        )

    coefficients = []
    values: dict[str, Decimal] = {}
    for name, value in (data.get("coefficients") or {}).items():
        values[name] = _decimal(value)
        shown = money(values[name]) if name in ("minimum", "maximum") else number(values[name])
        coefficients.append(
            ExplainedCoefficient(
                name=name,
                label=str(COEFFICIENT_LABELS.get(name, name)),
                shown=shown,
                flagged=any(p.flagged for p in used(*_coefficient_sources(name, benefit))),
            )
        )
    average = _decimal(data.get("average_monthly_income"))
    amount = _decimal(data.get("amount"))
    law = str(data.get("law", ""))
    code = str(data.get("payment_type", BenefitType.CODES.get(benefit, "")))
    return ExplainedCalculation(
        benefit=benefit,
        payment_type=code,
        payment_type_label=str(PaymentType(code).label) if code in PaymentType.values else code,
        law=str(LAW_LABELS.get(law, law)),
        risk_date=_day(data.get("risk_date")),
        formula=str(FORMULAS.get(benefit, "")),
        formula_with_values=_with_values(benefit, values, average=average, mzp=mzp, amount=amount),
        average_monthly_income=average,
        months_in_window=int(data.get("months_in_window") or len(months)),
        participation_months=int(data.get("participation_months") or 0),
        mzp=mzp,
        mzp_flagged=any(p.flagged for p in mzp_rows),
        cap=cap,
        cap_flagged=any(p.flagged for p in mzp_rows + cap_rows),
        amount=amount,
        duration_months=data.get("duration_months"),
        months=months,
        coefficients=coefficients,
        parameters=parameters,
        # Notes were worded in the language active when the amount was computed: shown in the
        # reader's (an English msgid is translated; another language is left as it was).
        notes=[gettext(str(note)) for note in data.get("notes", [])],
    )


def _with_values(benefit: str, c: dict[str, Decimal], *, average: Decimal, mzp: Decimal | None, amount: Decimal) -> str:
    """The formula of ``benefit`` with the numbers it was computed with, as the reader writes
    numbers: ``(200 000,00 − 0,5 × 70 000,00) × 0,6 × 0,85 × 0,5 = 42 075,00``."""

    def k(name: str) -> str:
        return number(c.get(name, Decimal(0)))

    m, result = money, f" = {money(amount)}"
    if benefit in (BenefitType.DISABILITY, BenefitType.BREADWINNER) and mzp is not None:
        base = f"({m(average)} − {k('deduction_mzp')} × {m(mzp)}) × {k('replacement')}"
        if benefit == BenefitType.DISABILITY:
            return f"{base} × {k('ksu')} × {k('loss_degree')}{result}"
        return f"{base} × {k('ki')} × {k('ksu')}{result}"
    if benefit == BenefitType.JOB_LOSS:
        return f"{m(average)} × {k('replacement')} × {k('ksu')}{result}"
    if benefit == BenefitType.MATERNITY:
        return f"{m(average)} × {k('days')} ÷ {k('days_divisor')}{result}"
    if benefit == BenefitType.CHILD_CARE:
        product = (average * c.get("replacement", Decimal(0))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        low, high = m(c.get("minimum")), m(c.get("maximum"))
        return f"{m(average)} × {k('replacement')} = {m(product)}; {low} ≤ … ≤ {high}{result}"
    return m(amount)
