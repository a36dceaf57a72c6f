"""Staff pages of the contributions app: upload, orders, an order, return documents, a payer,
the deadline page for heads, the review queue and refunds."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contributions.documents import NoReturnMessage, return_document_csv, return_document_mt102
from contributions.filters import OrderFilter, ReturnDocumentFilter
from contributions.forms import (
    OrderUploadForm,
    RefundDecisionForm,
    RefundRegisterForm,
    ResolveReviewForm,
)
from contributions.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    DeadlineState,
    Door,
    IncomingFile,
    LedgerEntry,
    OrderLine,
    OrderStatus,
    PaymentOrder,
    Refund,
    RefundStatus,
    ReturnDocument,
)
from contributions.selectors import (
    ORDER_KEYS,
    ORDER_LIST_DEFERRED,
    REFUND_KEYS,
    RETURN_DOCUMENT_KEYS,
    deadline_q,
    return_reasons,
    returned_iins,
    status_counts,
)
from contributions.services import (
    DomainError,
    intake_file,
    order_resolve_review,
    refund_decide,
    refund_register,
    refundable,
)
from records.access import log_access, requires, shown_iins
from records.approval import StepNotPermitted
from records.filters import filtered
from records.models import AccessLog
from records.paging import COUNT_LIMIT, capped_count, keyset_page
from records.services import Actor

PAGE = 50
ORDER_LINES_PAGE = 200  # lines on an order's page (and so at most this many people in its log row)
PAYER_RETURNS = 20  # the latest return documents on the payer's page; the rest through the list


def _orders_page(request: HttpRequest, orders: QuerySet[PaymentOrder], *, oldest_first: bool = False) -> Any:
    """A keyset page of orders (records.paging), newest first unless ``oldest_first``, without
    the columns no list shows."""
    orders = orders.defer(*ORDER_LIST_DEFERRED)
    return keyset_page(request, orders, ORDER_KEYS, descending=not oldest_first, per_page=PAGE)


def _live_ids(orders: Any) -> list[int]:
    """The orders of a page still waiting for a worker: the live refresh polls only these."""
    return [order.pk for order in orders if order.status in OPEN_STATUSES]


def _log_payers_shown(request: HttpRequest, *, view: str, orders: list[PaymentOrder], payer: str = "") -> None:
    """A list of orders names their payers (IIN/BIN and name), who may be individuals: showing
    it is a read of their data, logged once per page view with those shown (Rules, paragraph
    5), as ``payer_detail`` logs one payer. A search by payer is logged as a search."""
    query: dict[str, Any] = {"payer": payer} if payer else {}
    log_access(
        request,
        kind=AccessLog.Kind.SEARCH if payer else AccessLog.Kind.VIEW,
        view=view,
        query={**query, **shown_iins(order.payer_idn for order in orders)},
        row_count=len(orders),
    )


def _form_errors(form: Any) -> str:
    """A refused form's errors as one message (forms posted from a list, answered by a
    redirect), each naming its field; the confirmation box's says what it is about."""
    return " ".join(
        str(message) if name in ("__all__", "confirm") else f"{form[name].label}: {message}"
        for name, errors in form.errors.items()
        for message in errors
    )


@requires("contributions.view_orderline")
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    filters = OrderFilter(request.GET or None, queryset=PaymentOrder.objects.all())
    orders = filtered(filters)
    page = _orders_page(request, orders)
    payer = (filters.form.cleaned_data.get("payer") or "") if filters.is_bound and filters.is_valid() else ""
    _log_payers_shown(request, view="order_list", orders=page.object_list, payer=payer)
    context = {
        "form": filters.form,
        "page": page,
        "counts": status_counts(orders),
        "live_ids": _live_ids(page.object_list),
    }
    return render(request, "contributions/order_list.html", context)


LIVE_IDS = 100  # orders one live refresh asks about at most (a page has PAGE)


@requires("contributions.view_orderline")
@require_GET
def order_live(request: HttpRequest) -> HttpResponse:
    """The live refresh of an order list (every three seconds while a worker has orders of the
    page still open): the status, deadline and lines posted of just those orders, swapped into
    their rows, and the poll again for those still open. It shows no payer and no person, so it
    is not a read of personal data to log (the page itself was logged once)."""
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isascii() and i.isdigit() and len(i) < 19]
    orders = list(PaymentOrder.objects.filter(pk__in=ids[:LIVE_IDS]).only(*LIVE_COLUMNS).order_by("pk"))
    return render(request, "contributions/_order_live.html", {"orders": orders, "live_ids": _live_ids(orders)})


LIVE_COLUMNS = ("status", "deadline", "finished_at", "lines_posted", "lines_total")


@requires("contributions.add_paymentorder")
@require_http_methods(["GET", "POST"])
def order_upload(request: HttpRequest) -> HttpResponse:
    """Upload one or many files; each is stored first, then split into orders and queued."""
    form = OrderUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        ids: list[int] = []
        for upload in form.cleaned_data["order_files"]:
            result = intake_file(
                raw=upload.read(),
                file_name=upload.name,
                door=Door.UPLOAD,
                actor=Actor.of(request.user),
                received=form.cleaned_data["received"],
            )
            ids.extend(o.pk for o in result.orders)
        messages.success(request, _("%(n)s payment orders taken in.") % {"n": len(ids)})
        return redirect(f"{request.path}?ids={','.join(map(str, ids))}")
    ids = [int(i) for i in request.GET.get("ids", "").split(",") if i.isascii() and i.isdigit() and len(i) < 19]
    orders = list(
        PaymentOrder.objects.filter(pk__in=ids[:1000])
        .select_related("file")
        .defer("file__raw", *ORDER_LIST_DEFERRED)  # never the stored file's bytes, polled every 2 s
        .order_by("file_id", "position")
    )
    if orders and not request.htmx:  # type: ignore[attr-defined]
        # The results name the payers. Logged once per page; the progress polls every two
        # seconds show the same orders again.
        log_access(
            request,
            kind=AccessLog.Kind.VIEW,
            view="order_upload",
            query={"orders": [o.pk for o in orders], **shown_iins(o.payer_idn for o in orders)},
            row_count=len(orders),
        )
    context = {"form": form, "orders": orders, "live": any(o.status not in FINAL_STATUSES for o in orders)}
    template = "contributions/_upload_progress.html" if request.htmx else "contributions/order_upload.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@requires("contributions.view_orderline")
@require_GET
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    order = get_object_or_404(
        PaymentOrder.objects.select_related("file", "duplicate_of", "resolved_by").defer("file__raw"), pk=pk
    )
    lines = Paginator(order.lines.order_by("sequence"), ORDER_LINES_PAGE).get_page(request.GET.get("page"))
    # The lines carry individuals' personal data (IIN, names, birth dates): the read is logged
    # with the people of the page shown (Rules, paragraph 5), and the payer.
    shown = [order.payer_idn, *(line.iin for line in lines.object_list)]
    log_access(
        request,
        kind=AccessLog.Kind.VIEW,
        view="order_detail",
        query={"order": order.pk, "page": lines.number, **shown_iins(shown)},
        row_count=len(lines.object_list),
    )
    context = {
        "order": order,
        "lines": lines,
        "reasons": return_reasons(order),
        "return_document": getattr(order, "return_document", None),
        "resolve_form": ResolveReviewForm() if order.status == OrderStatus.NEEDS_REVIEW else None,
    }
    return render(request, "contributions/order_detail.html", context)


