"""Drafting decisions and taking them through their approval (Rules, paragraphs 11 and 14;
conventions: "Recipients and decisions", "Benefit amounts").

A specialist drafts; the system computes the amount from the personal account; the steps
(submit, verify, approve, reject) go through ``records.approval.take_step``, the one approval
mechanism that refunds use too. Approval numbers the decision (gapless per year, the number
taken in the same transaction: ``django-sequences``) and puts it in force on the recipient.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from sequences import get_next_value  # type: ignore[import-untyped]

from contributions.services.common import DomainError, clean_note
from payments.benefits import (
    SOCIAL_CODE_FROM,
    BenefitType,
    Calculation,
    NoAmount,
    UsedParameter,
    calculate,
    parameter_in_force,
    round_money,
)
from payments.models import (
    Decision,
    DecisionKind,
    DecisionProposal,
    DecisionState,
    EndReason,
    ParameterName,
    PaymentType,
    ProposalStatus,
    Recipient,
    RecipientChange,
    RecipientStatus,
)
from payments.services.recipients import active_dependants
from records.approval import StepNotPermitted, WrongState, stale_page, take_step
from records.services import Actor, audit_record, with_history_context

BENEFIT_OF_TYPE = {code: name for name, code in BenefitType.CODES.items()}
OPEN_DECISION_STATES = (DecisionState.DRAFT, DecisionState.SUBMITTED, DecisionState.VERIFIED, DecisionState.REJECTED)

# The rules of each payment type under each law (reference.md §4.1).
_RULES_ORDER = {
    ("2020 law", "0701"): "217",
    ("2020 law", "0702"): "217",
    ("2020 law", "0703"): "217",
    ("2020 law", "0704"): "217",
    ("2020 law", "0705"): "217",
    ("Social Code", "0701"): "239",
    ("Social Code", "0702"): "238",
    ("Social Code", "0703"): "237",
    ("Social Code", "0704"): "248",
    ("Social Code", "0705"): "248",
}
_ARTICLE_2020 = {"0701": "21", "0702": "20", "0703": "22", "0704": "23", "0705": "24"}


def law_of(risk_date: date) -> str:
    return "Social Code" if risk_date >= SOCIAL_CODE_FROM else "2020 law"


def legal_basis(payment_type: str, risk_date: date) -> str:
    """The legal basis a decision cites, in the active language: the law in force on the risk
    date (conventions: "Benefit amounts", "Law in force"), the rules of the payment type and the
    Rules' paragraphs on recipients (10-14). Stored in Russian with the decision; printed in the
    document's language."""
    law = law_of(risk_date)
    order = _RULES_ORDER[(law, payment_type)]
    if law == "Social Code":
        act = _("Social Code of the Republic of Kazakhstan; Rules approved by Order No. %(order)s") % {"order": order}
    else:
        act = _(
            "Law No. 286-VI of 26 December 2019 on compulsory social insurance, article %(article)s;"
            " Rules approved by Order No. %(order)s of 8 June 2020"
        ) % {"article": _ARTICLE_2020[payment_type], "order": order}
    return "; ".join([act, _("Rules of the personalized record, paragraphs 10-14")])


def amount_for(recipient: Recipient) -> Calculation:
    """The amount of the recipient's payment computed now from the personal account (of the
    deceased breadwinner for 0701), with every input and parameter version it used."""
    return calculate(
        benefit=BENEFIT_OF_TYPE[recipient.payment_type],
        iin=recipient.account_holder.iin,
        risk_date=recipient.risk_date,
        loss_degree=Decimal(recipient.loss_degree) if recipient.loss_degree is not None else None,
        dependents=active_dependants(recipient, recipient.risk_date)
        if recipient.payment_type == PaymentType.BREADWINNER
        else None,
        leave_days=recipient.leave_days,
    )


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def assigned_period(recipient: Recipient, calc: Calculation, period_end: date | None) -> tuple[date, date | None]:
    """From the risk date (conventions: "Monthly payments") to the end the type sets: job loss
    for its months, child care until the child's age in force, maternity for its leave days;
    disability and breadwinner until the date the drafter gives (the МСЭ period, the dependants'
    age) or open."""
    start = recipient.risk_date
    if recipient.payment_type == PaymentType.JOB_LOSS and calc.duration_months:
        return start, _add_months(start, calc.duration_months) - timedelta(days=1)
    if recipient.payment_type == PaymentType.CHILD_CARE:
        months = int(_parameter(ParameterName.CHILD_CARE_MONTHS, start).value)
        return start, _add_months(start, months) - timedelta(days=1)
    if recipient.payment_type == PaymentType.MATERNITY and recipient.leave_days:
        return start, start + timedelta(days=recipient.leave_days - 1)
    if period_end is not None and period_end < start:
        raise DomainError(_("The payment cannot end before it starts."))
    return start, period_end


