"""Reads of participants, their change records and the access log."""

from __future__ import annotations

from django.db.models import QuerySet

from records.models import AccessLog, Participant, PersonalDataChange


def participant_search(*, iin: str = "", last_name: str = "", first_name: str = "") -> QuerySet[Participant]:
    """Exact IIN, or surname and first name (case-insensitive, from the start of the name)."""
    if iin:
        return Participant.objects.filter(iin=iin)
    return Participant.objects.filter(
        last_name__istartswith=last_name.strip(), first_name__istartswith=first_name.strip()
    ).order_by("last_name", "first_name", "iin")


def participant_changes(participant: Participant) -> QuerySet[PersonalDataChange]:
    return participant.changes.order_by("-recorded_at", "-id")


def access_log() -> QuerySet[AccessLog]:
    return AccessLog.objects.select_related("user", "participant").order_by("-at", "-id")
