"""A month's payment run in Kazakh in a real browser (issue 18): the specialist starts it and
sees it built, the head of the pension service approves it with the one-time code, then
downloads a bank's list; the recipient's page shows the payment. Screenshots go to
docs/screenshots/ (SAVE_SCREENSHOTS=1)."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_kazakh_pages import kk, shot, sign_in
from tests.conftest import wait_until
from tests.payments.conftest import account, approve_through, months, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_run_is_started_approved_and_a_list_downloaded_in_kazakh(
    live_server, page: Page, make_user, people, tmp_path
) -> None:
    from payments.models import PaymentRun, RunState
    from payments.services import decision_draft, recipient_register
    from payments.services.runs import RunBusy, build_run
    from records.models import AccessLog
    from records.services import Actor

    staff = {
        "drafter": make_user("specialist", username="aigul"),
        "verifier": make_user("senior_specialist"),
        "approver": make_user("head_of_unit"),
    }
    make_user("head_of_service", username="erlan")
    person = people[4]
    pay(person, months((2021, 12), 24))
    recipient = recipient_register(
        iin=person.iin,
        payment_type="0702",
        application_date=date(2023, 12, 20),
        risk_date=date(2023, 12, 15),
        loss_degree=50,
        actor=staff["drafter"],
    )
    approve_through(decision_draft(recipient_id=recipient.pk, kind="assign", actor=staff["drafter"]), staff)
    account(recipient, staff)
    base = live_server.url

    # The specialist starts January; a worker builds it (here: the same call, in this process,
    # unless a worker of the test run took the queued task first).
    sign_in(page, base, "aigul")
    page.goto(f"{base}/payments/runs/")
    page.fill("input[name=month]", "2024-01")
    page.get_by_role("button", name=kk("Start the run")).click()
    page.wait_for_url(f"{base}/payments/runs/2024-01/")
    expect(page.locator("main")).to_contain_text(kk("The run is being built."))
    # (RunBusy: a Celery worker of this test run took the task the page queued: it builds it.)
    with contextlib.suppress(RunBusy):
        build_run(run_id=PaymentRun.objects.get().pk, actor=Actor(label="test worker"))
    wait_until(lambda: PaymentRun.objects.get().state == RunState.BUILT)
    page.reload()
    expect(page.locator("#lists")).to_contain_text("202401-01")
    expect(page.locator("#total-net")).to_contain_text("61 284,27")
    expect(page.get_by_role("button", name=kk("Approve and release to the banks"))).to_have_count(0)
    page.context.clear_cookies()

    # The head of the pension service approves it and downloads Halyk's list.
    sign_in(page, base, "erlan")
    page.goto(f"{base}/payments/runs/2024-01/")
    shot(page, "payment_run_built_kk.png")
    page.get_by_role("button", name=kk("Approve and release to the banks")).click()
    expect(page.locator("#run-state")).to_contain_text(kk("Approved and released to the banks"))
    shot(page, "payment_run_released_kk.png")
    assert PaymentRun.objects.get().state == RunState.RELEASED
    with page.expect_download() as download_info:
        page.locator("#lists").get_by_role("link", name="CSV").click()
    download = download_info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    text = path.read_text(encoding="utf-8-sig")
    assert download.suggested_filename == "202401-01.csv"
    assert person.iin in text
    assert "61284,27" in text  # the reader's decimal comma
    assert AccessLog.objects.filter(view="payment_list_download", user__username="erlan").exists()

    # The recipient's page shows the payment of January (items 24-25).
    page.goto(f"{base}/recipients/{recipient.pk}/#payments")
    expect(page.locator("#payments-table")).to_contain_text("202401-01 / 1")
    shot(page, "recipient_payments_kk.png")
    page.goto(f"{base}/payments/work/unpaid/")
    shot(page, "work_list_unpaid_kk.png")