def threshold_for(*, amount: Decimal, lump_sum: bool, on: date) -> tuple[bool, dict[str, Any]]:
    """Whether the amount is above the threshold in force on ``on`` (monthly or lump sum), so
    that the head of the service approves it instead of the head of a unit."""
    name = ParameterName.APPROVAL_LUMP_THRESHOLD if lump_sum else ParameterName.APPROVAL_MONTHLY_THRESHOLD
    used = _parameter(name, on)
    return amount > used.value, {
        "name": str(name),
        "value": f"{used.value.normalize():f}",
        "valid_from": used.valid_from.isoformat(),
        "id": used.row_id,
    }


def _parameter(name: str, on: date) -> UsedParameter:
    try:
        return parameter_in_force(name, on)
    except NoAmount as exc:
        raise DomainError(str(exc)) from exc


def difference_for_paid_months(
    *, start: date, old: Decimal, new: Decimal, until: date
) -> tuple[Decimal, list[dict[str, str]]]:
    """The difference owed either way for the months already paid at the old amount: each
    month from ``start`` to the month before ``until``, the first in proportion to its days
    from ``start`` (conventions: "Monthly payments"). Positive is owed to the recipient,
    negative is to be recovered. Until the payments issue records what was paid, "already
    paid" is every month the decision in force covered before the current one."""
    rows: list[dict[str, str]] = []
    total = Decimal("0")
    month = start.replace(day=1)
    while month < until.replace(day=1):
        days = calendar.monthrange(month.year, month.month)[1]
        paid_days = days - (start.day - 1) if month == start.replace(day=1) else days
        fraction = Decimal(paid_days) / Decimal(days)
        amount = round_money((new - old) * fraction)
        rows.append({"month": f"{month:%Y-%m}", "fraction": f"{fraction:.4f}", "amount": f"{amount:.2f}"})
        total += amount
        month = _add_months(month, 1)
    return total, rows


def _check_kind_allowed(recipient: Recipient, kind: str) -> None:
    allowed: dict[str, tuple[str, ...]] = {
        DecisionKind.ASSIGN: (RecipientStatus.APPLIED,),
        DecisionKind.SUSPEND: (RecipientStatus.IN_FORCE,),
        DecisionKind.RESUME: (RecipientStatus.SUSPENDED,),
        DecisionKind.TERMINATE: (RecipientStatus.IN_FORCE, RecipientStatus.SUSPENDED),
        DecisionKind.RECALCULATE: (RecipientStatus.IN_FORCE, RecipientStatus.SUSPENDED),
    }
    if kind not in allowed:
        raise DomainError(_("Unknown kind of decision: %(kind)s.") % {"kind": kind})
    if recipient.status not in allowed[kind]:
        raise DomainError(
            _("A decision to %(kind)s is not possible while the recipient's status is: %(status)s.")
            % {"kind": DecisionKind(kind).label.lower(), "status": recipient.get_status_display()}
        )


def _latest_approved(recipient: Recipient, *kinds: str) -> Decision | None:
    return (
        recipient.decisions.filter(state=DecisionState.APPROVED, kind__in=kinds).order_by("-approved_at", "-id").first()
    )


