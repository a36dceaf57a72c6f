"""Access checks and the personal-data access log (Rules, paragraph 5: confidentiality).

Every view declares its permission through ``requires`` (or ``public``); the URL x role matrix
test reads the declaration, so a view without one fails it. Reads of personal data go through
``participant_for_user`` and ``log_access``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from functools import cache, wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase

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


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(text: str) -> IPAddress | None:
    """An IP address, or None for anything else (IPv4-mapped IPv6 addresses read as IPv4)."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@cache
def trusted_networks(proxies: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(proxy.strip(), strict=False) for proxy in proxies)


def client_address(request: HttpRequest) -> str | None:
    """The address of whoever sent the request: the one answer for the login lockout
    (django-axes, ``AXES_CLIENT_IP_CALLABLE``), the access log (Rules, paragraph 5) and the
    API throttles.

    ``X-Forwarded-For`` is anyone's to write, so it is believed only when the request came
    from one of ``settings.TRUSTED_PROXIES`` (none by default), and then read from the right:
    the first address a trusted proxy did not add itself is the client. A forged entry on the
    left is never reached; a malformed one ends the walk at the last address known good.
    """
    remote = parse_address(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    proxies = trusted_networks(tuple(settings.TRUSTED_PROXIES))

    def trusted(address: IPAddress) -> bool:
        return any(address in network for network in proxies)

    client = remote
    if trusted(remote):
        for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            address = parse_address(hop)
            if address is None:
                break
            client = address
            if not trusted(address):
                break
    return str(client)


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


MAX_LOGGED_IINS = 1000


def shown_iins(iins: Iterable[str], *, limit: int | None = MAX_LOGGED_IINS) -> dict[str, Any]:
    """The people a page or a file shows, for the ``query`` of its one access-log row: their
    IINs (and payers' IIN/BIN) under ``iins``, which the access log's IIN filter searches
    (``records.selectors.access_log``). Distinct and sorted, at most ``MAX_LOGGED_IINS``;
    ``iins_total`` counts them when there were more. Text that is not 12 digits (an invalid
    IIN on a payer's line) names nobody the filter could find and is left out. An admin export
    passes ``limit=None``: every person in the file is logged (up to ``EXPORT_MAX_ROWS``)."""
    found = sorted({iin for iin in iins if len(iin) == 12 and iin.isascii() and iin.isdigit()})
    logged: dict[str, Any] = {"iins": found if limit is None else found[:limit]}
    if limit is not None and len(found) > limit:
        logged["iins_total"] = len(found)
    return logged
