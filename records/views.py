"""Staff pages of the records app: home, participant search and page, the access log, and
loading a state-registry snapshot."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from records.access import (
    LOGGED_IN,
    client_address,
    log_access,
    participant_for_user,
    public,
    requires,
    shown_iins,
)
from records.export_jobs import (
    DOWNLOAD_VIEW,
    ExportFileChanged,
    ExportRefused,
    UnsafeExportPath,
    export_request,
    jobs_of,
    open_verified,
)
from records.exports import RESERVED, ExportKind, exports_url, kinds
from records.filters import AccessLogFilter, filtered
from records.forms import ParticipantSearchForm, RegistryUploadForm
from records.models import AccessLog, ExportJob, RegistryLoad
from records.paging import keyset_page
from records.panels import home_panels, participant_panels
from records.registry import registry_load_snapshot
from records.selectors import (
    ACCESS_LOG_KEYS,
    SEARCH_KEYS,
    access_log_entries,
    participant_changes,
    participant_search,
)
from records.services import Actor

logger = logging.getLogger(__name__)

PAGE_SIZE = 25


@public
@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """``/favicon.ico``, which browsers ask for whatever the page links: the app's SVG icon."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


@public
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for the load balancer and compose health checks.

    Public by design: it reveals no data, only whether the database answers.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:  # noqa: BLE001 - any failure means unhealthy
        return JsonResponse({"status": "database unavailable"}, status=503)


@requires(LOGGED_IN)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """What the signed-in user's roles let them do; nothing personal for a user without a role."""
    return render(request, "records/home.html", {"panels": home_panels(request)})


@requires("records.view_participant")
@require_GET
def participant_search_view(request: HttpRequest) -> HttpResponse:
    """By IIN, or by the start of the surname (and of the first name); an empty result says
    what was searched. The search and the people it shows are logged (Rules, paragraph 5)."""
    form = ParticipantSearchForm(request.GET or None)
    page, searched = None, []
    if form.is_bound and form.is_valid():
        results = participant_search(**form.cleaned_data)
        page = keyset_page(request, results, SEARCH_KEYS, descending=False, per_page=PAGE_SIZE)
        query = {k: v for k, v in form.cleaned_data.items() if v}
        log_access(
            request,
            kind=AccessLog.Kind.SEARCH,
            view="participant_search",
            query={**query, **shown_iins(p.iin for p in page.object_list)},
            row_count=page.count,
        )
        searched = form.searched()
    context = {"form": form, "page": page, "searched": searched}
    return render(request, "records/participant_search.html", context)


@requires("records.view_participant")
@require_GET
def participant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    participant = participant_for_user(request, pk, view="participant_detail")
    changes = participant_changes(participant)[:100]
    context = {"participant": participant, "changes": changes, "panels": participant_panels(request, participant)}
    return render(request, "records/participant_detail.html", context)


@requires("records.view_accesslog")
@require_GET
def access_log_view(request: HttpRequest) -> HttpResponse:
    filters = AccessLogFilter(request.GET or None, queryset=access_log_entries())
    page = keyset_page(request, filtered(filters), ACCESS_LOG_KEYS, descending=True, per_page=50)
    return render(request, "records/access_log.html", {"form": filters.form, "page": page})


REGISTRY_ERRORS_PAGE = 100


@requires("records.add_registryload")
@require_http_methods(["GET", "POST"])
def registry_upload(request: HttpRequest) -> HttpResponse:
    """Load a state-registry snapshot CSV, as ``manage.py load_registry`` does: the raw file
    is kept whatever happens to it (a load that fails says so on its page, never a 500), bad rows
    are skipped and listed, known participants' changed
    data become change records (Rules, paragraph 9), and the load is an audit event
    (``records.registry.registry_load_snapshot``)."""
    form = RegistryUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        load = registry_load_snapshot(
            raw=upload.read(), file_name=upload.name or "registry.csv", actor=Actor.of(request.user)
        )
        if load.status == RegistryLoad.Status.REJECTED:
            messages.error(request, _("The file was refused as a whole; nothing was loaded."))
        elif load.status != RegistryLoad.Status.LOADED:
            messages.error(request, _("The file was kept, but loading it failed; nothing of it was loaded."))
        elif load.rows_rejected:
            messages.warning(request, _("Loaded, except the rows listed below."))
        else:
            messages.success(request, _("Loaded."))
        return redirect("registry_load_detail", pk=load.pk)
    loads = RegistryLoad.objects.defer("raw").order_by("-loaded_at", "-id")[:20]
    return render(request, "records/registry_upload.html", {"form": form, "loads": loads})


_IIN_IN_TEXT = re.compile(r"(?<!\d)\d{12}(?!\d)")


