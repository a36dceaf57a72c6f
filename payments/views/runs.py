"""Staff pages of the monthly payments (Rules, paragraph 12 items 22-25 and paragraph 13;
conventions: "Monthly payments"): the runs, a run with its lists, totals and progress, its
approval and rebuilding, the lists' downloads, the banks' confirmations, returns and recoveries,
and the standard's two work lists. Thin: reads in ``payments.selectors.runs``, writes in
``payments.services``; every read of a recipient's payments is logged with the people shown."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import ConcurrentTransition

from contributions.services import DomainError
from payments.forms.runs import BankAccountForm, ConfirmationUploadForm, RunStartForm, RunStepForm, WorkListFilterForm
from payments.lists import ListMismatch, PayerNotConfigured, list_csv, list_mt102, list_rows, list_xlsx
from payments.models import ConfirmationFile, PaymentList, PaymentRun, Recipient, RunState
from payments.selectors.runs import (
    WORK_LIST_LIMIT,
    held_back_payments,
    recoveries_page,
    reported_dead,
    returns_page,
    run_summary,
    runs_page,
    unpaid_recipients,
)
from payments.services.bank_accounts import bank_account_add
from payments.services.confirmations import confirmation_take_in
from payments.services.runs import month_of, run_approve, run_rebuild, run_start
from payments.tasks import build_run_task
from records.access import log_access, requires, shown_iins
from records.approval import SecondFactorMissing, StalePage, StepNotPermitted, WrongState
from records.approval import step_allowed as may_take
from records.formatting import VIEW_LABELS
from records.models import AccessLog
from records.paging import Key, keyset_page
from records.spreadsheets import CONTENT_TYPES, table_csv, table_xlsx

RUN_VIEW_LABELS = {
    "payment_run_detail": gettext_lazy("Payment run"),
    "payment_list_download": gettext_lazy("Payment list download"),
    "payment_returns": gettext_lazy("Returns and recoveries"),
    "payment_confirmations": gettext_lazy("Bank confirmations"),
    "work_unpaid": gettext_lazy("Work list: no payment for three months"),
    "work_unpaid_export": gettext_lazy("Work list export: no payment for three months"),
    "work_reported_dead": gettext_lazy("Work list: reported dead while in payment"),
    "work_reported_dead_export": gettext_lazy("Work list export: reported dead while in payment"),
    "bank_account_add": gettext_lazy("Bank details of a recipient"),
}
LIST_FORMATS = ("csv", "xlsx", "mt102")
RUN_KEYS = (Key.field("month", date), Key.field("id", int))
RETURN_KEYS = (Key.field("created_at", datetime), Key.field("id", int))
STEPS = ("approve", "rebuild")


def register_view_labels() -> None:
    VIEW_LABELS.update(RUN_VIEW_LABELS)


def _staff(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - requires() lets no anonymous user in
    return user


def _words(exc: Exception) -> str:
    found = getattr(exc, "messages", None) or [str(exc)]
    return " ".join(str(message) for message in found if str(message))


def _form_errors(form: Any) -> str:
    """Every error of a form, each with its field's label."""
    return " ".join(
        str(message) if name == "__all__" else f"{form[name].label}: {message}"
        for name, errors in form.errors.items()
        for message in errors
    )


def _run(month: str) -> PaymentRun:
    try:
        return get_object_or_404(PaymentRun, month=month_of(month))
    except DomainError as exc:
        raise Http404 from exc


def _queue_build(run_id: int) -> None:
    transaction.on_commit(lambda: build_run_task.delay(run_id))


# --- Runs ---------------------------------------------------------------------------------------


