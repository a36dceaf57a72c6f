"""Reads of participants, their change records and the access log."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet

from records.models import AccessLog, Participant, PersonalDataChange


def participant_search(*, iin: str = "", last_name: str = "", first_name: str = "") -> QuerySet[Participant]:
    """Exact IIN, or the start of the surname and, if given, of the first name
    (case-insensitive; inner spaces as the registry writes them, one)."""
    if iin:
        return Participant.objects.filter(iin=iin)
    people = Participant.objects.filter(last_name__istartswith=" ".join(last_name.split()))
    if first_name.strip():
        people = people.filter(first_name__istartswith=" ".join(first_name.split()))
    return people.order_by("last_name", "first_name", "iin")


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