@requires("records.view_registryload")
@require_GET
def registry_load_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A registry load: its counts and the rows it refused, with their line and reason."""
    load = get_object_or_404(RegistryLoad.objects.defer("raw"), pk=pk)
    errors = Paginator(load.errors, REGISTRY_ERRORS_PAGE).get_page(request.GET.get("page"))
    # A refused row's reason may quote its IIN: the page is logged with those it shows.
    shown = [iin for error in errors.object_list for iin in _IIN_IN_TEXT.findall(str(error.get("reason", "")))]
    if shown:
        log_access(
            request,
            kind=AccessLog.Kind.VIEW,
            view="registry_load_detail",
            query={"registry_load": load.pk, "page": errors.number, **shown_iins(shown)},
            row_count=len(errors.object_list),
        )
    return render(request, "records/registry_load.html", {"load": load, "errors": errors})


# --- Large exports (issue 19) -------------------------------------------------------------------

EXPORT_JOBS_SHOWN = 30


def _export_kinds(request: HttpRequest) -> list[ExportKind]:
    return [kind for kind in kinds() if kind.may_export(request.user)]


def _export_jobs_context(request: HttpRequest) -> dict[str, Any]:
    jobs = list(jobs_of(request.user)[:EXPORT_JOBS_SHOWN])
    labels = {kind.name: str(kind.label) for kind in kinds()}
    rows = [(job, labels.get(job.kind, job.kind)) for job in jobs]
    return {"jobs": rows, "live": any(job.is_active for job in jobs)}


@requires("records.export_data")
@require_http_methods(["GET", "POST"])
def export_jobs(request: HttpRequest) -> HttpResponse:
    """Large exports for the auditor: the form (what, which format, which filters) and their own
    jobs with their progress, checksum and file. Asking for an export is the auditor's one
    write (a job and its audit event: ``records.export_jobs.export_request``)."""
    available = _export_kinds(request)
    names = {kind.name: kind for kind in available}
    source = request.POST if request.method == "POST" else request.GET
    kind = names.get(source.get("kind", "")) or (available[0] if available else None)
    file_format = source.get("file_format", ExportJob.Format.XLSX)
    status = 200
    if kind is None:
        form = None
        if request.method == "POST":
            raise PermissionDenied
    elif request.method == "POST":
        filters = {key: value for key, value in request.POST.items() if key not in RESERVED}
        try:
            export_request(
                actor=Actor.of(request.user),
                kind=source.get("kind", ""),
                file_format=file_format,
                filters=filters,
                ip_address=client_address(request),
            )
        except ExportRefused as refused:
            form = kind.form(filters)
            form.is_valid()
            for field, errors in refused.message_dict.items():
                target = field if field in form.fields else None
                for error in errors:
                    if target is None or error not in form.errors.get(target, []):
                        form.add_error(target, error)
            status = 400
        else:
            messages.success(request, _("The export is queued. This page shows its progress."))
            return redirect(exports_url(kind.name))
    else:
        initial = {key: value for key, value in request.GET.items() if key in kind.form.base_fields}
        form = kind.form(initial=initial)
    return _exports_page(request, available, kind=kind, form=form, file_format=file_format, status=status)


def _exports_page(
    request: HttpRequest,
    available: list[ExportKind],
    *,
    kind: ExportKind | None,
    form: Any,
    file_format: str,
    status: int = 200,
) -> HttpResponse:
    context = {
        "kinds": available,
        "kind": kind,
        "form": form,
        "file_format": file_format,
        "formats": ExportJob.Format.choices,
        **_export_jobs_context(request),
    }
    return render(request, "records/exports.html", context, status=status)


@requires("records.export_data")
@require_GET
def export_job_table(request: HttpRequest) -> HttpResponse:
    """The table of the auditor's jobs alone: what the exports page reloads while one runs."""
    return render(request, "records/_export_jobs.html", _export_jobs_context(request))


@requires("records.export_data")
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The file of a finished job, to the auditor who asked for it only (anyone else: 404, as
    for a job that does not exist); every download is logged with the job and its checksum.
    The file is hashed again first: one that is not the job's (changed on disk) is refused
    (409: the exports page saying so, nothing served, nothing logged as read); a stored file
    name outside ``EXPORT_ROOT`` is a 404."""
    job = get_object_or_404(jobs_of(request.user), pk=pk, state=ExportJob.State.DONE)
    available = _export_kinds(request)
    kind = next((k for k in available if k.name == job.kind), None)
    if kind is None:
        raise PermissionDenied
    try:
        data = open_verified(job)
    except UnsafeExportPath as refused:
        logger.error("%s: not served", refused.detail)
        raise Http404 from None
    except FileNotFoundError:
        raise Http404 from None
    except ExportFileChanged:
        messages.error(
            request,
            _(
                "The file of export No. %(number)s on the server is no longer the one that was written:"
                " its SHA-256 checksum differs from the one recorded. It is not served. The administrator"
                " has the details; ask for the export again."
            )
            % {"number": job.pk},
        )
        return _exports_page(request, available, kind=kind, form=kind.form(), file_format=job.file_format, status=409)
    log_access(
        request,
        kind=AccessLog.Kind.EXPORT,
        view=DOWNLOAD_VIEW,
        query={"export_job": job.pk, "kind": job.kind, "format": job.file_format, "sha256": job.sha256},
        row_count=job.rows_written,
    )
    name = f"{job.kind}-{job.pk}.{job.file_format}"
    response = FileResponse(data, as_attachment=True, filename=name)
    response["X-Checksum-SHA256"] = job.sha256
    return response
