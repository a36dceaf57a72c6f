"""The monthly report and the heads' dashboard in Kazakh in a real browser (issue 19): a
specialist generates January's report, the head of the pension service opens it, signs it off
with the one-time code and downloads it; the head of a unit opens the dashboard, whose charts are
drawn by the vendored Chart.js and whose figures are the report's. Screenshots go to
docs/screenshots/ (SAVE_SCREENSHOTS=1)."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.test_kazakh_pages import kk, shot, sign_in
from tests.payments.conftest import SYSTEM, account, approve_through, months, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_report_is_signed_off_and_downloaded_and_the_dashboard_drawn_in_kazakh(
    live_server, page: Page, make_user, people, tmp_path
) -> None:
    from payments.models import MonthlyReport
    from payments.services import decision_draft, recipient_register
    from payments.services.runs import build_run, run_approve, run_start
    from records.models import AccessLog

    staff = {
        "drafter": make_user("specialist", username="aigul"),
        "verifier": make_user("senior_specialist"),
        "approver": make_user("head_of_unit", username="bolat"),
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
    run, _created = run_start(month=date(2024, 1, 1), actor=staff["drafter"])
    build_run(run_id=run.pk, actor=SYSTEM)
    run_approve(run_id=run.pk, actor=make_user("head_of_service"))
    base = live_server.url

    # The specialist generates January's report.
    sign_in(page, base, "aigul")
    page.goto(f"{base}/reports/")
    page.fill("input[name=month]", "2024-01")
    page.get_by_role("button", name=kk("Generate a version")).click()
    report = MonthlyReport.objects.get()
    page.wait_for_url(f"{base}/reports/{report.pk}/")
    expect(page.locator("#report-reconciled")).to_have_text(kk("Reconciled"))
    expect(page.locator("#report-sign")).to_have_count(0)
    page.context.clear_cookies()

    # The head of the pension service signs it off and downloads it.
    sign_in(page, base, "erlan")
    page.goto(f"{base}/reports/{report.pk}/")
    expect(page.locator("#table-payments")).to_contain_text("61 284,27")
    page.locator("#report-sign button").click()
    expect(page.locator("#report-state")).to_have_text(kk("Signed off"))
    shot(page, "monthly_report_kk.png")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="XLSX kk").click()
    download = download_info.value
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert download.suggested_filename == "report-2024-01-v1-kk.xlsx"
    book = load_workbook(path)
    assert book.sheetnames[0] == kk("Summary")
    assert AccessLog.objects.filter(view="monthly_report_download", user__username="erlan").exists()
    page.context.clear_cookies()

    # The head of a unit opens January's dashboard: the charts are drawn, the figures the report's.
    sign_in(page, base, "bolat")
    page.goto(f"{base}/dashboard/?month=2024-01")
    expect(page.locator("h1")).to_contain_text(kk("Dashboard"))
    expect(page.locator("#figure-net")).to_have_text("61 284,27")
    page.wait_for_function(
        "() => typeof Chart !== 'undefined' && Chart.getChart(document.querySelector('canvas[data-chart=payments]'))"
    )
    drawn = page.evaluate(
        "() => Array.from(document.querySelectorAll('canvas.dashboard-chart')).filter(c => Chart.getChart(c)).length"
    )
    assert drawn == 7
    net = page.evaluate(
        "() => Chart.getChart(document.querySelector('canvas[data-chart=payments]')).data.datasets[0].data.at(-1)"
    )
    assert net == float(MonthlyReport.objects.get().figures["payments"]["by_type"]["0702"]["net"])
    shot(page, "dashboard_kk.png")
