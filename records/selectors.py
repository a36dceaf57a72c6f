"""Reads of participants, their change records and the access log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet, Value
from django.db.models.functions import Collate, Upper
from django.db.models.lookups import StartsWith
from django.utils import timezone
from django.utils.text import capfirst

from records.models import (
    HISTORY_EVENT_LABELS,
    AccessLog,
    ApprovalStep,
    AuditEvent,
    Participant,
    PersonalDataChange,
)
from records.paging import Key

# The order of the search results, which the index participant_name_prefix_idx holds: names in
# capitals compared byte by byte (collation "C"), so that a prefix search reads the index from
# the first match on, in order, and stops after one page, however common the surname.
SEARCH_KEYS = (
    Key(name="last_name_key", expression=Collate(Upper("last_name"), "C"), kind=str),
    Key(name="first_name_key", expression=Collate(Upper("first_name"), "C"), kind=str),
    Key.field("iin", str),
)
ACCESS_LOG_KEYS = (Key.field("at", datetime), Key.field("id", int))


def participant_search(*, iin: str = "", last_name: str = "", first_name: str = "") -> QuerySet[Participant]:
    """Exact IIN, or the start of the surname and, if given, of the first name
    (case-insensitive; inner spaces as the registry writes them, one). Unordered: the page
    orders by ``SEARCH_KEYS``."""
    if iin:
        return Participant.objects.filter(iin=iin)
    # Capitals by PostgreSQL, as the index has them (Python's and the server's may differ).
    people = Participant.objects.filter(StartsWith(SEARCH_KEYS[0].expression, _upper(last_name)))
    if first_name.strip():
        people = people.filter(StartsWith(SEARCH_KEYS[1].expression, _upper(first_name)))
    return people


def _upper(prefix: str) -> Collate:
    return Collate(Upper(Value(" ".join(prefix.split()))), "C")


def participant_changes(participant: Participant) -> QuerySet[PersonalDataChange]:
    return participant.changes.order_by("-recorded_at", "-id")


def access_log_entries() -> QuerySet[AccessLog]:
    """The access log, newest first, ready for its filters (``records.filters.AccessLogFilter``)."""
    return AccessLog.objects.select_related("user", "participant").order_by("-at", "-id")


def access_log(**filters: Any) -> QuerySet[AccessLog]:
    """The access log filtered as the access-log page filters it (``kind``, ``user``, ``iin``,
    ``date_from``, ``date_to``): "who read person X" is ``access_log(iin=X)``. A filter value
    the page would refuse raises ``ValueError``: never the whole log for a misspelt filter."""
    from records.filters import AccessLogFilter

    data = {key: value.isoformat() if isinstance(value, date) else value for key, value in filters.items() if value}
    filterset = AccessLogFilter(data, queryset=access_log_entries())
    if not filterset.is_valid():
        raise ValueError(filterset.errors.as_json())
    entries: QuerySet[AccessLog] = filterset.qs
    return entries


# --- A record's trail, for auditors (issue 19: "for any regulated record, its row history and
# its domain events") -------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    field: str  # the field's name in the reader's language
    old: str
    new: str


@dataclass(frozen=True)
class RowVersion:
    """One event of a row's history (django-pghistory): when, what, who, and what it changed
    from the version before (every field, for the first one)."""

    at: datetime
    label: str
    who: str
    changes: list[Change]


@dataclass(frozen=True)
class RecordTrail:
    row_history: list[RowVersion] | None  # None: the table keeps no row history
    events: list[AuditEvent]
    steps: list[ApprovalStep]
    admin_actions: list[LogEntry]


def history_model_of(model: type[Model]) -> type[Model] | None:
    """The django-pghistory event table that keeps ``model``'s rows one by one, if any."""
    import pghistory.models
    from django.apps import apps

    for candidate in apps.get_models():
        if (
            issubclass(candidate, pghistory.models.Event)
            and getattr(candidate, "pgh_tracked_model", None) is model
            and any(f.name == "pgh_obj" for f in candidate._meta.fields)
        ):
            return candidate
    return None


def _shown(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}"
    return str(value)


def _row_history(obj: Model) -> list[RowVersion] | None:
    history = history_model_of(type(obj))
    if history is None:
        return None
    fields = [
        f
        for f in history._meta.fields
        if not f.name.startswith("pgh_")
        and f.name in {g.name for g in type(obj)._meta.fields}
        and not getattr(f, "auto_now", False)  # changes with every change: the "when" says it
    ]
    versions: list[RowVersion] = []
    before: dict[str, object] | None = None
    rows = history._default_manager.filter(pgh_obj=obj.pk).select_related("pgh_context").order_by("pgh_id")
    for event in rows:
        now = {f.name: getattr(event, f.attname) for f in fields}
        changes = [
            Change(
                field=str(capfirst(f.verbose_name)),
                old=_shown(before.get(f.name) if before else None),
                new=_shown(now[f.name]),
            )
            for f in fields
            # The first version: the fields it was written with; every later one: what changed.
            if (now[f.name] not in (None, "") if before is None else before.get(f.name) != now[f.name])
        ]
        context = event.pgh_context  # type: ignore[attr-defined]
        metadata = context.metadata if context is not None else {}
        who = str(metadata.get("actor") or metadata.get("url") or "—")
        label = str(HISTORY_EVENT_LABELS.get(event.pgh_label, event.pgh_label))  # type: ignore[attr-defined]
        versions.append(RowVersion(at=event.pgh_created_at, label=label, who=who, changes=changes))  # type: ignore[attr-defined]
        before = now
    return versions


def record_trail(obj: Model) -> RecordTrail:
    """Everything the database keeps about one record: its row history, the domain events that
    name it, the steps of its approval, and what was done to it in the admin."""
    content_type = ContentType.objects.get_for_model(obj)
    key = str(obj.pk)
    return RecordTrail(
        row_history=_row_history(obj),
        events=list(
            AuditEvent.objects.filter(content_type=content_type, object_pk=key)
            .select_related("actor")
            .order_by("created_at", "id")
        ),
        steps=list(
            ApprovalStep.objects.filter(content_type=content_type, object_pk=key)
            .select_related("actor")
            .order_by("taken_at", "id")
        ),
        admin_actions=list(
            LogEntry.objects.filter(content_type=content_type, object_id=key)
            .select_related("user")
            .order_by("action_time")
        ),
    )
