"""Staff pages of the records app: home, participant search and page, the access log."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from records.access import LOGGED_IN, log_access, participant_for_user, public, requires
from records.forms import AccessLogFilterForm, ParticipantSearchForm
from records.models import AccessLog
from records.panels import participant_panels
from records.selectors import access_log, participant_changes, participant_search

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
    return render(request, "records/home.html")


@requires("records.view_participant")
@require_GET
def participant_search_view(request: HttpRequest) -> HttpResponse:
    form = ParticipantSearchForm(request.GET or None)
    page = None
    if form.is_bound and form.is_valid():
        results = participant_search(**form.cleaned_data)
        page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
        query = {k: v for k, v in form.cleaned_data.items() if v}
        log_access(
            request,
            kind=AccessLog.Kind.SEARCH,
            view="participant_search",
            query={**query, "page": page.number},
            row_count=page.paginator.count,
        )
    return render(request, "records/participant_search.html", {"form": form, "page": page})


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
    form = AccessLogFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        entries = AccessLog.objects.none()  # a filter that is wrong matches nothing, not everything
    else:
        filters = form.cleaned_data if form.is_bound else {}
        entries = access_log(**{k: v for k, v in filters.items() if v})
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "records/access_log.html", {"form": form, "page": page})
