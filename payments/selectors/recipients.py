"""Reads of recipients and their case files (Rules, paragraphs 10-12 and 14): the recipient's
page, the inventory of case files and its export, the deadlines of an application, and the
payments panel of the participant page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from payments.benefits import NoAmount, parameter_in_force
from payments.models import (
    CaseDocument,
    Confidence,
    Decision,
    DecisionProposal,
    Dependant,
    ParameterName,
    PaymentType,
    ProposalStatus,
    Recipient,
    RecipientChange,
)
from records.models import Participant
from records.paging import Key
from records.working_days import CalendarNotLoaded, add_working_days, next_working_day

# The inventory's order, which the index recipient_list_idx (application_date, id) holds.
RECIPIENT_KEYS = (Key.field("application_date", date), Key.field("id", int))
# What a page of the inventory and the recipient's page read with each recipient.
_RELATED = ("participant", "deceased", "registered_by")


def _document_count(**conditions: Any) -> Coalesce:
    """The number of documents of the row's case file (a subquery per row shown: a page reads
    its own rows only, never the whole table)."""
    documents = (
        CaseDocument.objects.filter(recipient=OuterRef("pk"), **conditions)
        .order_by()
        .values("recipient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(documents, output_field=IntegerField()), Value(0))


def recipient_inventory(
    *,
    payment_type: str = "",
    status: str = "",
    applied_from: date | None = None,
    applied_to: date | None = None,
    iin: str = "",
    unchecked: bool = False,
) -> QuerySet[Recipient]:
    """The inventory of case files (the standard's labour function "keeps the inventory of case
    files"), filtered; each with its counts of documents and of documents not checked yet.
    Unordered: the page orders by ``RECIPIENT_KEYS``, the export by the same."""
    rows = Recipient.objects.select_related(*_RELATED)
    if payment_type:
        rows = rows.filter(payment_type=payment_type)
    if status:
        rows = rows.filter(status=status)
    if applied_from is not None:
        rows = rows.filter(application_date__gte=applied_from)
    if applied_to is not None:
        rows = rows.filter(application_date__lte=applied_to)
    if iin:
        rows = rows.filter(Q(participant__iin=iin) | Q(deceased__iin=iin))
    if unchecked:
        rows = rows.filter(Exists(CaseDocument.objects.filter(recipient=OuterRef("pk"), checked_by__isnull=True)))
    return rows.annotate(documents_count=_document_count(), unchecked_count=_document_count(checked_by__isnull=True))


@dataclass(frozen=True)
class InventoryRow:
    """One case file as the export writes it: amounts as numbers, dates as dates."""

    case_number: str
    iin: str
    full_name: str
    payment_type: str
    application_date: date
    risk_date: date
    status: str
    amount: Decimal | None
    documents: int
    unchecked: int


def inventory_rows(recipients: QuerySet[Recipient], *, limit: int) -> Iterator[InventoryRow]:
    """At most ``limit`` rows of the inventory for the export, in the inventory's order (newest
    application first), read in chunks (an export of 100 000 case files is never held as model
    objects)."""
    ordered = recipients.order_by("-application_date", "-id")[:limit]
    columns = ordered.values_list(
        "pk",
        "payment_type",
        "participant__iin",
        "participant__last_name",
        "participant__first_name",
        "participant__patronymic",
        "application_date",
        "risk_date",
        "status",
        "amount",
        _document_count(),
        _document_count(checked_by__isnull=True),
    )
    types, statuses = dict(PaymentType.choices), dict(Recipient._meta.get_field("status").choices or [])
    for pk, code, iin, last, first, patronymic, applied, risk, status, amount, documents, unchecked in columns.iterator(
        chunk_size=2000
    ):
        yield InventoryRow(
            case_number=f"{code}-{pk:08d}",
            iin=iin,
            full_name=" ".join(part for part in (last, first, patronymic) if part),
            payment_type=f"{code} {types.get(code, '')}".strip(),
            application_date=applied,
            risk_date=risk,
            status=str(statuses.get(status, status)),
            amount=amount,
            documents=documents,
            unchecked=unchecked,
        )


def recipient_for_page(pk: int) -> Recipient | None:
    return Recipient.objects.select_related(*_RELATED).filter(pk=pk).first()


def recipient_decisions(recipient: Recipient) -> QuerySet[Decision]:
    return (
        recipient.decisions.select_related("drafted_by", "verified_by", "approved_by")
        .defer("calculation", "difference_months", "legal_basis")
        .order_by("-drafted_at", "-id")
    )


def open_proposals(recipient: Recipient) -> QuerySet[DecisionProposal]:
    return recipient.proposals.filter(status=ProposalStatus.OPEN).order_by("-created_at", "-id")


def recipient_dependants(recipient: Recipient) -> QuerySet[Dependant]:
    return recipient.dependants.order_by("birth_date", "id")


def recipient_changes(recipient: Recipient) -> QuerySet[RecipientChange]:
    return recipient.changes.select_related("changed_by").order_by("-changed_on", "-entered_at", "-id")


def case_documents(recipient: Recipient) -> QuerySet[CaseDocument]:
    """The case file's documents without their bytes (a page lists them; the download reads one)."""
    return (
        recipient.documents.select_related("received_by", "checked_by").defer("content").order_by("received_at", "id")
    )


