"""The pages changed for hardening, in Kazakh in a real browser: a head rejects a refund (the
reason and the confirmation box are asked for on the form, no script dialog), a search finds
nothing and says so, the registry page loads a snapshot and lists what it refused, and the
access log shows the people an order page showed. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.browser.conftest import second_factor
from tests.conftest import line_for, order_text

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    if os.environ.get("SAVE_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / name), full_page=True)
    if os.environ.get("SHOTS_DIR"):
        page.screenshot(path=str(Path(os.environ["SHOTS_DIR"]) / name), full_page=True)


def kk(text: str) -> str:
    with translation.override("kk"):
        return translation.gettext(text)


def sign_in(page: Page, base: str, username: str) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("button", name="KK").click()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "pw-123456789")
    page.locator("form[action='/accounts/login/'] button[type=submit]").click()
    second_factor(page, username)
    page.wait_for_selector("main h1")


def test_a_head_rejects_a_refund_with_its_reason_and_the_confirmation(
    live_server, page: Page, make_user, people
) -> None:
    from contributions.models import LedgerEntry, Refund, RefundStatus
    from contributions.services import intake_file, process_order, refund_register
    from records.services import Actor

    (order,) = intake_file(
        raw=order_text([line_for(people[1])]).encode(), file_name="o.mt102", door="upload",
        actor=Actor(label="test"), received=date(2023, 11, 24),
    ).orders  # fmt: skip
    process_order(order_id=order.pk, actor=Actor(label="test"))
    refund = refund_register(
        entry_id=LedgerEntry.objects.get().pk, amount=Decimal("1500.00"), request_number="Ө-18",
        request_date=date(2023, 12, 1), reason="Қате төленген", actor=make_user("specialist"),
    )  # fmt: skip
    make_user("head_of_unit", username="maria")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server.url, "maria")
    page.goto(f"{live_server.url}/refunds/")
    form = page.locator("form.refund-decision")
    # Without a tick the browser itself keeps the form (and the server would refuse it too).
    form.get_by_role("button", name=kk("Reject")).click()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REGISTERED
    form.locator("input[name=confirm]").check()
    shot(page, "refund-decision-kk.png")
    form.get_by_role("button", name=kk("Reject")).click()  # no reason given
    expect(page.locator(".alert-danger")).to_contain_text(kk("Give the reason the refund is refused."))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REGISTERED
    form = page.locator("form.refund-decision")
    form.locator("textarea[name=note]").fill("Өтініш негізсіз")
    form.locator("input[name=confirm]").check()
    form.get_by_role("button", name=kk("Reject")).click()
    expect(page.locator(".alert-success")).to_contain_text(kk("The refund was rejected."))
    refund.refresh_from_db()
    assert (refund.status, refund.decision_note) == (RefundStatus.REJECTED, "Өтініш негізсіз")
    assert Refund.objects.count() == 1
    assert not errors, errors


def test_search_registry_order_and_access_log_pages_in_kazakh(
    live_server, page: Page, make_user, people, tmp_path
) -> None:
    from django.contrib.auth.models import User

    from contributions.services import intake_file
    from records.services import Actor

    admin = User.objects.create_superuser("nurlan", password="pw-123456789")
    admin.first_name, admin.last_name = "Нұрлан", "Әбдірахманов"
    admin.save()
    (order,) = intake_file(
        raw=order_text([line_for(person) for person in people[1:6]], knp="010").encode(), file_name="o.mt102",
        door="upload", actor=Actor(label="test"), received=date(2023, 11, 24),
    ).orders  # fmt: skip
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    sign_in(page, live_server.url, "nurlan")

    # The search: a surname alone, and an empty result that says what was searched.
    page.goto(f"{live_server.url}/participants/?last_name=Жоқов")
    expect(page.locator("main .alert-info")).to_contain_text(kk("Nothing found."))
    expect(page.locator("main .alert-info")).to_contain_text("«Жоқов»")
    shot(page, "search-empty-kk.png")

    # The order page: the review form asks for the reason and the confirmation.
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    expect(page.locator("input[name=confirm]")).to_be_visible()
    shot(page, "order-review-kk.png")

    # The access log shows the people the order page showed, and finds them by IIN.
    page.goto(f"{live_server.url}/access-log/?iin={people[3].iin}")
    expect(page.locator("main table")).to_contain_text(kk("Payment order page"))
    page.locator("main table details summary").first.click()
    expect(page.locator("main table details").first).to_contain_text(people[3].iin)
    shot(page, "access-log-kk.png")

    # The registry page: load a snapshot with a refused row, see why in Kazakh.
    path = tmp_path / "registry.csv"
    path.write_text(
        "iin,last_name,first_name,patronymic,birth_date,gender,death_date\n"
        "791028302728,ИВАНОВ,ИВАН,ИВАНОВИЧ,1979-10-28,M,\n"
        "850615300012,СЕРИКОВ,ДАНИЯР,,15.06.1985,M,\n",
        encoding="utf-8",
    )
    page.locator("nav .nav-link.dropdown-toggle", has_text=kk("Control")).click()
    page.locator("nav .dropdown-menu.show").get_by_role("link", name=kk("State registry")).click()
    shot(page, "registry-upload-kk.png")
    page.set_input_files("input[name=file]", str(path))
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".alert-warning")).to_contain_text(kk("Loaded, except the rows listed below."))
    expect(page.locator("main table")).to_contain_text("ЖЖЖЖ-АА-КК")
    shot(page, "registry-load-kk.png")
    assert not errors, errors
