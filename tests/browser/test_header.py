"""The header in a real browser: one row at 1366 px in Kazakh and Russian, whatever menu a
role sees (the longest: an administrator's). Screenshots go to docs/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.browser.conftest import second_factor

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    if os.environ.get("SAVE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / name))
    if os.environ.get("SHOTS_DIR"):
        page.screenshot(path=str(Path(os.environ["SHOTS_DIR"]) / name))


def label(language: str, text: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def sign_in(page: Page, base: str, username: str, language: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("button", name=language.upper()).click()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-123456789")
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    second_factor(page, username)
    page.wait_for_selector("main h1")


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_header_is_one_row_at_1366_px(live_server, page: Page, make_user, language: str) -> None:
    from django.contrib.auth.models import User

    admin = User.objects.create_superuser("nurlan", password="pw-123456789")
    admin.first_name, admin.last_name = "Нұрлан", "Әбдірахманов"
    admin.save()
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server.url, "nurlan", language)
    shot(page, f"header-{language}.png")
    # One row: the middles of the brand, the menu items, the languages and the user's menu
    # are at one height, and the header is no taller than the two-line brand.
    spread = page.evaluate(
        """() => {
            const parts = ['.navbar-brand', '.nav-link', '.lang-switch', '.user-name']
                .map(p => 'nav.navbar ' + p).join();
            const middles = [...document.querySelectorAll(parts)].filter(e => e.offsetParent !== null)
                .map(e => e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2);
            return Math.max(...middles) - Math.min(...middles);
        }"""
    )
    assert spread < 12, spread
    box = page.locator("nav.navbar").bounding_box()
    assert box is not None
    assert box["height"] < 90, box
    # Nothing sticks out of the header's container on the right.
    overflow = page.evaluate(
        """() => {
            const box = document.querySelector('nav.navbar .container').getBoundingClientRect();
            const right = Math.max(...[...document.querySelectorAll('nav.navbar .container *')]
                .filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect().right));
            return right - box.right;
        }"""
    )
    assert overflow <= 1, overflow
    # The menus open and hold the pages of the roles that may see them (the review queue, the
    # deadlines and the registry are in the menu; the decisions under social payments).
    page.locator("nav .nav-link.dropdown-toggle").first.click()
    expect(page.locator("nav .dropdown-menu.show")).to_contain_text(label(language, "Decisions"))
    page.locator("nav .nav-link.dropdown-toggle").nth(1).click()
    expect(page.locator("nav .dropdown-menu.show")).to_contain_text(label(language, "Review queue"))
    expect(page.locator("nav .dropdown-menu.show")).to_contain_text(label(language, "Deadlines"))
    shot(page, f"header-menu-{language}.png")
