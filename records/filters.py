"""List filters of the staff pages (django-filter): shared filter types and the access log's.
A value a filter does not know makes it invalid: the page shows nothing with the error, never
the whole list as if no filter had been asked for."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db.models import BigIntegerField, Lookup, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.forms import DayField
from records.identifiers import validate_iin_bin
from records.models import AccessLog, ExportedPerson, Participant


class DayFilter(django_filters.DateFilter):
    """A date typed DD.MM.YYYY (or ISO) in every language (``records.forms.DayField``)."""

    field_class = DayField


class _AccessLogForm(forms.Form):
    def clean_date_to(self) -> date | None:
        day: date | None = self.cleaned_data.get("date_to")
        if day is not None and day >= date.max:
            raise ValidationError(_("Enter a date before %(limit)s."), code="out_of_range", params={"limit": date.max})
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", ValidationError(_("The end date is before the start date."), code="range"))
        return data


class _EqualsAny(Lookup):  # type: ignore[type-arg]
    """``lhs = ANY(rhs)``: the value is one of an array (an ``ArraySubquery`` computed once),
    which an index on ``lhs`` answers (``IN (SELECT …)`` inside an OR is no index scan)."""

    lookup_name = "equals_any"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = compiler.compile(self.rhs)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class AccessLogFilter(django_filters.FilterSet):
    """Who read what, when: the questions an auditor asks of the access log (Rules, paragraph 5).
    Dates are whole local (Asia/Almaty) days. An IIN finds the reads of that participant, the
    searches that named it (the participant search, the admin's list search, a registry record
    opened in the admin) and the pages and files that showed it among others (an order's lines,
    a return document, a payer's page, an export: ``iins``, written by
    ``records.access.shown_iins``), and the export jobs whose file holds it (their run and
    every download of the file: ``records.export_jobs``)."""

    kind = django_filters.ChoiceFilter(label=_("What"), choices=AccessLog.Kind.choices, empty_label="—")
    user = django_filters.CharFilter(label=_("Who (user name)"), max_length=150, method="filter_user")
    iin = django_filters.CharFilter(
        label=_("Participant IIN"), max_length=12, validators=[validate_iin_bin], method="filter_iin"
    )
    date_from = DayFilter(label=_("From"), method="filter_from")
    date_to = DayFilter(label=_("To"), method="filter_to")

    class Meta:
        model = AccessLog
        fields: list[str] = []
        form = _AccessLogForm

    def filter_user(self, queryset: QuerySet[AccessLog], name: str, value: str) -> QuerySet[AccessLog]:
        value = value.strip()
        return queryset.filter(Q(user__username__iexact=value) | Q(actor_label__iexact=value)) if value else queryset

    def filter_iin(self, queryset: QuerySet[AccessLog], name: str, value: str) -> QuerySet[AccessLog]:
        """Each condition is one the log's indexes answer (the participant's, and the GIN index
        of ``query`` for ``@>``): at national scale the log is read for one person, not scanned."""
        # An export job's file: the jobs that hold the person (``ExportedPerson``, by its
        # (iin, job) index) as one array, matched to the expression index of the log's export
        # entries (``accesslog_export_job_idx``): the job's run and each download of its file.
        jobs = ArraySubquery(ExportedPerson.objects.filter(iin=value).order_by().values("job_id"))
        export_job = Cast(KT("query__export_job"), BigIntegerField())
        return queryset.filter(
            Q(participant=Subquery(Participant.objects.filter(iin=value).order_by().values("pk")[:1]))
            | Q(query__contains={"iin": value})
            | Q(query__contains={"q": [value]})
            | Q(query__contains={"filters": {"q": [value]}})
            | Q(query__contains={"iins": [value]})
            | (Q(kind=AccessLog.Kind.EXPORT) & Q(_EqualsAny(export_job, jobs)))
        )

    def filter_from(self, queryset: QuerySet[AccessLog], name: str, value: date) -> QuerySet[AccessLog]:
        return queryset.filter(at__gte=_day_start(value))

    def filter_to(self, queryset: QuerySet[AccessLog], name: str, value: date) -> QuerySet[AccessLog]:
        return queryset.filter(at__lt=_day_start(value + timedelta(days=1)))


def filtered(filterset: django_filters.FilterSet) -> QuerySet[Any]:
    """What a list page shows: everything unfiltered, the filtered rows, or nothing at all when a
    filter value is wrong (the form then shows why): never everything for a filter it refused."""
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs
