"""Access checks and the personal-data access log (Rules, paragraph 5: confidentiality).

Every view declares its permission through ``requires`` (or ``public``); the URL x role matrix
test reads the declaration, so a view without one fails it. Reads of personal data go through
``participant_for_user`` and ``log_access``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from ipware import get_client_ip

from records.models import AccessLog, Participant

View = TypeVar("View", bound=Callable[..., HttpResponseBase])

LOGGED_IN = "login"  # pseudo-permission: any signed-in user


def requires(permission: str) -> Callable[[View], View]:
    """Sign-in and ``permission`` (or just sign-in for ``LOGGED_IN``); 403 when it is missing."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if permission != LOGGED_IN and not request.user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        guarded = login_required(wrapper)
        guarded.required_permission = permission  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def public(view: View) -> View:
    """Open to anyone by design (health check, login, language switch)."""
    view.required_permission = None  # type: ignore[attr-defined]
    return view


def client_address(request: HttpRequest) -> str | None:
    address, _routable = get_client_ip(request)
    return address


def log_access(
    request: HttpRequest,
    *,
    kind: str,
    view: str,
    participant: Participant | None = None,
    query: dict[str, Any] | None = None,
    row_count: int | None = None,
) -> AccessLog:
    return AccessLog.objects.create(
        user=request.user,  # type: ignore[misc]  # views that log require sign-in
        kind=kind,
        view=view,
        participant=participant,
        query=query or {},
        row_count=row_count,
        ip_address=client_address(request),
    )


# What each logged view is called on the access log page; apps above ``records`` add theirs in
# their ``ready()`` (imports flow downwards). A name that is not here is shown as it is.
VIEW_LABELS: dict[str, Any] = {
    "participant_detail": _("Participant page"),
    "participant_search": _("Participant search"),
    "api:participant_detail": _("API: participant"),
    "admin:participant_change": _("Admin: participant"),
    "admin:registryperson_change": _("Admin: registry record"),
}


def view_label(view: str) -> str:
    """The logged view in the reader's language: the page, the API call, the command, or the
    admin list or export of a model (``admin:app.model_changelist``, ``admin:app.model``)."""
    if view in VIEW_LABELS:
        return str(VIEW_LABELS[view])
    if view.startswith("admin:") and "." in view:
        label = view.removeprefix("admin:")
        is_list = label.endswith("_changelist")
        app_label, _dot, model_name = label.removesuffix("_changelist").partition(".")
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            return view
        name = str(model._meta.verbose_name_plural)
        if is_list:
            return gettext("Admin list: %(model)s") % {"model": name}
        return gettext("Admin export: %(model)s") % {"model": name}
    return view


def participant_for_user(request: HttpRequest, pk: int, *, view: str) -> Participant:
    """The one way to open a participant's personal data: checks the permission, answers 404
    alike for "missing" and "not allowed to know", and logs the read."""
    if not request.user.has_perm("records.view_participant"):
        raise Http404
    try:
        participant = Participant.objects.get(pk=pk)
    except Participant.DoesNotExist:
        raise Http404 from None
    log_access(request, kind=AccessLog.Kind.VIEW, view=view, participant=participant)
    return participant
