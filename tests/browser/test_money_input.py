"""An amount typed with a decimal comma on a Kazakh page in Chromium keeps its decimals: the
refund form's 12000,50 is stored as 12000.50 (it became 1200050 through a number box read by
the browser's own locale)."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import line_for, order_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    if os.environ.get("SAVE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / name), full_page=True)
    if os.environ.get("SHOTS_DIR"):
        page.screenshot(path=str(Path(os.environ["SHOTS_DIR"]) / name), full_page=True)


def test_a_refund_of_12000_comma_50_typed_on_a_kazakh_page_is_stored_as_12000_50(
    live_server, page: Page, make_user, people
) -> None:
    from contributions.models import LedgerEntry, Refund
    from contributions.services import intake_file, process_order
    from records.services import Actor

    (order,) = intake_file(
        raw=order_text([line_for(people[1], amount="20000,00")]).encode(),
        file_name="o.mt102",
        door="upload",
        actor=Actor(label="test"),
        received=date(2023, 11, 24),
    ).orders
    process_order(order_id=order.pk, actor=Actor(label="test"))
    entry = LedgerEntry.objects.get()
    make_user("specialist", username="aigerim")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="KK").click()
    page.fill("input[name=username]", "aigerim")
    page.fill("input[name=password]", "pw-123456789")
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    page.goto(f"{live_server.url}/refunds/new/{entry.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    page.locator("input[name=amount]").press_sequentially("12000,50")
    page.fill("input[name=request_number]", "Ө-17")
    page.fill("input[name=request_date]", "03.12.2026")
    page.fill("textarea[name=reason]", "Қате төленген жарналар")
    shot(page, "refund-new-kk.png")
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/refunds/")
    refund = Refund.objects.get()
    assert refund.amount == Decimal("12000.50")
    expect(page.locator("main table")).to_contain_text("12\u00a0000,50")
    shot(page, "refund-list-kk.png")
    assert not errors, errors
