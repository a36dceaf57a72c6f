"""Generating and signing off the monthly report to the authorized body (Rules, paragraph 5;
``payments.models.reports``).

A version is computed once and kept as computed. Generating again (after a correction in the
data, or to correct a signed report) makes a new version: the draft before it is superseded,
a signed one stays as it was sent. A head signs a draft off (``payments.sign_monthlyreport``,
the second factor, never the one who generated it: ``records.approval.take_step``).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from contributions.services.common import DomainError
from payments.models import MonthlyReport, ReportState
from payments.selectors.reports import figures_sha256, is_reconciled, report_figures
from records.approval import take_step
from records.services import Actor, audit_record, with_history_context

logger = logging.getLogger("payments.reports")


@with_history_context
def report_generate(*, month: date, actor: Actor | User, reason: str = "") -> MonthlyReport:
    """A new version of the month's report, computed now from the record (paragraph 5)."""
    if month.day != 1:
        raise DomainError(_("A report is for a month: give its first day."))
    if month >= timezone.localdate().replace(day=1):
        raise DomainError(
            _("%(month)s has not ended: its report cannot be generated yet.") % {"month": f"{month:%m.%Y}"}
        )
    who = actor if isinstance(actor, Actor) else Actor.of(actor)
    if who.user is not None and not who.user.has_perm("payments.add_monthlyreport"):
        raise PermissionDenied
    # The figures first, in a snapshot of their own (``report_figures``), then the version is
    # written: the drafts are locked once the figures are in, not for the figures' minute (a
    # head may sign one off meanwhile: then it stays signed, and this is the next version).
    figures = report_figures(month)
    with transaction.atomic():
        # One generation of a month at a time (also its first): versions numbered one after another.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('payments.monthly_report'), %s)", [month.toordinal()])
        drafts = MonthlyReport.objects.select_for_update().filter(month=month, state=ReportState.DRAFT)
        for draft in drafts.order_by("number"):
            draft.supersede()
            draft.save(update_fields=["state"])
        number = (MonthlyReport.objects.filter(month=month).aggregate(n=Max("number"))["n"] or 0) + 1
        report = MonthlyReport.objects.create(
            month=month,
            number=number,
            figures=figures,
            sha256=figures_sha256(figures),
            reconciled=is_reconciled(figures),
            generated_by=who.user,
            reason=reason,
        )
        audit_record(
            actor=who,
            action="payments.report_generate",
            obj=report,
            data={
                "month": f"{month:%Y-%m}",
                "version": number,
                "sha256": report.sha256,
                "reconciled": report.reconciled,
            },
        )
    return report


def report_sign(*, report_id: int, actor: User, version: int | None = None) -> MonthlyReport:
    """A head signs the version off before it is sent (four eyes, the second factor)."""
    return take_step(model=MonthlyReport, pk=report_id, step="sign", actor=actor, version=version)


def generate_scheduled_report(*, today: date | None = None) -> bool:
    """From the configured day of a month (``MONTHLY_REPORT_DAY``), the previous month's report
    if it has none yet (beat, hourly)."""
    today = today or timezone.localdate()
    if today.day < settings.MONTHLY_REPORT_DAY:
        return False
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    if MonthlyReport.objects.filter(month=month).exists():
        return False
    report_generate(month=month, actor=Actor(label="schedule payments.monthly_report"))
    logger.info("the report for %s was generated", f"{month:%Y-%m}")
    return True