def _fill(
    decision: Decision,
    recipient: Recipient,
    *,
    effective_date: date | None,
    period_end: date | None,
    suspend_deadline: date | None,
    end_reason: str,
) -> None:
    """The kind's content, computed: the amount and its calculation for assign and recalculate,
    the dates and checks for the others."""
    kind = decision.kind
    today = timezone.localdate()
    if kind in (DecisionKind.ASSIGN, DecisionKind.RECALCULATE):
        try:
            calc = amount_for(recipient)
        except NoAmount as exc:
            raise DomainError(str(exc)) from exc
        decision.calculation = calc.as_json()
        decision.computed_at = timezone.now()
        decision.window_start = calc.window[0].period if calc.window else None
        decision.window_end = calc.window[-1].period if calc.window else None
        decision.amount = calc.amount
        decision.lump_sum = recipient.payment_type == PaymentType.MATERNITY
        if kind == DecisionKind.ASSIGN:
            decision.period_start, decision.period_end = assigned_period(recipient, calc, period_end)
            decision.effective_date = recipient.risk_date
        else:
            assign = _latest_approved(recipient, DecisionKind.ASSIGN)
            decision.period_start = assign.period_start if assign else recipient.risk_date
            decision.period_end = recipient.end_date
            decision.effective_date = decision.period_start or recipient.risk_date
            decision.previous_amount = recipient.amount or Decimal("0")
            if decision.lump_sum:
                decision.difference = decision.amount - decision.previous_amount
                decision.difference_months = []
            else:
                decision.difference, decision.difference_months = difference_for_paid_months(
                    start=decision.effective_date, old=decision.previous_amount, new=decision.amount, until=today
                )
        return
    decision.amount = recipient.amount or Decimal("0")
    decision.lump_sum = recipient.payment_type == PaymentType.MATERNITY
    if effective_date is None:
        raise DomainError(_("Give the date the decision takes effect."))
    if effective_date < recipient.risk_date:
        raise DomainError(_("A decision cannot take effect before the right arose."))
    decision.effective_date = effective_date
    if kind == DecisionKind.SUSPEND:
        if suspend_deadline is None or suspend_deadline <= effective_date:
            raise DomainError(_("A suspension needs its deadline, after the date it takes effect."))
        decision.suspend_deadline = suspend_deadline
    elif kind == DecisionKind.RESUME:
        suspension = _latest_approved(recipient, DecisionKind.SUSPEND)
        if suspension is None or suspension.suspend_deadline is None:
            raise DomainError(_("There is no suspension in force to end."))
        if effective_date < suspension.effective_date:
            raise DomainError(_("A payment cannot resume before it was suspended."))
        decision.suspension = suspension
        decision.withdrawn_in_time = effective_date <= suspension.suspend_deadline
    elif kind == DecisionKind.TERMINATE:
        if end_reason not in EndReason.values:
            raise DomainError(_("Give the reason the payment ends."))
        decision.end_reason = end_reason
        decision.period_end = payment_end(end_reason, effective_date)


def payment_end(end_reason: str, effective_date: date) -> date:
    """The last day paid (reference.md §4.5, "Payment"): on death through the month of death;
    at the recipient's request or on removal from the unemployed register through the month
    (the end takes effect on the first day of the next month); otherwise the day before it
    takes effect."""
    if end_reason in (EndReason.DEATH, EndReason.REQUEST, EndReason.DEREGISTERED):
        return _month_end(effective_date)
    return effective_date - timedelta(days=1)


