"""Sign-in with the second factor (issue 17; ``records.second_factor`` says who needs it).

After the password, a user who needs the second factor is sent to the code step
(``otp_verify``), or, without a device yet, to set one up (``otp_setup``); until then
``records.middleware.SecondFactorMiddleware`` sends them back there from any page."""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import urlencode

import django_otp  # type: ignore[import-untyped]
import segno
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from records.access import LOGGED_IN, requires
from records.approval import second_factor_verified
from records.otp_forms import SetupCodeForm, VerifyCodeForm
from records.otp_services import (
    Throttled,
    backup_codes_left,
    has_device,
    is_totp_key,
    new_totp_key,
    second_factor_enrol,
    second_factor_verify,
    secret_text,
    setup_uri,
    totp_device,
)
from records.second_factor import needs_second_factor

SETUP_KEY_SESSION = "otp_setup_key"  # the secret of the device being set up, until confirmed


def safe_next(request: HttpRequest) -> str:
    """Where to go after the step: ``next`` if it is a path on this site (no other host or
    scheme, no control character), else home."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if (
        candidate.startswith("/")
        and not any(unicodedata.category(char).startswith("C") for char in candidate)
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return reverse("home")


def second_factor_step(user: User, target: str) -> str:
    """The URL of the step a user who needs the second factor takes next: the code, or setting
    up a device when they have none; ``target`` is where they go afterwards."""
    name = "otp_verify" if has_device(user) else "otp_setup"
    return f"{reverse(name)}?{urlencode({'next': target})}"


class SignInView(auth_views.LoginView):
    """Django's sign-in; a user who needs the second factor goes on to the code step."""

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if needs_second_factor(user):
            return HttpResponseRedirect(second_factor_step(user, self.get_success_url()))
        return response


def _qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as inline SVG (segno; nothing fetched from elsewhere)."""
    return str(
        segno.make(uri, error="m").svg_inline(scale=5, light="#fff", title=_("QR code for the authenticator app"))
    )


@requires(LOGGED_IN)
@require_http_methods(["GET", "POST"])
@never_cache
def otp_setup(request: HttpRequest) -> HttpResponseBase:
    """Set up an authenticator app: its secret as a QR code and as text, confirmed by its first
    code; then the ten backup codes, shown this once."""
    user: User = request.user  # type: ignore[assignment]  # requires() signed them in
    target = safe_next(request)
    context: dict[str, Any] = {"next": target}
    if not needs_second_factor(user):
        return render(request, "registration/otp_setup.html", {**context, "state": "not_needed"})
    if totp_device(user) is not None:
        return render(request, "registration/otp_setup.html", {**context, "state": "exists"})
    if has_device(user) and not second_factor_verified(user):
        # Backup codes only: they prove it is the owner before a new app replaces them.
        return redirect(f"{reverse('otp_verify')}?{urlencode({'next': request.get_full_path()})}")
    stored = request.session.get(SETUP_KEY_SESSION)
    key = stored if is_totp_key(stored) else new_totp_key()
    request.session[SETUP_KEY_SESSION] = key
    form = SetupCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = second_factor_enrol(user=user, key=key, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            del request.session[SETUP_KEY_SESSION]
            request.session.cycle_key()
            django_otp.login(request, enrolment.device)
            codes = {**context, "state": "codes", "backup_codes": enrolment.backup_codes}
            return render(request, "registration/otp_setup.html", codes)
    uri = setup_uri(user, key)
    context.update(state="setup", form=form, qr_svg=_qr_svg(uri), secret=secret_text(key), uri=uri)
    return render(request, "registration/otp_setup.html", context)


@requires(LOGGED_IN)
@require_http_methods(["GET", "POST"])
@never_cache
def otp_verify(request: HttpRequest) -> HttpResponseBase:
    """The code step after the password: a code of the authenticator app or a backup code."""
    user: User = request.user  # type: ignore[assignment]  # requires() signed them in
    target = safe_next(request)
    if not needs_second_factor(user) or second_factor_verified(user):
        return redirect(target)
    if not has_device(user):
        return redirect(second_factor_step(user, target))
    form = VerifyCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor_verify(user=user, code=form.cleaned_data["code"])
        except Throttled as exc:
            form.add_error(
                None,
                _("Too many wrong codes. Wait %(seconds)s s and try again.") % {"seconds": exc.seconds},
            )
        else:
            if device is not None:
                request.session.cycle_key()
                django_otp.login(request, device)
                left = backup_codes_left(device)
                if left is not None:
                    messages.warning(
                        request,
                        ngettext(
                            "You used a backup code: %(count)s is left.",
                            "You used a backup code: %(count)s are left.",
                            left,
                        )
                        % {"count": left},
                    )
                return redirect(target)
            form.add_error("code", _("This code is wrong or was already used."))
    return render(request, "registration/otp_verify.html", {"form": form, "next": target})