@requires("payments.view_paymentlist")
@require_http_methods(["GET", "POST"])
def payment_runs(request: HttpRequest) -> HttpResponse:
    """The runs by month, and the form that starts one (built by a worker; the run's page shows
    its progress)."""
    form = RunStartForm(request.POST or None, initial={"month": f"{timezone.localdate():%Y-%m}"})
    if request.method == "POST":
        if not request.user.has_perm("payments.add_paymentrun"):
            return HttpResponse(status=403)
        if form.is_valid():
            try:
                run, created = run_start(month=form.cleaned_data["month"], actor=_staff(request))
            except DomainError as exc:
                form.add_error(None, exc)
            else:
                if run.state == RunState.BUILDING:
                    _queue_build(run.pk)
                if created:
                    messages.success(request, _("The run was started: it is being built."))
                else:
                    messages.info(request, _("The run for this month exists: here it is."))
                return redirect("payment_run_detail", month=f"{run.month:%Y-%m}")
    page = keyset_page(request, runs_page(), RUN_KEYS, descending=True, per_page=24)
    return render(request, "payments/runs/run_list.html", {"form": form, "page": page})


@requires("payments.view_paymentlist")
@require_GET
def payment_run_detail(request: HttpRequest, month: str) -> HttpResponse:
    """The run: its state (and progress while it is built), the lists per bank with totals and
    checksums, the payments held back with the reason (people: logged), the steps this user may
    take, the downloads once released."""
    run = _run(month)
    user = _staff(request)
    held = list(held_back_payments(run)[:200])
    log_access(
        request,
        kind=AccessLog.Kind.VIEW,
        view="payment_run_detail",
        query={"run": f"{run.month:%Y-%m}", **shown_iins(p.recipient.participant.iin for p in held)},
        row_count=len(held),
    )
    context = {
        "run": run,
        "summary": run_summary(run),
        "lists": run.lists.select_related("bank").order_by("number"),
        "held": held,
        "steps": [step for step in STEPS if may_take(run, step, user)],
        "step_form": RunStepForm(initial={"version": run.version}),
        "recoveries": run.recoveries.count(),
    }
    return render(request, "payments/runs/run_detail.html", context)


@requires("payments.view_paymentlist")
@require_POST
def payment_run_step(request: HttpRequest, month: str, step: str) -> HttpResponse:
    """Approve (the head of the pension service, four eyes, second factor) or rebuild a run;
    every refusal is said on the run's page and changes nothing."""
    if step not in STEPS:
        raise Http404
    run = _run(month)
    form = RunStepForm(request.POST)
    back = redirect("payment_run_detail", month=f"{run.month:%Y-%m}")
    if not form.is_valid():
        messages.error(
            request, _("The page sent was incomplete: nothing was changed. %(errors)s") % {"errors": _form_errors(form)}
        )
        return back
    version = form.cleaned_data["version"]
    try:
        if step == "approve":
            run_approve(run_id=run.pk, actor=_staff(request), version=version)
            messages.success(request, _("The run was approved and released to the banks."))
        else:
            with transaction.atomic():
                run_rebuild(run_id=run.pk, actor=_staff(request), version=version, reason=form.cleaned_data["reason"])
                _queue_build(run.pk)
            messages.success(request, _("The run is being built again."))
    except SecondFactorMissing:
        messages.error(
            request,
            _("This step needs a sign-in with the one-time code of your authenticator app. Nothing was changed."),
        )
        return redirect(f"{reverse('otp_verify')}?next={reverse('payment_run_detail', args=[f'{run.month:%Y-%m}'])}")
    except (StalePage, ConcurrentTransition):
        messages.error(request, _("Someone changed this run after you opened it: nothing was changed."))
    except (StepNotPermitted, WrongState, DomainError) as exc:
        messages.error(request, f"{_words(exc)} {_('Nothing was changed.')}")
    return back


