"""The monthly report to the authorized body on screen and as files (Rules, paragraph 5): the
months and their versions, a version's figures and reconciliation, generating a new version,
signing one off (a head, four eyes, the second factor), the XLSX and CSV in Kazakh, Russian or
English. Thin: figures in ``payments.selectors.reports``, writes in ``payments.services.reports``.
Every download is logged with the payers it names."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import ConcurrentTransition

from contributions.services import DomainError
from payments.forms.reports import DashboardForm, ReportGenerateForm, ReportSignForm
from payments.models import MonthlyReport
from payments.report_tables import dashboard_charts, report_csv, report_footer, report_tables, report_xlsx
from payments.selectors.dashboard import kept_dashboard
from payments.selectors.reports import report_on_screen
from payments.services.reports import report_generate, report_sign
from payments.views.runs import _staff, _words
from records.access import log_access, requires, shown_iins
from records.approval import SecondFactorMissing, StalePage, StepNotPermitted, WrongState
from records.approval import step_allowed as may_take
from records.formatting import VIEW_LABELS
from records.models import AccessLog
from records.spreadsheets import CONTENT_TYPES

REPORT_VIEW_LABELS = {
    "monthly_report_download": gettext_lazy("Monthly report download"),
}
LANGUAGES = ("kk", "ru", "en")


def register_view_labels() -> None:
    VIEW_LABELS.update(REPORT_VIEW_LABELS)


@requires("payments.view_monthlyreport")
@require_http_methods(["GET", "POST"])
def monthly_reports(request: HttpRequest) -> HttpResponse:
    """Every version of every month, newest first, and the form that generates a new version."""
    form = ReportGenerateForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("payments.add_monthlyreport"):
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                report = report_generate(
                    month=form.cleaned_data["month"], actor=_staff(request), reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                form.add_error(None, exc)
            except ConcurrentTransition:
                form.add_error(
                    None, _("Someone changed this month's report meanwhile: nothing was changed. Try again.")
                )
            else:
                messages.success(
                    request, _("Version %(number)s of the report was generated.") % {"number": report.number}
                )
                return redirect("monthly_report_detail", pk=report.pk)
    reports = MonthlyReport.objects.select_related("generated_by", "signed_by").defer("figures")[:120]
    return render(request, "payments/reports/report_list.html", {"form": form, "reports": reports})


@requires("payments.view_monthlyreport")
@require_GET
def monthly_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A version on screen with one page of its payers (``?payers=N``); the read of the payers
    shown (on that page and in the reconciliation's differences) is logged, as a download logs
    every payer of the file."""
    shown = report_on_screen(pk, page=_page_number(request.GET.get("payers")))
    if shown is None:
        raise Http404
    report = shown.report
    payers = [payer["idn"] for payer in shown.figures["contributions"]["payers"]]
    checks = shown.figures["reconciliation"]
    differing = [item["payer"] for check in checks for item in check["items"] if "payer" in item]
    log_access(
        request,
        kind=AccessLog.Kind.VIEW,
        view="monthly_report_detail",
        query={"report": str(report), "payers_page": shown.page, **shown_iins([*payers, *differing])},
        row_count=len(payers),
    )
    context = {
        "report": report,
        "shown": shown,
        "tables": report_tables(shown.figures),
        "checks": shown.figures["reconciliation"],
        "versions": MonthlyReport.objects.filter(month=report.month).defer("figures").order_by("number"),
        "may_sign": may_take(report, "sign", _staff(request)),
        "sign_form": ReportSignForm(initial={"version": report.version}),
        "footer": report_footer(report),
        "languages": LANGUAGES,
    }
    return render(request, "payments/reports/report_detail.html", context)


def _page_number(text: str | None) -> int:
    """A page number from the query string; what is not one is the first page."""
    return int(text) if text and text.isascii() and text.isdigit() and len(text) <= 9 else 1


@requires("payments.view_monthlyreport")
@require_POST
def monthly_report_sign(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(MonthlyReport, pk=pk)
    back = redirect("monthly_report_detail", pk=report.pk)
    form = ReportSignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The page sent was incomplete: nothing was changed."))
        return back
    try:
        report_sign(report_id=report.pk, actor=_staff(request), version=form.cleaned_data["version"])
        messages.success(request, _("The report was signed off: it can be sent and never changes."))
    except SecondFactorMissing:
        messages.error(
            request,
            _("This step needs a sign-in with the one-time code of your authenticator app. Nothing was changed."),
        )
        return redirect(f"{reverse('otp_verify')}?next={reverse('monthly_report_detail', args=[report.pk])}")
    except (StalePage, ConcurrentTransition):
        messages.error(request, _("Someone changed this report after you opened it: nothing was changed."))
    except (StepNotPermitted, WrongState, DomainError) as exc:
        messages.error(request, f"{_words(exc)} {_('Nothing was changed.')}")
    return back


@requires("payments.view_monthlyreport")
@require_GET
def monthly_report_download(request: HttpRequest, pk: int, lang: str, fmt: str) -> HttpResponse:
    if lang not in LANGUAGES or fmt not in CONTENT_TYPES:
        raise Http404
    report = get_object_or_404(MonthlyReport, pk=pk)
    with translation.override(lang):
        data = report_xlsx(report) if fmt == "xlsx" else report_csv(report)
    payers = [payer["idn"] for payer in report.figures["contributions"]["payers"]]
    log_access(
        request,
        kind=AccessLog.Kind.EXPORT,
        view="monthly_report_download",
        query={
            "report": str(report),
            "format": fmt,
            "language": lang,
            "sha256": report.sha256,
            **shown_iins(payers, limit=None),
        },
        row_count=len(payers),
    )
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    name = f"report-{report.month:%Y-%m}-v{report.number}-{lang}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    return response


@requires("payments.view_dashboard")
@require_GET
def heads_dashboard(request: HttpRequest) -> HttpResponse:
    """The heads' dashboard of a month (``?month=YYYY-MM``, this month by default): its figures
    are the monthly report's (``payments.selectors.dashboard``); aggregates only, no person."""
    form = DashboardForm(request.GET or None)
    month = timezone.localdate().replace(day=1)
    if form.is_bound and form.is_valid() and form.cleaned_data["month"]:
        month = form.cleaned_data["month"]
    board = kept_dashboard(month)
    charts = dashboard_charts(board)
    context = {"form": form, "board": board, "charts": charts, "tables": report_tables(board.figures)[:1]}
    return render(request, "payments/reports/dashboard.html", context)
