"""Reads of participants and their change records."""

from __future__ import annotations

from django.db.models import QuerySet

from records.models import Participant, PersonalDataChange


def participant_by_iin(iin: str) -> Participant | None:
    return Participant.objects.filter(iin=iin).first()


def participant_changes(participant: Participant) -> QuerySet[PersonalDataChange]:
    return participant.changes.order_by("-recorded_at", "-id")
