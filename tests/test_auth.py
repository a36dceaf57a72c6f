"""Sign-in: brute-force lockout (django-axes), sign-out, the login page in three languages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_lockout_after_repeated_failed_logins() -> None:
    User.objects.create_user("clerk", password="the-right-password-1")
    client = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "clerk", "password": "wrong"})
        assert response.status_code in (200, 429)
    # Locked now: even the right password is refused.
    response = client.post(reverse("login"), {"username": "clerk", "password": "the-right-password-1"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The same user from another address is not locked (lockout is per username and address).
    other = Client(REMOTE_ADDR="10.9.9.10")
    response = other.post(reverse("login"), {"username": "clerk", "password": "the-right-password-1"})
    assert response.status_code == 302
    assert "_auth_user_id" in other.session


def test_sign_in_and_out() -> None:
    User.objects.create_user("clerk", password="the-right-password-1")
    client = Client()
    response = client.post(reverse("login"), {"username": "clerk", "password": "the-right-password-1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_a_session_lasts_a_working_day() -> None:
    """Not Django's two weeks: the second factor a head verified at sign-in must not carry an
    approval into the next days (SESSION_COOKIE_AGE)."""
    User.objects.create_user("clerk", password="the-right-password-1")
    client = Client()
    client.post(reverse("login"), {"username": "clerk", "password": "the-right-password-1"})
    assert client.cookies["sessionid"]["max-age"] == 8 * 3600
    assert client.session.get_expiry_age() == 8 * 3600


def test_security_headers_on_pages(client: Client) -> None:
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"


def wrong_passwords(client: Client, count: int, *, forwarded_for: list[str] | None = None) -> list[int]:
    """Post ``count`` wrong passwords for "clerk"; each with the next X-Forwarded-For, if given."""
    codes = []
    for attempt in range(count):
        headers = {"X-Forwarded-For": forwarded_for[attempt % len(forwarded_for)]} if forwarded_for else {}
        response = client.post(reverse("login"), {"username": "clerk", "password": "wrong"}, headers=headers)
        codes.append(response.status_code)
    return codes


def test_a_forged_forwarded_for_does_not_escape_the_lockout() -> None:
    """Without a trusted proxy, X-Forwarded-For is anyone's to write: rotating it must not give
    each attempt a fresh address (it used to, and 15 wrong passwords never locked)."""
    User.objects.create_user("clerk", password="the-right-password-1")
    client = Client(REMOTE_ADDR="198.51.100.20")
    codes = wrong_passwords(client, 15, forwarded_for=[f"203.0.113.{n}" for n in range(1, 16)])
    # The fifth failure (AXES_FAILURE_LIMIT) locks the username for this address.
    assert codes == [200] * 4 + [429] * 11
    response = client.post(
        reverse("login"),
        {"username": "clerk", "password": "the-right-password-1"},
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(TRUSTED_PROXIES=["10.0.0.0/24"])
def test_behind_a_trusted_proxy_the_lockout_takes_the_forwarded_client() -> None:
    User.objects.create_user("clerk", password="the-right-password-1")
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    # The proxy appends the address it saw; what the client put on the left is never believed.
    forged = [f"192.0.2.{n}, 203.0.113.7" for n in range(1, 16)]
    assert wrong_passwords(proxy, 15, forwarded_for=forged)[5:] == [429] * 10
    # Another client through the same proxy is not locked out by the first one's failures.
    response = proxy.post(
        reverse("login"),
        {"username": "clerk", "password": "the-right-password-1"},
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )
    assert response.status_code == 302
    assert "_auth_user_id" in proxy.session