@with_history_context
@transaction.atomic
def decision_draft(
    *,
    recipient_id: int,
    kind: str,
    actor: User,
    note: str = "",
    effective_date: date | None = None,
    period_end: date | None = None,
    suspend_deadline: date | None = None,
    end_reason: str = "",
    proposal_id: int | None = None,
) -> Decision:
    """Draft a decision; the system computes what the kind needs (the amount for assign and
    recalculate, the end of payment for terminate). One decision of a recipient is open at a
    time. Raises ``Recipient.DoesNotExist`` for an unknown recipient (a 404 at the door)."""
    if not actor.has_perm("payments.add_decision"):
        raise PermissionDenied
    note = clean_note(note)
    recipient = (
        Recipient.objects.select_for_update(of=("self",)).select_related("participant", "deceased").get(pk=recipient_id)
    )
    _check_kind_allowed(recipient, kind)
    open_one = recipient.decisions.filter(state__in=OPEN_DECISION_STATES).first()
    if open_one is not None:
        raise DomainError(
            _("A decision of this recipient is already in progress (%(kind)s, %(state)s): finish it first.")
            % {"kind": open_one.get_kind_display(), "state": open_one.get_state_display()}
        )
    if kind in (DecisionKind.SUSPEND, DecisionKind.TERMINATE) and not note:
        raise DomainError(_("Give the grounds of the decision."))
    decision = Decision(recipient=recipient, kind=kind, note=note, drafted_by=actor)
    _fill(
        decision,
        recipient,
        effective_date=effective_date,
        period_end=period_end,
        suspend_deadline=suspend_deadline,
        end_reason=end_reason,
    )
    with translation.override("ru"):
        decision.legal_basis = legal_basis(recipient.payment_type, recipient.risk_date)
    decision.needs_head_of_service, decision.threshold = threshold_for(
        amount=decision.amount, lump_sum=decision.lump_sum, on=decision.effective_date
    )
    if proposal_id is not None:
        proposal = DecisionProposal.objects.select_for_update().get(pk=proposal_id, recipient=recipient)
        if proposal.status != ProposalStatus.OPEN or proposal.kind != kind:
            raise DomainError(_("This proposal is no longer open for this kind of decision."))
        proposal.status, proposal.closed_by, proposal.closed_at = ProposalStatus.DRAFTED, actor, timezone.now()
        proposal.save(update_fields=["status", "closed_by", "closed_at"])
        decision.proposal = proposal
    try:
        with transaction.atomic():
            decision.save()
    except IntegrityError as exc:  # another draft won the race for this recipient
        raise DomainError(_("A decision of this recipient is already in progress: finish it first.")) from exc
    audit_record(
        actor=Actor.of(actor),
        action="decisions.draft",
        obj=decision,
        data={"recipient": recipient.pk, "kind": kind, "amount": f"{decision.amount:.2f}"},
    )
    return decision


@with_history_context
@transaction.atomic
def decision_redraft(
    *,
    decision_id: int,
    actor: User,
    version: int | None = None,
    note: str | None = None,
    effective_date: date | None = None,
    period_end: date | None = None,
    suspend_deadline: date | None = None,
    end_reason: str = "",
) -> Decision:
    """The drafter corrects a draft or a decision returned to them; the amount is computed
    again. A page out of date changes nothing."""

    decision = Decision.objects.select_for_update().select_related("recipient").get(pk=decision_id)
    if not actor.has_perm("payments.add_decision") or decision.drafted_by_id != actor.pk:
        raise StepNotPermitted(_("Only the drafter corrects a decision."))
    if version is not None and version != decision.version:
        raise stale_page()
    if decision.state not in (DecisionState.DRAFT, DecisionState.REJECTED):
        raise WrongState(_("Only a draft or a decision returned to the drafter can be corrected."))
    if note is not None:
        decision.note = clean_note(note)
    _fill(
        decision,
        decision.recipient,
        effective_date=effective_date or decision.effective_date,
        period_end=period_end,
        suspend_deadline=suspend_deadline or decision.suspend_deadline,
        end_reason=end_reason or decision.end_reason,
    )
    decision.needs_head_of_service, decision.threshold = threshold_for(
        amount=decision.amount, lump_sum=decision.lump_sum, on=decision.effective_date
    )
    decision.version += 1
    decision.save()
    audit_record(
        actor=Actor.of(actor), action="decisions.redraft", obj=decision, data={"amount": f"{decision.amount:.2f}"}
    )
    return decision


def decision_submit(*, decision_id: int, actor: User, version: int | None = None) -> Decision:
    """Submit for verification; refused when the recipient's items changed after the amount was
    computed (the drafter corrects the draft, which computes it again)."""
    decision = Decision.objects.filter(pk=decision_id).first()
    if decision is not None and decision.kind in (DecisionKind.ASSIGN, DecisionKind.RECALCULATE):
        since = decision.computed_at or decision.drafted_at
        if RecipientChange.objects.filter(recipient_id=decision.recipient_id, entered_at__gt=since).exists():
            changed = _("The recipient's items changed after the amount was computed.")
            raise DomainError(f"{changed} {_('Correct the draft (it computes the amount again) and submit it.')}")
    return take_step(model=Decision, pk=decision_id, step="submit", actor=actor, version=version)