@requires("contributions.resolve_review")
@require_POST
def order_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Return an order that needs review in full: a reason and an explicit confirmation."""
    order = get_object_or_404(PaymentOrder, pk=pk)
    form = ResolveReviewForm(request.POST)
    if form.is_valid():
        try:
            order_resolve_review(order_id=order.pk, actor=request.user, note=form.cleaned_data["note"])  # type: ignore[arg-type]
            messages.success(request, _("The order was returned to the payer in full."))
        except DomainError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _form_errors(form))
    return redirect("order_detail", pk=order.pk)


@requires("contributions.resolve_review")
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    orders = PaymentOrder.objects.filter(status=OrderStatus.NEEDS_REVIEW, resolved_by__isnull=True)
    page = _orders_page(request, orders, oldest_first=True)
    _log_payers_shown(request, view="review_queue", orders=page.object_list)
    return render(request, "contributions/review_queue.html", {"page": page})


DEADLINE_ROWS = 100
# (deadline state, ordering, title, heading style) of each list on the heads' deadline page.
DEADLINE_SECTIONS = (
    (DeadlineState.LATE, "deadline", gettext_lazy("Open and late"), "text-danger"),
    (DeadlineState.DUE_TODAY, "deadline", gettext_lazy("Open, due today"), "text-warning-emphasis"),
    (DeadlineState.MISSED, "-finished_at", gettext_lazy("Finished after the deadline"), ""),
)


@requires("contributions.monitor_deadlines")
@require_GET
def deadlines(request: HttpRequest) -> HttpResponse:
    """Orders due today and late ones, for the heads (conventions, "Within one working day").
    Each list shows its first DEADLINE_ROWS with the full count; the order list has them all."""
    sections, shown = [], []
    for state, ordering, title, css in DEADLINE_SECTIONS:
        orders = PaymentOrder.objects.filter(deadline_q(state)).defer(*ORDER_LIST_DEFERRED).order_by(ordering)
        first = list(orders[:DEADLINE_ROWS])
        shown.extend(first)
        count = len(first) if len(first) < DEADLINE_ROWS else capped_count(orders)
        sections.append(({"orders": first, "count": count, "count_limit": COUNT_LIMIT, "state": state}, title, css))
    _log_payers_shown(request, view="deadlines", orders=shown)
    context = {"sections": sections}
    return render(request, "contributions/deadlines.html", context)


@requires("contributions.view_orderline")
@require_GET
def return_document_list(request: HttpRequest) -> HttpResponse:
    documents = ReturnDocument.objects.select_related("order").defer(
        *(f"order__{column}" for column in ORDER_LIST_DEFERRED)
    )
    filters = ReturnDocumentFilter(request.GET or None, queryset=documents)
    documents = filtered(filters)
    payer = (filters.form.cleaned_data.get("payer") or "") if filters.is_bound and filters.is_valid() else ""
    page = keyset_page(request, documents, RETURN_DOCUMENT_KEYS, descending=True, per_page=PAGE)
    # The list names payers, who may be individuals (an IIN): logged with those shown.
    shown = shown_iins([payer, *(document.order.payer_idn for document in page.object_list)])
    log_access(
        request,
        kind=AccessLog.Kind.SEARCH if payer else AccessLog.Kind.VIEW,
        view="return_document_list",
        query={**({"payer": payer} if payer else {}), **shown},
        row_count=len(page.object_list),
    )
    return render(request, "contributions/return_list.html", {"page": page, "payer": payer})


@requires("contributions.view_orderline")
@require_GET
def return_document_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    document = get_object_or_404(ReturnDocument.objects.select_related("order"), pk=pk)
    if fmt == "csv":
        response = HttpResponse(return_document_csv(document), content_type="text/csv; charset=utf-8")
    elif fmt == "mt102":
        try:
            response = HttpResponse(return_document_mt102(document), content_type="text/plain; charset=utf-8")
        except NoReturnMessage as exc:
            return HttpResponse(exc.worded(), status=409, content_type="text/plain; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{document.number}.{fmt}"'
    log_access(
        request,
        kind=AccessLog.Kind.EXPORT,
        view="return_document_download",
        # The file holds every returned person: all are logged, as an admin export logs its rows.
        query={"return_document": document.number, "format": fmt, **shown_iins(returned_iins(document), limit=None)},
        row_count=document.lines_count,
    )
    return response


@requires("contributions.view_incomingfile")
@require_GET
def incoming_file_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file exactly as the payer's bank sent it (Rules, paragraph 6): what a staff member
    reviewing an order reads when the stored lines cannot say enough. It holds every person of
    the file: the read is logged with all of them that were read from it."""
    incoming = get_object_or_404(IncomingFile, pk=pk)
    people = OrderLine.objects.filter(order__file=incoming).values_list("iin", flat=True)
    payers = incoming.orders.values_list("payer_idn", flat=True)
    response = HttpResponse(bytes(incoming.raw), content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, incoming.file_name or f"file-{pk}") or ""
    log_access(
        request,
        kind=AccessLog.Kind.EXPORT,
        view="incoming_file_download",
        query={"file": incoming.pk, "sha256": incoming.sha256, **shown_iins([*payers, *people], limit=None)},
        row_count=len(people),
    )
    return response


