"""The staff UI in a real browser: sign in, switch to Kazakh and Russian, find a participant by
IIN and open the page. Screenshots of the Kazakh pages go to docs/screenshots/."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    if os.environ.get("SAVE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / name), full_page=True)


def test_sign_in_switch_language_find_and_open_a_participant(live_server, page: Page, make_user, participant) -> None:
    user = make_user("specialist", username="aigerim")
    user.first_name, user.last_name = "Айгерім", "Сейітова"
    user.save()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    # Kazakh first, on the login page itself.
    page.get_by_role("button", name="KK").click()
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    shot(page, "login-kk.png")
    page.fill("input[name=username]", "aigerim")
    page.fill("input[name=password]", "pw-123456789")
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Айгерім")

    page.get_by_role("link", name="Қатысушылар").first.click()
    page.fill("input[name=iin]", participant.iin)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("link", name=participant.iin)).to_be_visible()
    shot(page, "search-kk.png")
    page.get_by_role("link", name=participant.iin).click()
    expect(page.locator("h1")).to_have_text("ИВАНОВ ИВАН ИВАНОВИЧ")
    expect(page.locator("body")).to_contain_text("28.10.1979")
    shot(page, "participant-kk.png")

    # Russian: the same page in Russian.
    page.get_by_role("button", name="RU").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("body")).to_contain_text("Персональные данные")
    assert not errors, errors  # no CSP violations or script errors


def test_the_api_documentation_renders_from_vendored_files(live_server, page: Page) -> None:
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .title").first).to_contain_text("GFSS personalized records API", timeout=15_000)
    expect(page.locator("body")).to_contain_text("/api/v1/orders/")
    # The upload is documented as a file: "Try it out" offers a file picker for multipart.
    upload = page.locator(".opblock-post").filter(
        has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/orders/$"))
    )
    upload.locator(".opblock-summary").first.click()
    upload.get_by_role("button", name="Try it out").click()
    upload.locator("select.content-type, .body-param-content-type select").first.select_option("multipart/form-data")
    expect(upload.locator("input[type=file]").first).to_be_visible()
    expect(upload.locator(".responses-wrapper")).to_contain_text("413")
    shot(page, "api-docs.png")
    assert all(url.startswith(live_server.url) for url in requests), [
        u for u in requests if not u.startswith(live_server.url)
    ]
    assert not errors, errors