def decision_verify(*, decision_id: int, actor: User, version: int | None = None) -> Decision:
    return take_step(model=Decision, pk=decision_id, step="verify", actor=actor, version=version)


def decision_reject(*, decision_id: int, actor: User, reason: str, version: int | None = None) -> Decision:
    reason = clean_note(reason, required_message=_("Give the reason the decision is returned."))
    return take_step(model=Decision, pk=decision_id, step="reject", actor=actor, version=version, reason=reason)


def next_number(decision: Decision, on: date) -> str:
    """``YYYY-TTTT-NNNNNN``: the year of the decision, the payment type and a gapless
    sequence per year, taken in the approving transaction (a rollback gives it back)."""
    return f"{on.year:04d}-{decision.recipient.payment_type}-{get_next_value(f'decisions-{on.year}'):06d}"


@with_history_context
@transaction.atomic
def decision_approve(*, decision_id: int, actor: User, version: int | None = None) -> Decision:
    """Approve: the decision gets its number and takes effect on the recipient."""
    on = timezone.localdate()
    decision = Decision.objects.select_related("recipient").get(pk=decision_id)
    decision = take_step(
        model=Decision,
        pk=decision_id,
        step="approve",
        actor=actor,
        version=version,
        number=_LazyNumber(decision, on),
    )
    _put_in_force(decision, on=on)
    return decision


class _LazyNumber:
    """The number is taken only once every check of the step has passed (a refused step must
    not consume one, or the sequence would have gaps)."""

    def __init__(self, decision: Decision, on: date) -> None:
        self.decision, self.on = decision, on

    def __str__(self) -> str:
        return next_number(self.decision, self.on)


def _put_in_force(decision: Decision, *, on: date) -> None:
    """What an approved decision changes on the recipient (items 11-15, 22-23)."""
    recipient = Recipient.objects.select_for_update().get(pk=decision.recipient_id)
    kind = decision.kind
    if kind == DecisionKind.ASSIGN:
        recipient.status = RecipientStatus.IN_FORCE
        recipient.decision_date = on
        recipient.end_date = decision.period_end
    elif kind == DecisionKind.SUSPEND:
        recipient.status = RecipientStatus.SUSPENDED
        recipient.suspended_from = decision.effective_date
    elif kind == DecisionKind.RESUME:
        recipient.status = RecipientStatus.IN_FORCE
        recipient.suspended_from = None
    elif kind == DecisionKind.TERMINATE:
        recipient.status = RecipientStatus.TERMINATED
        recipient.end_date = decision.period_end
    if kind in (DecisionKind.ASSIGN, DecisionKind.RECALCULATE):
        recipient.amount = decision.amount
        recipient.participation_months = decision.calculation.get("participation_months")
        recipient.average_income = Decimal(decision.calculation.get("average_monthly_income", "0"))
    # What is due for months already paid may have changed: the next run settles them.
    recipient.settle_requested_at = timezone.now()
    recipient.save()


def proposal_dismiss(*, proposal_id: int, actor: User, note: str) -> DecisionProposal:
    """A specialist decides a proposal needs no decision, and says why."""
    if not actor.has_perm("payments.add_decision"):
        raise PermissionDenied
    note = clean_note(note, required_message=_("Give the reason the proposal needs no decision."))
    with transaction.atomic():
        proposal = DecisionProposal.objects.select_for_update().get(pk=proposal_id)
        if proposal.status != ProposalStatus.OPEN:
            raise DomainError(_("This proposal is no longer open."))
        proposal.status, proposal.closed_by, proposal.closed_at = ProposalStatus.DISMISSED, actor, timezone.now()
        proposal.close_note = note
        proposal.save(update_fields=["status", "closed_by", "closed_at", "close_note"])
        audit_record(actor=Actor.of(actor), action="decisions.proposal_dismiss", obj=proposal, data={"note": note})
    return proposal
