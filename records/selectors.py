"""Reads of participants, their change records and the access log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

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


def access_log(
    *, kind: str = "", user: str = "", iin: str = "", date_from: date | None = None, date_to: date | None = None
) -> QuerySet[AccessLog]:
    """The access log, newest first; dates are whole local (Asia/Almaty) days. An IIN finds
    the reads of that participant, the searches that named it (the participant search, the
    admin's list search, a registry record opened in the admin) and the pages and files that
    showed it among others (an order's lines, a return document, a payer's page: ``iins``,
    written by ``records.access.shown_iins``)."""
    entries = AccessLog.objects.select_related("user", "participant")
    if kind:
        entries = entries.filter(kind=kind)
    if user:
        entries = entries.filter(Q(user__username__iexact=user) | Q(actor_label__iexact=user))
    if iin:
        # Reads of the participant, and searches or registry views that named the IIN.
        entries = entries.filter(
            Q(participant__iin=iin)
            | Q(query__iin=iin)
            | Q(query__q__contains=[iin])
            | Q(query__filters__q__contains=[iin])
            | Q(query__iins__contains=[iin])
        )
    if date_from:
        entries = entries.filter(at__gte=_day_start(date_from))
    if date_to:
        entries = entries.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    return entries.order_by("-at", "-id")


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
