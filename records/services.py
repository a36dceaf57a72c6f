"""Writes to participants, change records, the calendar and the audit log.

Every function here is keyword-only, owns its transaction and writes its audit event in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import pghistory
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from records.calendar_seed import SeedDay, days_from_package
from records.models import AuditEvent, CalendarDay, Participant, PersonalDataChange

# The personal data that come from the state registry (conventions: "The personal account").
REGISTRY_FIELDS = ("last_name", "first_name", "patronymic", "birth_date", "gender", "death_date")
# Paragraph 12 items 5-9: personal items a specialist records for recipients.
PERSONAL_ITEM_FIELDS = (
    "address",
    "postal_code",
    "id_document_series",
    "id_document_number",
    "id_document_issued_on",
    "id_document_issuer",
    "citizenship",
)


@dataclass(frozen=True)
class Actor:
    """Who did something: a user, or a named command or task when no user is involved."""

    label: str
    user: User | None = None

    @classmethod
    def of(cls, user: AbstractBaseUser | AnonymousUser | None, fallback: str = "system") -> Actor:
        if user is None or not user.is_authenticated:
            return cls(label=fallback)
        return cls(label=user.get_username(), user=user if isinstance(user, User) else None)


# The longest free-text note staff may write (a reason, a decision note): forms and services
# refuse longer ones instead of storing pages of text nobody reads.
NOTE_MAX_LENGTH = 1000

P = ParamSpec("P")
R = TypeVar("R")


def with_history_context(func: Callable[P, R]) -> Callable[P, R]:
    """Attach the acting user, command or task (the service's ``actor`` argument, an ``Actor``
    or a ``User``) to the row history that database triggers write during the service
    (django-pghistory context). A service called without an actor is a programming error: it
    raises instead of writing history that names nobody."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        actor = kwargs.get("actor")
        if not isinstance(actor, Actor):
            if not isinstance(actor, AbstractBaseUser):
                raise TypeError(f"{func.__qualname__}() needs its actor as the keyword argument 'actor'")
            actor = Actor.of(actor)
        with pghistory.context(actor=actor.label):
            return func(*args, **kwargs)

    return wrapper


def audit_record(
    *, actor: Actor, action: str, obj: models.Model | None = None, data: dict[str, Any] | None = None
) -> AuditEvent:
    """Write a domain audit event; call it inside the caller's transaction."""
    return AuditEvent.objects.create(
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_pk=str(obj.pk) if obj is not None else "",
        data=data or {},
    )


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@with_history_context
@transaction.atomic
def participant_create(*, iin: str, actor: Actor, source: str, **fields: Any) -> Participant:
    """Create a participant after validating every field (IIN check digit included)."""
    participant = Participant(iin=iin, **fields)
    participant.full_clean()
    participant.save()
    audit_record(actor=actor, action="participant.create", obj=participant, data={"source": source})
    return participant


@with_history_context
@transaction.atomic
def participant_change_personal_data(
    *, participant_id: int, changes: dict[str, Any], actor: Actor, source: str, changed_on: date | None = None
) -> list[PersonalDataChange]:
    """Change a participant's personal data and keep a dated record of each old and new value
    (Rules, paragraph 9). Unchanged values leave no record; nothing changed, nothing written."""
    allowed = set(REGISTRY_FIELDS) | set(PERSONAL_ITEM_FIELDS)
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Not personal data fields: {sorted(unknown)}")
    participant = Participant.objects.select_for_update().get(pk=participant_id)
    records: list[PersonalDataChange] = []
    for field, new in changes.items():
        old = getattr(participant, field)
        if old == new:
            continue
        setattr(participant, field, new)
        records.append(
            PersonalDataChange(
                participant=participant,
                field=field,
                old_value=_as_text(old),
                new_value=_as_text(new),
                changed_on=changed_on or timezone.localdate(),
                source=source,
                actor=actor.user,
            )
        )
    if not records:
        return []
    participant.full_clean()
    participant.save()
    PersonalDataChange.objects.bulk_create(records)
    audit_record(
        actor=actor,
        action="participant.change_personal_data",
        obj=participant,
        data={"source": source, "fields": [r.field for r in records]},
    )
    return records


@dataclass(frozen=True)
class CalendarRefreshResult:
    created: int
    updated: int
    deleted: int
    kept_admin: list[date]


def _apply_seed_days(days: list[SeedDay], *, years: list[int], source: str) -> CalendarRefreshResult:
    wanted = {d.date: d for d in days}
    existing = {row.date: row for row in CalendarDay.objects.select_for_update().filter(date__year__in=years)}
    created = updated = deleted = 0
    kept_admin: list[date] = []
    for day, row in existing.items():
        if row.source == CalendarDay.Source.ADMIN:
            kept_admin.append(day)
        elif day not in wanted:
            row.delete()
            deleted += 1
    for day, seed in wanted.items():
        current = existing.get(day)
        values = {
            "is_working": seed.is_working,
            "kind": seed.kind,
            "name_kk": seed.name_kk,
            "name_ru": seed.name_ru,
            "name_en": seed.name_en,
            "note": seed.note,
        }
        if current is None:
            CalendarDay.objects.create(date=day, source=source, **values)
            created += 1
        elif current.source != CalendarDay.Source.ADMIN and any(getattr(current, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(current, key, value)
            current.source = source
            current.save()
            updated += 1
    return CalendarRefreshResult(created, updated, deleted, sorted(kept_admin))


@with_history_context
@transaction.atomic
def calendar_refresh_from_package(*, years: list[int], actor: Actor) -> CalendarRefreshResult:
    """Bring the calendar for ``years`` in line with the ``holidays`` package, leaving every row
    an administrator edited as it is (conventions: the calendar is data an administrator owns)."""
    result = _apply_seed_days(days_from_package(years), years=years, source=CalendarDay.Source.PACKAGE)
    audit_record(
        actor=actor,
        action="calendar.refresh",
        data={
            "years": years,
            "created": result.created,
            "updated": result.updated,
            "deleted": result.deleted,
            "kept_admin": [d.isoformat() for d in result.kept_admin],
        },
    )
    return result