def case_document(pk: int) -> CaseDocument | None:
    return CaseDocument.objects.select_related("recipient__participant").filter(pk=pk).first()


class DeadlineState:
    MET = "met"  # done by the deadline
    MISSED = "missed"  # done after it
    OPEN = "open"  # not done, the deadline is still ahead
    DUE_TODAY = "due_today"  # not done, due today
    LATE = "late"  # not done, the deadline has passed


@dataclass(frozen=True)
class Deadline:
    """A deadline of an application and where it stands today (Rules, paragraph 14; the law's
    clock of reference.md §4.5)."""

    due: date | None  # None: the calendar or the parameter needed is missing
    done_on: date | None
    state: str
    working_days: int | None = None
    unconfirmed: bool = False  # the parameter used is not confirmed by the reference
    problem: str = ""


def _state(due: date, done_on: date | None, today: date) -> str:
    if done_on is not None:
        return DeadlineState.MET if done_on <= due else DeadlineState.MISSED
    if today < due:
        return DeadlineState.OPEN
    return DeadlineState.DUE_TODAY if today == due else DeadlineState.LATE


def registration_deadline(recipient: Recipient, *, today: date | None = None) -> Deadline:
    """Paragraph 14: the application is entered within one working day of its date."""
    today = today or timezone.localdate()
    registered_on = timezone.localdate(recipient.registered_at)
    try:
        due = next_working_day(recipient.application_date)
    except CalendarNotLoaded as exc:
        return Deadline(due=None, done_on=registered_on, state="", problem=str(exc))
    return Deadline(due=due, done_on=registered_on, state=_state(due, registered_on, today), working_days=1)


def decision_deadline(recipient: Recipient, *, today: date | None = None) -> Deadline:
    """The law's clock: a decision within ``decision_working_days`` working days of the
    application (``job_loss_decision_working_days`` for job loss), as in force on the date of the
    application; done on the date the assignment was decided."""
    today = today or timezone.localdate()
    name = (
        ParameterName.JOB_LOSS_DECISION_WORKING_DAYS
        if recipient.payment_type == PaymentType.JOB_LOSS
        else ParameterName.DECISION_WORKING_DAYS
    )
    try:
        parameter = parameter_in_force(name, recipient.application_date)
    except NoAmount as exc:
        return Deadline(due=None, done_on=recipient.decision_date, state="", problem=str(exc))
    days = int(parameter.value)
    unconfirmed = parameter.confidence != Confidence.CONFIRMED
    try:
        due = add_working_days(recipient.application_date, days)
    except CalendarNotLoaded as exc:
        return Deadline(
            due=None,
            done_on=recipient.decision_date,
            state="",
            working_days=days,
            unconfirmed=unconfirmed,
            problem=str(exc),
        )
    return Deadline(
        due=due,
        done_on=recipient.decision_date,
        state=_state(due, recipient.decision_date, today),
        working_days=days,
        unconfirmed=unconfirmed,
    )


def participant_recipients(participant: Participant, *, limit: int = 50) -> list[Recipient]:
    """The participant's case files, as the applicant or as the deceased breadwinner, newest
    first, each with its decisions (the payments panel of the participant page)."""
    decisions = Decision.objects.defer("calculation", "difference_months", "legal_basis").order_by("-drafted_at", "-id")
    return list(
        Recipient.objects.filter(Q(participant=participant) | Q(deceased=participant))
        .select_related("participant", "deceased")
        .prefetch_related(Prefetch("decisions", queryset=decisions))
        .order_by("-application_date", "-id")[:limit]
    )
