"""The orders screens in a real browser, with a real Celery worker: upload a file, watch its
orders finish, open the order and the participant's personal account with its chart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from contributions.models import ReturnReason
from tests.browser.conftest import second_factor
from tests.conftest import CeleryWorker, line_for, order_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    if os.environ.get("SAVE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / name), full_page=True)


def test_upload_watch_progress_and_open_the_account(
    live_server, page: Page, make_user, people, celery_worker: CeleryWorker, tmp_path: Path
) -> None:
    make_user("head_of_service", username="nurlan")
    person = people[1]
    path = tmp_path / "order.mt102"
    path.write_text(
        order_text([line_for(person), line_for(person, period="112023"), line_for(people[2], iin="850615300012")]),
        encoding="utf-8",
    )
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="KK").click()
    page.fill("input[name=username]", "nurlan")
    page.fill("input[name=password]", "pw-123456789")
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    second_factor(page, "nurlan")
    page.goto(f"{live_server.url}/orders/upload/")
    page.set_input_files("input[name=order_files]", str(path))
    page.fill("input[name=received]", "24.11.2023")
    page.locator("main form button[type=submit]").click()
    progress = page.locator("#upload-progress")
    expect(progress).to_contain_text("SO231124000009")
    # The worker finishes the order; the page updates itself (htmx polling).
    expect(progress.locator(".badge")).to_have_class("badge status-partially_returned", timeout=30_000)
    shot(page, "upload-kk.png")
    progress.get_by_role("link", name="SO231124000009").click()
    with translation.override("kk"):  # the reason's label in the page's language, not its code
        unknown_iin = str(ReturnReason.UNKNOWN_IIN.label)
    expect(page.locator("body")).to_contain_text(unknown_iin)
    shot(page, "order-kk.png")
    page.goto(f"{live_server.url}/participants/?iin={person.iin}")
    page.get_by_role("link", name=person.iin).click()
    expect(page.locator("#account-chart")).to_be_visible()
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('account-chart'))")
    page.wait_for_timeout(300)
    expect(page.locator("body")).to_contain_text("2023-11")
    expect(page.locator(".app-card").filter(has_text="2023-11").first).to_contain_text("14\u00a0000,00")
    # The chart writes its amounts as the table does (kk: "7 000"), never "7,000".
    ticks = page.evaluate(
        "() => Chart.getChart(document.getElementById('account-chart')).scales.y.ticks.map(t => t.label)"
    )
    assert any("\u00a0000" in str(t) for t in ticks), ticks
    assert not any("," in str(t) for t in ticks), ticks
    shot(page, "account-kk.png")
    assert not errors, errors


@pytest.mark.django_db(transaction=True)
def test_the_order_list_refreshes_only_its_open_rows(live_server, page: Page, make_user, people) -> None:
    """An order still waiting for a worker: the list polls for that order's changing cells
    (not the whole page), swaps them in when the worker is done, then stops polling."""
    from contributions.services import process_order
    from records.services import Actor
    from tests.conftest import take_in

    make_user("head_of_service", username="aigul")
    (done,) = take_in(order_text([line_for(people[1])], reference="DONE1", number="1"))
    (waiting,) = take_in(order_text([line_for(people[2])], reference="WAIT1", number="2"), process=False)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="KK").click()
    page.fill("input[name=username]", "aigul")
    page.fill("input[name=password]", "pw-123456789")
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    second_factor(page, "aigul")
    page.goto(f"{live_server.url}/orders/")
    status = page.locator(f"#order-{waiting.pk}-status .badge")
    expect(status).to_have_class("badge status-received")
    expect(page.locator("#order-live")).to_have_attribute("hx-get", f"/orders/live/?ids={waiting.pk}")
    shot(page, "order-list-live-kk.png")

    process_order(order_id=waiting.pk, actor=Actor(label="worker"))
    expect(status).to_have_class("badge status-posted", timeout=10_000)
    expect(page.locator(f"#order-{waiting.pk}-lines")).to_have_text("1/1")
    expect(page.locator("#order-live")).not_to_have_attribute("hx-get", f"/orders/live/?ids={waiting.pk}")
    polls = [url for url in requests if "/orders/live/" in url]
    assert polls
    assert all(url.endswith(f"ids={waiting.pk}") for url in polls)  # only the open order, never the done one
    assert sum(url.rstrip("/").endswith("/orders") for url in requests) == 1  # the page itself, once
    page.wait_for_timeout(4_000)
    assert len([url for url in requests if "/orders/live/" in url]) == len(polls)  # polling stopped
    assert done.pk != waiting.pk