@requires("payments.view_paymentlist")
@require_GET
def payment_list_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """A released list as CSV, XLSX or the MT102-style message for its bank; logged with every
    person in it."""
    if fmt not in LIST_FORMATS:
        raise Http404
    payment_list = get_object_or_404(PaymentList.objects.select_related("run", "bank"), pk=pk)
    if payment_list.run.state != RunState.RELEASED:
        messages.error(request, _("A list is handed out once its run is approved and released."))
        return redirect("payment_run_detail", month=f"{payment_list.run.month:%Y-%m}")
    try:
        if fmt == "mt102":
            released = payment_list.run.approved_at or timezone.now()
            content = list_mt102(payment_list, value_date=timezone.localdate(released))
            content_type = "text/plain; charset=utf-8"
        else:
            content = list_csv(payment_list) if fmt == "csv" else list_xlsx(payment_list)
            content_type = CONTENT_TYPES[fmt]
    except PayerNotConfigured:
        missing = _("The account the payments are paid from is not configured: no MT102.")
        messages.error(request, f"{missing} {_('Tell the administrator.')}")
        return redirect("payment_run_detail", month=f"{payment_list.run.month:%Y-%m}")
    except ListMismatch:
        messages.error(request, _("The list's rows do not give its checksum: it is not handed out. Tell the service."))
        return redirect("payment_run_detail", month=f"{payment_list.run.month:%Y-%m}")
    response = HttpResponse(content, content_type=content_type)
    extension = "txt" if fmt == "mt102" else fmt
    name = f"{payment_list.number}.{'mt102.' if fmt == 'mt102' else ''}{extension}"
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    log_access(
        request,
        kind=AccessLog.Kind.EXPORT,
        view="payment_list_download",
        query={
            "list": payment_list.number,
            "format": fmt,
            **shown_iins((r.iin for r in list_rows(payment_list)), limit=None),
        },
        row_count=payment_list.count,
    )
    return response


# --- Confirmations, returns and recoveries ----------------------------------------------------


@requires("payments.view_confirmationfile")
@require_http_methods(["GET", "POST"])
def payment_confirmations(request: HttpRequest) -> HttpResponse:
    """Upload a bank's confirmation and see what it said: lines taken, returns, problems with
    their line numbers."""
    form = ConfirmationUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not request.user.has_perm("payments.add_confirmationfile"):
            return HttpResponse(status=403)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = confirmation_take_in(raw=upload.read(), file_name=upload.name, actor=_staff(request))
            except (DomainError, ValidationError) as exc:
                form.add_error("file", exc)
            else:
                if result.duplicate:
                    messages.warning(request, _("This file was taken in before: nothing was taken twice."))
                elif result.file.state == "refused":
                    messages.error(request, _("The file was refused: nothing in it was taken."))
                else:
                    messages.success(
                        request,
                        _("Taken in: %(credited)s credited, %(returned)s returned.")
                        % {"credited": result.file.credited, "returned": result.file.not_credited},
                    )
                return redirect(f"{reverse('payment_confirmations')}?file={result.file.pk}")
    files = ConfirmationFile.objects.defer("raw").select_related("payment_list", "received_by")[:50]
    shown = None
    file_id = request.GET.get("file", "")
    if file_id.isascii() and file_id.isdigit() and len(file_id) < 19:
        shown = ConfirmationFile.objects.defer("raw").filter(pk=int(file_id)).first()
    return render(request, "payments/runs/confirmations.html", {"form": form, "files": files, "shown": shown})


@requires("payments.view_paymentreturn")
@require_GET
def payment_returns(request: HttpRequest) -> HttpResponse:
    """Returned payments (paid again once the account is corrected) and recoveries (money paid
    that was not due), each pointing to the payment it concerns."""
    returns = keyset_page(request, returns_page(), RETURN_KEYS, descending=True, per_page=50)
    recoveries = list(recoveries_page()[:200])
    people = [r.payment.recipient.participant.iin for r in returns.object_list]
    people += [r.recipient.participant.iin for r in recoveries]
    log_access(request, kind=AccessLog.Kind.VIEW, view="payment_returns", query=shown_iins(people))
    return render(request, "payments/runs/returns.html", {"returns": returns, "recoveries": recoveries})


# --- The standard's work lists --------------------------------------------------------------


