"""The second factor holds for the whole site, the admin included (issue 17).

A signed-in user who needs the second factor (``records.second_factor``) and has not given it
in this session is sent to the code step, or to set up a device, from every page but the few a
person needs to get there or away: those two steps, sign-in and sign-out, the language switch,
the health check and the static files. The API is left to the services: DRF's token
authentication happens in the view, after every middleware, and a person's session on the API
without the second factor is refused by the step itself (``records.approval.SecondFactorMissing``).

Installed after django-otp's ``OTPMiddleware`` (which sets ``request.user.otp_device``) and
after django-htmx's (an htmx request is sent on with ``HX-Redirect``, so the whole page
changes, not a fragment), before django-axes (which stays last, as it asks). The redirect is
answered before any view runs, so nothing is written and CSRF has nothing to check."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from records.approval import second_factor_verified
from records.otp_views import second_factor_step
from records.second_factor import needs_second_factor

OPEN_URL_NAMES = ("otp_setup", "otp_verify", "login", "logout", "set_language", "healthz", "favicon")


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    @cached_property
    def open_paths(self) -> frozenset[str]:
        return frozenset(reverse(name) for name in OPEN_URL_NAMES)

    @cached_property
    def open_prefixes(self) -> tuple[str, ...]:
        return ("/api/", "/" + str(settings.STATIC_URL).lstrip("/"))

    def is_open(self, request: HttpRequest) -> bool:
        return request.path in self.open_paths or request.path_info.startswith(self.open_prefixes)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = request.user
        if (
            user.is_authenticated
            and not self.is_open(request)
            and needs_second_factor(user)
            and not second_factor_verified(user)
        ):
            target = request.get_full_path() if request.method in ("GET", "HEAD") else ""
            step = second_factor_step(user, target or reverse("home"))
            if request.headers.get("HX-Request"):
                return HttpResponseClientRedirect(step)
            return HttpResponseRedirect(step)
        return self.get_response(request)
