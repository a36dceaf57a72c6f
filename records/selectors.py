"""Reads of participants, their change records and the access log."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet, Value
from django.db.models.functions import Collate, Upper
from django.db.models.lookups import StartsWith

from records.models import AccessLog, Participant, PersonalDataChange
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
