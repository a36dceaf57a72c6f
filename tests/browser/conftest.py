"""Playwright on Debian's Chromium (/usr/bin/chromium): no browser download, closed network."""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # sync Playwright runs an event loop

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "ru-RU"}


def second_factor(page, username: str) -> None:
    """After the password was sent: a user who needs the second factor (records.second_factor)
    is asked for a code. Type the one their authenticator app would show now (the key of their
    device, django-otp's own TOTP), or, for a user without a device yet, set one up on the page
    from the secret it shows, as a person would with the app. Others are left where they are."""
    from base64 import b32decode

    from django_otp.oath import totp  # type: ignore[import-untyped]
    from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/accounts/second-factor/setup/" in page.url:
        secret = page.locator(".otp-secret").inner_text().replace(" ", "")
        page.fill("input[name=code]", f"{totp(b32decode(secret)):06d}")
        page.locator("form[action='/accounts/second-factor/setup/'] button[type=submit]").click()
        page.locator(".backup-codes").wait_for()
        page.locator("main a.btn-primary").click()  # "I have kept the codes: continue"
    elif "/accounts/second-factor/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, confirmed=True)
        page.fill("input[name=code]", f"{totp(device.bin_key):06d}")
        page.locator("form[action='/accounts/second-factor/'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/second-factor/" not in url)