def _work_filters(request: HttpRequest) -> tuple[WorkListFilterForm, dict[str, Any] | None]:
    """The form and what it selects; ``None`` when a filter is wrong (then nobody is shown or
    exported: a filter mistyped never widens the list to everyone)."""
    form = WorkListFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    selection = form.cleaned_data if form.is_bound else {}
    return form, {k: v for k, v in selection.items() if v}


def _work_rows(kind: str, selection: dict[str, Any]) -> list[Any]:
    return list(unpaid_recipients(**selection) if kind == "unpaid" else reported_dead(**selection))


WORK_TITLES = {
    "unpaid": gettext_lazy("No payment for three months or more"),
    "reported_dead": gettext_lazy("Reported dead while a decision is in force"),
}


def _work_columns(kind: str) -> list[str]:
    base = [_("IIN"), _("Full name"), _("Payment type"), _("Status")]
    if kind == "unpaid":
        return [*base, _("Last month paid"), _("Months without payment"), _("Why")]
    return [*base, _("Date of death"), _("Paid after the death"), _("Termination proposed")]


def _work_cells(kind: str, row: Any) -> list[Any]:
    base = [row.iin, row.full_name, row.payment_type, row.status_label]
    if kind == "unpaid":
        return [*base, row.last_paid, row.months_unpaid, row.why]
    return [*base, row.death_date, row.paid_after_death, _("yes") if row.proposed else _("no")]


@requires("payments.view_payment")
@require_GET
def work_list(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in WORK_TITLES:
        raise Http404
    form, selection = _work_filters(request)
    if selection is None:
        context = {"form": form, "rows": [], "kind": kind, "title": WORK_TITLES[kind]}
        return render(request, "payments/runs/work_list.html", context, status=400)
    rows = _work_rows(kind, selection)
    view = "work_unpaid" if kind == "unpaid" else "work_reported_dead"
    log_access(
        request,
        kind=AccessLog.Kind.SEARCH,
        view=view,
        # The page shows every row: every person in it is logged, as for the export.
        query={"filters": {k: str(v) for k, v in selection.items()}, **shown_iins((r.iin for r in rows), limit=None)},
        row_count=len(rows),
    )
    context = {
        "form": form,
        "rows": rows,
        "kind": kind,
        "title": WORK_TITLES[kind],
        "limit": WORK_LIST_LIMIT if len(rows) >= WORK_LIST_LIMIT else None,
    }
    return render(request, "payments/runs/work_list.html", context)


@requires("payments.view_payment")
@require_GET
def work_list_export(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if kind not in WORK_TITLES or fmt not in CONTENT_TYPES:
        raise Http404
    form, selection = _work_filters(request)
    if selection is None:
        return HttpResponseBadRequest(_form_errors(form), content_type="text/plain; charset=utf-8")
    rows = _work_rows(kind, selection)
    cells = [_work_cells(kind, row) for row in rows]
    columns = _work_columns(kind)
    content = table_csv(columns, cells) if fmt == "csv" else table_xlsx(str(WORK_TITLES[kind]), columns, cells)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    name = f"{kind.replace('_', '-')}-{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, name) or ""
    log_access(
        request,
        kind=AccessLog.Kind.EXPORT,
        view=f"work_{kind}_export",
        query={"format": fmt, **shown_iins((r.iin for r in rows), limit=None)},
        row_count=len(rows),
    )
    return response


# --- Bank details of a recipient ---------------------------------------------------------------


@requires("payments.add_bankaccount")
@require_POST
def bank_account_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    recipient = get_object_or_404(Recipient, pk=pk)
    form = BankAccountForm(request.POST)
    if form.is_valid():
        try:
            bank_account_add(recipient_id=recipient.pk, actor=_staff(request), **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, _words(exc))
        else:
            messages.success(request, _("The bank details were entered."))
    else:
        problems = [f"{form[name].label}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()]
        messages.error(request, " ".join(problems))
    return redirect(f"{reverse('recipient_detail', args=[recipient.pk])}#payments")


def month_label(month: date) -> str:
    return f"{month:%m.%Y}"
