"""Registering recipients from their applications, their dated changes and their case files
(Rules, paragraphs 10-12; conventions: "Recipients and decisions")."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contributions.services.common import DomainError, clean_note
from payments.models import (
    CaseDocument,
    Dependant,
    DocumentKind,
    PaymentType,
    Recipient,
    RecipientChange,
    RecipientStatus,
    Relation,
)
from records.identifiers import validate_iin_bin
from records.models import Participant
from records.registry import get_registry
from records.services import (
    PERSONAL_ITEM_FIELDS,
    Actor,
    audit_record,
    participant_change_personal_data,
    participant_create,
    with_history_context,
)

# The least degree of lost ability that gives a right to the disability payment (reference.md
# §4.3: КУТ 30%-100%).
MIN_LOSS_DEGREE = 30
# A scanned document larger than this is refused (a page scanned at 300 dpi is well under it).
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# What a scanned document may be, by its first bytes (never by the name or the browser's word).
DOCUMENT_SIGNATURES = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"II*\x00": "image/tiff",
    b"MM\x00*": "image/tiff",
}
OPEN_STATUSES = (RecipientStatus.APPLIED, RecipientStatus.IN_FORCE, RecipientStatus.SUSPENDED)
# Paragraph 12 items a specialist may change on a recipient after registration, each with a
# dated change record.
CHANGEABLE_ITEMS = (
    "loss_degree",
    "unemployed_registered_on",
    "unemployed_certificate",
    "leave_days",
    "child_birth_order",
)


@dataclass(frozen=True)
class DependantData:
    iin: str
    full_name: str
    birth_date: date
    relation: str


def find_or_register_participant(iin: str, *, actor: Actor) -> Participant:
    """The participant with ``iin``; a person the registry knows who is not yet a participant
    (a child applying after a breadwinner's death) is registered from the registry's data."""
    try:
        validate_iin_bin(iin)
    except Exception as exc:
        raise DomainError(_("%(iin)s is not a valid IIN.") % {"iin": iin}) from exc
    participant = Participant.objects.filter(iin=iin).first()
    if participant is not None:
        return participant
    record = get_registry().lookup_many([iin]).get(iin)
    if record is None:
        raise DomainError(_("The IIN %(iin)s is neither a participant nor known to the state registry.") % {"iin": iin})
    return participant_create(
        iin=iin,
        actor=actor,
        source="state registry, on an application",
        last_name=record.last_name,
        first_name=record.first_name,
        patronymic=record.patronymic,
        birth_date=record.birth_date,
        gender=record.gender,
        death_date=record.death_date,
    )


def _check_type_items(
    *,
    payment_type: str,
    risk_date: date,
    loss_degree: int | None,
    deceased: Participant | None,
    dependants: list[DependantData],
    unemployed_registered_on: date | None,
    leave_days: int | None,
    child_birth_order: int | None,
) -> None:
    """The paragraph 12 items each payment type needs (items 17-21)."""
    if payment_type == PaymentType.DISABILITY and (loss_degree is None or not MIN_LOSS_DEGREE <= loss_degree <= 100):
        raise DomainError(
            _("Loss of ability to work needs the degree of lost ability, from %(min)s%% to 100%%.")
            % {"min": MIN_LOSS_DEGREE}
        )
    if payment_type == PaymentType.BREADWINNER:
        if deceased is None:
            raise DomainError(_("Loss of breadwinner needs the IIN of the deceased participant."))
        if deceased.death_date is None:
            raise DomainError(_("The registry does not report the breadwinner %(iin)s dead.") % {"iin": deceased.iin})
        if deceased.death_date != risk_date:
            raise DomainError(_("For loss of breadwinner the date of the social risk is the date of death."))
        if not dependants:
            raise DomainError(_("Loss of breadwinner needs at least one dependant."))
    if payment_type == PaymentType.JOB_LOSS:
        if unemployed_registered_on is None:
            raise DomainError(_("Loss of job needs the date of registration as unemployed."))
        if unemployed_registered_on > risk_date:
            raise DomainError(_("The right to a job-loss payment arises from the registration as unemployed."))
    if payment_type == PaymentType.MATERNITY and (leave_days is None or not 1 <= leave_days <= 366):
        raise DomainError(_("Pregnancy and childbirth needs the days of maternity leave."))
    if payment_type == PaymentType.CHILD_CARE and (child_birth_order is None or child_birth_order < 1):
        raise DomainError(_("Child care needs the birth order of the child."))


@with_history_context
@transaction.atomic
def recipient_register(
    *,
    iin: str,
    payment_type: str,
    application_date: date,
    risk_date: date,
    actor: User,
    loss_degree: int | None = None,
    deceased_iin: str = "",
    dependants: list[DependantData] | None = None,
    unemployed_registered_on: date | None = None,
    unemployed_certificate: str = "",
    leave_days: int | None = None,
    child_birth_order: int | None = None,
    personal_items: dict[str, Any] | None = None,
) -> Recipient:
    """Register an applicant as a recipient from the date of the application (Rules, paragraph
    10) with the paragraph 12 items the payment type needs. The applicant is found by IIN (or
    registered from the registry); items 5-9 given here become dated change records of the
    participant (paragraph 9)."""
    if not actor.has_perm("payments.add_recipient"):
        raise PermissionDenied
    who = Actor.of(actor)
    if payment_type not in PaymentType.values:
        raise DomainError(_("Unknown payment type: %(type)s.") % {"type": payment_type})
    today = timezone.localdate()
    if application_date > today:
        raise DomainError(_("The application cannot be dated in the future."))
    if risk_date > application_date:
        raise DomainError(_("The social risk cannot be later than the application."))
    participant = find_or_register_participant(iin.strip(), actor=who)
    if participant.death_date is not None:
        raise DomainError(_("The registry reports %(iin)s dead: no application in their name.") % {"iin": iin})
    deceased = find_or_register_participant(deceased_iin.strip(), actor=who) if deceased_iin.strip() else None
    if deceased is not None and deceased.pk == participant.pk:
        raise DomainError(_("The applicant cannot be the deceased breadwinner."))
    dependants = dependants or []
    _check_type_items(
        payment_type=payment_type,
        risk_date=risk_date,
        loss_degree=loss_degree,
        deceased=deceased,
        dependants=dependants,
        unemployed_registered_on=unemployed_registered_on,
        leave_days=leave_days,
        child_birth_order=child_birth_order,
    )
    existing = (
        Recipient.objects.select_for_update()
        .filter(participant=participant, payment_type=payment_type, status__in=OPEN_STATUSES)
        .first()
    )
    if existing is not None:
        raise DomainError(
            _("%(iin)s already has a case file of this payment type (%(case)s).")
            % {"iin": participant.iin, "case": existing.case_number}
        )
    if personal_items:
        unknown = set(personal_items) - set(PERSONAL_ITEM_FIELDS)
        if unknown:
            raise DomainError(_("Unknown personal items: %(items)s.") % {"items": ", ".join(sorted(unknown))})
        participant_change_personal_data(
            participant_id=participant.pk,
            changes=personal_items,
            actor=who,
            source="application for a social payment",
            changed_on=application_date,
        )
    recipient = Recipient.objects.create(
        participant=participant,
        payment_type=payment_type,
        application_date=application_date,
        risk_date=risk_date,
        loss_degree=loss_degree if payment_type == PaymentType.DISABILITY else None,
        deceased=deceased if payment_type == PaymentType.BREADWINNER else None,
        unemployed_registered_on=unemployed_registered_on if payment_type == PaymentType.JOB_LOSS else None,
        unemployed_certificate=unemployed_certificate.strip() if payment_type == PaymentType.JOB_LOSS else "",
        leave_days=leave_days if payment_type == PaymentType.MATERNITY else None,
        child_birth_order=child_birth_order if payment_type == PaymentType.CHILD_CARE else None,
        registered_by=actor,
    )
    if payment_type == PaymentType.BREADWINNER:
        for item in dependants:
            _add_dependant(recipient, item, since=risk_date)
    audit_record(
        actor=who,
        action="recipients.register",
        obj=recipient,
        data={"iin": participant.iin, "payment_type": payment_type, "application_date": application_date.isoformat()},
    )
    return recipient


def _add_dependant(recipient: Recipient, item: DependantData, *, since: date) -> Dependant:
    try:
        validate_iin_bin(item.iin)
    except Exception as exc:
        raise DomainError(_("Dependant: %(iin)s is not a valid IIN.") % {"iin": item.iin}) from exc
    if recipient.deceased is not None and item.iin == recipient.deceased.iin:
        # Each dependant raises КИ: the breadwinner counted among them would raise the amount.
        raise DomainError(_("Dependant %(iin)s is the deceased breadwinner.") % {"iin": item.iin})
    if item.relation not in Relation.values:
        raise DomainError(_("Dependant %(iin)s: unknown relation.") % {"iin": item.iin})
    if not item.full_name.strip():
        raise DomainError(_("Dependant %(iin)s: the full name is missing.") % {"iin": item.iin})
    if item.birth_date > since:
        raise DomainError(_("Dependant %(iin)s: born after the breadwinner's death.") % {"iin": item.iin})
    try:
        with transaction.atomic():
            return Dependant.objects.create(
                recipient=recipient,
                iin=item.iin,
                full_name=item.full_name.strip()[:300],
                birth_date=item.birth_date,
                relation=item.relation,
                since=since,
            )
    except IntegrityError as exc:
        raise DomainError(_("Dependant %(iin)s is listed twice.") % {"iin": item.iin}) from exc


@with_history_context
@transaction.atomic
def dependant_add(*, recipient_id: int, dependant: DependantData, since: date, reason: str, actor: User) -> Dependant:
    """A new dependant of a breadwinner recipient from ``since``: a dated change (item 18)."""
    if not actor.has_perm("payments.change_recipient"):
        raise PermissionDenied
    reason = clean_note(reason, required_message=_("Give the reason for the change."))
    recipient = Recipient.objects.select_for_update().get(pk=recipient_id)
    if recipient.payment_type != PaymentType.BREADWINNER:
        raise DomainError(_("Only a loss-of-breadwinner recipient has dependants."))
    _refuse_while_deciding(recipient)
    count = recipient.dependants.filter(until__isnull=True).count()
    added = _add_dependant(recipient, dependant, since=since)
    RecipientChange.objects.create(
        recipient=recipient,
        item="dependants",
        old_value=str(count),
        new_value=str(count + 1),
        changed_on=since,
        reason=reason,
        changed_by=actor,
    )
    audit_record(actor=Actor.of(actor), action="recipients.dependant_add", obj=recipient, data={"iin": dependant.iin})
    return added


@with_history_context
@transaction.atomic
def dependant_end(*, dependant_id: int, until: date, reason: str, actor: User) -> Dependant:
    """A dependant stops being one (came of age, study ended) from ``until``: a dated end."""
    if not actor.has_perm("payments.change_recipient"):
        raise PermissionDenied
    reason = clean_note(reason, required_message=_("Give the reason for the change."))
    dependant = Dependant.objects.select_for_update().select_related("recipient").get(pk=dependant_id)
    if dependant.until is not None:
        raise DomainError(_("This dependant has already been ended."))
    _refuse_while_deciding(dependant.recipient)
    if until < dependant.since:
        raise DomainError(_("A dependant cannot end before they started."))
    count = dependant.recipient.dependants.filter(until__isnull=True).count()
    dependant.until = until
    dependant.save(update_fields=["until"])
    RecipientChange.objects.create(
        recipient=dependant.recipient,
        item="dependants",
        old_value=str(count),
        new_value=str(count - 1),
        changed_on=until,
        reason=reason,
        changed_by=actor,
    )
    audit_record(
        actor=Actor.of(actor), action="recipients.dependant_end", obj=dependant.recipient, data={"iin": dependant.iin}
    )
    return dependant


def _refuse_while_deciding(recipient: Recipient) -> None:
    """A decision being verified or approved stands on the recipient's items as they were when
    its amount was computed: they do not change under it (it is returned to the drafter first)."""
    if recipient.decisions.filter(state__in=("submitted", "verified")).exists():
        deciding = _("A decision of this recipient is being verified or approved.")
        raise DomainError(f"{deciding} {_('Return it to the drafter before changing the items it stands on.')}")


def active_dependants(recipient: Recipient, on: date | None = None) -> int:
    """The number of dependants on ``on`` (today by default): КИ follows it."""
    on = on or timezone.localdate()
    return recipient.dependants.filter(since__lte=on).exclude(until__lt=on).count()


@with_history_context
@transaction.atomic
def recipient_change_items(
    *, recipient_id: int, changes: dict[str, Any], changed_on: date, reason: str, actor: User
) -> list[RecipientChange]:
    """Change paragraph 12 items of a recipient: a dated change record of each old and new value,
    never an overwrite without a trace. Unchanged values leave no record."""
    if not actor.has_perm("payments.change_recipient"):
        raise PermissionDenied
    reason = clean_note(reason, required_message=_("Give the reason for the change."))
    unknown = set(changes) - set(CHANGEABLE_ITEMS)
    if unknown:
        raise DomainError(_("These items cannot be changed here: %(items)s.") % {"items": ", ".join(sorted(unknown))})
    if changed_on > timezone.localdate():
        raise DomainError(_("A change cannot be dated in the future."))
    recipient = Recipient.objects.select_for_update().get(pk=recipient_id)
    if recipient.status == RecipientStatus.TERMINATED:
        raise DomainError(_("The payment is terminated: its items no longer change."))
    _refuse_while_deciding(recipient)
    merged = {name: getattr(recipient, name) for name in CHANGEABLE_ITEMS} | changes
    _check_type_items(
        payment_type=recipient.payment_type,
        risk_date=recipient.risk_date,
        loss_degree=merged["loss_degree"],
        deceased=recipient.deceased,
        dependants=[DependantData("", "", recipient.risk_date, "")] if recipient.dependants.exists() else [],
        unemployed_registered_on=merged["unemployed_registered_on"],
        leave_days=merged["leave_days"],
        child_birth_order=merged["child_birth_order"],
    )
    records = []
    for item, new in changes.items():
        old = getattr(recipient, item)
        if old == new:
            continue
        setattr(recipient, item, new)
        records.append(
            RecipientChange(
                recipient=recipient,
                item=item,
                old_value="" if old is None else str(old),
                new_value="" if new is None else str(new),
                changed_on=changed_on,
                reason=reason,
                changed_by=actor,
            )
        )
    if records:
        recipient.save()
        RecipientChange.objects.bulk_create(records)
        audit_record(
            actor=Actor.of(actor),
            action="recipients.change_items",
            obj=recipient,
            data={"items": [r.item for r in records], "changed_on": changed_on.isoformat()},
        )
    return records


def sniff_document(content: bytes) -> str:
    """The file type of a scanned document by its first bytes, or a ``DomainError``."""
    for signature, content_type in DOCUMENT_SIGNATURES.items():
        if content.startswith(signature):
            return content_type
    raise DomainError(_("The file is not a PDF, JPEG, PNG or TIFF scan."))


@with_history_context
@transaction.atomic
def case_document_add(
    *,
    recipient_id: int,
    kind: str,
    number: str,
    issued_on: date | None,
    file_name: str,
    content: bytes,
    actor: User,
) -> CaseDocument:
    """A document received for the case file, with its scan as received (the standard's "case
    file"): the bytes, their type read from the file itself and their SHA-256."""
    if not actor.has_perm("payments.add_casedocument"):
        raise PermissionDenied
    if kind not in DocumentKind.values:
        raise DomainError(_("Unknown kind of document: %(kind)s.") % {"kind": kind})
    if not content:
        raise DomainError(_("The file is empty."))
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DomainError(_("The file is larger than %(limit)s MB.") % {"limit": MAX_DOCUMENT_BYTES // (1024 * 1024)})
    content_type = sniff_document(content)
    if issued_on is not None and issued_on > timezone.localdate():
        raise DomainError(_("A document cannot be dated in the future."))
    recipient = Recipient.objects.select_for_update().get(pk=recipient_id)
    sha256 = hashlib.sha256(content).hexdigest()
    if recipient.documents.filter(sha256=sha256).exists():
        raise DomainError(_("This file is already in the case file."))
    document = CaseDocument.objects.create(
        recipient=recipient,
        kind=kind,
        number=number.strip()[:50],
        issued_on=issued_on,
        file_name=(file_name.replace("/", "_").replace("\\", "_").strip() or "document")[:255],
        content_type=content_type,
        size=len(content),
        sha256=sha256,
        content=content,
        received_by=actor,
    )
    audit_record(
        actor=Actor.of(actor),
        action="recipients.document_add",
        obj=recipient,
        data={"document": document.pk, "kind": kind, "sha256": sha256},
    )
    return document


@with_history_context
@transaction.atomic
def case_document_check(*, document_id: int, actor: User) -> CaseDocument:
    """Mark a document of a case file checked: who checked it and when."""
    if not actor.has_perm("payments.check_casedocument"):
        raise PermissionDenied
    document = CaseDocument.objects.select_for_update().defer("content").get(pk=document_id)
    if document.checked_by_id is not None:
        raise DomainError(_("This document has already been checked."))
    document.checked_by, document.checked_at = actor, timezone.now()
    document.save(update_fields=["checked_by", "checked_at"])
    audit_record(
        actor=Actor.of(actor),
        action="recipients.document_check",
        obj=document.recipient,
        data={"document": document.pk},
    )
    return document