@requires("contributions.view_orderline")
@require_GET
def payer_detail(request: HttpRequest, idn: str) -> HttpResponse:
    # No payer has a longer IDN, and text with NUL never reaches SQL.
    if len(idn) > (PaymentOrder._meta.get_field("payer_idn").max_length or 0) or "\x00" in idn:
        raise Http404
    orders = PaymentOrder.objects.filter(payer_idn=idn)
    first = orders.exclude(payer_name="").order_by("-created_at").first()
    if first is None and not orders.exists():
        raise Http404
    returns = list(
        ReturnDocument.objects.filter(order__payer_idn=idn)
        .select_related("order")
        .order_by("-created_at", "-id")[: PAYER_RETURNS + 1]
    )
    page = _orders_page(request, orders)
    # The payer may be an individual (an IIN): the page is a read of his data.
    log_access(
        request,
        kind=AccessLog.Kind.VIEW,
        view="payer_detail",
        query={"payer": idn, **shown_iins([idn])},
        row_count=len(page.object_list),
    )
    context = {
        "idn": idn,
        "name": first.payer_name if first else "",
        "page": page,
        "counts": status_counts(orders),
        "live_ids": _live_ids(page.object_list),
        "refunds": Refund.objects.filter(payer_idn=idn).select_related("entry__participant")[:100],
        "return_documents": returns[:PAYER_RETURNS],
        "more_return_documents": len(returns) > PAYER_RETURNS,
    }
    return render(request, "contributions/payer_detail.html", context)


@requires("contributions.view_refund")
@require_GET
def refund_list(request: HttpRequest) -> HttpResponse:
    refunds = Refund.objects.select_related("entry__participant", "registered_by", "decided_by")
    page = keyset_page(request, refunds, REFUND_KEYS, descending=True, per_page=PAGE)
    # The list names participants (IIN, entry): a read of personal data.
    log_access(
        request,
        kind=AccessLog.Kind.SEARCH,
        view="refund_list",
        query=shown_iins(r.entry.participant.iin for r in page.object_list),
        row_count=len(page.object_list),
    )
    return render(request, "contributions/refund_list.html", {"page": page, "decision_form": RefundDecisionForm()})


@requires("contributions.add_refund")
@require_http_methods(["GET", "POST"])
def refund_new(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(LedgerEntry.objects.select_related("participant"), pk=entry_id)
    if request.method == "GET":
        log_access(request, kind=AccessLog.Kind.VIEW, view="refund_new", participant=entry.participant)
    form = RefundRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            refund_register(entry_id=entry.pk, actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The refund was registered; a head approves it."))
            return redirect("refund_list")
    return render(
        request, "contributions/refund_new.html", {"entry": entry, "form": form, "refundable": refundable(entry)}
    )


@requires("contributions.approve_refund")
@require_POST
def refund_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve or reject a refund: a rejection gives its reason, either is confirmed."""
    refund = get_object_or_404(Refund, pk=pk)
    form = RefundDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("refund_list")
    try:
        refund = refund_decide(
            refund_id=refund.pk,
            actor=request.user,  # type: ignore[arg-type]
            approve=form.cleaned_data["decision"] == "approve",
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except DomainError as exc:
        messages.error(request, " ".join(exc.messages))
    except StepNotPermitted as exc:
        messages.error(request, str(exc))
    else:
        if refund.status == RefundStatus.POSTED:
            messages.success(request, _("The refund was approved and posted."))
        else:
            messages.success(request, _("The refund was rejected."))
    return redirect("refund_list")
