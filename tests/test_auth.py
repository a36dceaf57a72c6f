"""Sign-in: brute-force lockout (django-axes), sign-out, the login page in three languages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
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


def test_security_headers_on_pages(client: Client) -> None:
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
