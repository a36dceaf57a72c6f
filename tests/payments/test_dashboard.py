"""The heads' dashboard (issue 19): every figure of a month equals that month's report, the
pages and downloads in Kazakh and Russian, and who may see them."""

from __future__ import annotations

import io
from datetime import date

import pgtrigger
import pytest
from django.urls import reverse
from openpyxl import load_workbook

from payments.models import MonthlyReport
from payments.selectors.dashboard import dashboard
from payments.services import decision_draft, decision_submit
from payments.services.reports import report_generate
from records.models import AccessLog
from tests.conftest import PAYER
from tests.payments.test_recipient_pages import client_for
from tests.payments.test_reports import NOV, january, november  # noqa: F401 - fixtures
from tests.payments.test_runs import JAN


def test_every_figure_of_the_dashboard_equals_the_months_report(november, january, staff):  # noqa: F811
    for month in (NOV, JAN):
        report = report_generate(month=month, actor=staff["drafter"])
        board = dashboard(month)
        # The same querysets, the same month; the dashboard does without the by-payer list.
        without_payers = {**report.figures, "contributions": dict(report.figures["contributions"])}
        without_payers["contributions"].pop("payers")
        assert board.figures == without_payers
        assert "payers" not in board.figures["contributions"]
        assert sum(day["received"] for day in board.days) == report.figures["contributions"]["orders"]["received"]
        assert sum(day["processed"] for day in board.days) == report.figures["contributions"]["orders"]["processed"]
    nov = dashboard(NOV)
    assert [(d["day"], d["received"], d["processed"]) for d in nov.days] == [
        (date(2023, 11, 24), 2, 2)
    ]  # and paid_to's
    # The test orders are processed years after their receipt: none within one working day.
    assert nov.in_time == {"processed": 2, "in_time": 0, "late": 2, "percent": 0}
    jan = dashboard(JAN)
    report = MonthlyReport.objects.get(month=JAN)
    assert jan.payments_by_month[-1] == {"month": JAN, "by_type": {"0702": {"count": 1, "net": "61284.27"}}}
    assert jan.payments_by_month[-1]["by_type"]["0702"]["net"] == report.figures["payments"]["by_type"]["0702"]["net"]
    assert [m["month"] for m in jan.payments_by_month][:2] == [date(2023, 2, 1), date(2023, 3, 1)]


def test_decisions_waiting_by_age(applicant, staff):
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    assert dashboard(NOV).waiting[0] == {"from": 0, "to": 1, "count": 0}  # a draft does not wait
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    assert [row["count"] for row in dashboard(NOV).waiting] == [1, 0, 0, 0]


@pytest.mark.parametrize("role", ["head_of_unit", "auditor"])
def test_the_dashboard_page_in_kazakh(role, november, make_user):  # noqa: F811
    client = client_for(make_user(role), "kk")
    response = client.get(reverse("heads_dashboard"), {"month": "2023-11"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="dashboard-data"' in page
    assert "Бақылау тақтасы" in page
    assert '<div class="h4 mb-0" id="figure-received">1</div>' in page
    assert 'src="/static/vendor/chartjs/chart.umd.min.js"' in page


def test_a_wrong_month_shows_the_form_error_not_another_month(make_user):
    client = client_for(make_user("head_of_unit"), "en")
    response = client.get(reverse("heads_dashboard"), {"month": "2023-13"})
    assert response.status_code == 200
    assert "A month is written YYYY-MM" in response.content.decode()


def test_the_report_page_generate_sign_and_download(november, staff, make_user):  # noqa: F811
    drafter = client_for(staff["drafter"], "ru")
    response = drafter.post(reverse("monthly_reports"), {"month": "2023-11", "reason": ""})
    report = MonthlyReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("monthly_report_detail", args=[report.pk])
    page = drafter.get(response["Location"]).content.decode()
    assert "Сверено" in page
    assert 'id="report-sign"' not in page  # a specialist signs nothing
    auditor = client_for(make_user("auditor"), "kk")
    assert auditor.post(reverse("monthly_reports"), {"month": "2023-11"}).status_code == 403
    download = auditor.get(reverse("monthly_report_download", args=[report.pk, "ru", "xlsx"]))
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith('report-2023-11-v1-ru.xlsx"')
    assert load_workbook(io.BytesIO(download.content)).sheetnames[0] == "Сводка"
    logged = AccessLog.objects.get(view="monthly_report_download")
    assert (logged.kind, logged.row_count, logged.query["iins"], logged.query["sha256"]) == (
        "export",
        1,
        [PAYER],
        report.sha256,
    )
    head = client_for(make_user("head_of_service"), "kk")
    assert 'id="report-sign"' in head.get(reverse("monthly_report_detail", args=[report.pk])).content.decode()
    head.post(reverse("monthly_report_sign", args=[report.pk]), {"version": report.version})
    report.refresh_from_db()
    assert report.state == "signed"


def test_the_report_page_shows_its_payers_a_page_at_a_time_and_logs_them(november, staff, settings):  # noqa: F811
    """At national scale a month has a few hundred thousand payers: the page takes one page of
    them out of the stored figures (in SQL), says how many there are, and logs those it shows."""
    from payments.selectors import reports

    report = report_generate(month=NOV, actor=staff["drafter"])
    payers = [
        {"idn": f"{n:012d}", "name": f"P{n}", "orders": 1, "contributions": "1.00", "penalties": "0.00",
         "returned_lines": 0, "returned": "0.00"}
        for n in range(1, 251)
    ]  # fmt: skip
    figures = {**report.figures, "contributions": {**report.figures["contributions"], "payers": payers}}
    differing = {"order": 1, "reference": "X", "payer": "000000000999", "paid": "1.00", "returned": "0.00",
                 "posted": "0.00", "difference": "-1.00"}  # fmt: skip
    figures["reconciliation"] = [{**figures["reconciliation"][0], "ok": False, "items": [differing]}]
    figures["reconciliation"].append(report.figures["reconciliation"][1])
    with pgtrigger.ignore("payments.MonthlyReport:report_figures_frozen"):
        MonthlyReport.objects.filter(pk=report.pk).update(figures=figures)
    client = client_for(staff["drafter"], "en")
    url = reverse("monthly_report_detail", args=[report.pk])
    assert reports.PAYERS_PER_PAGE == 100

    def shown(query: dict[str, str]) -> tuple[list[str], str]:
        page = client.get(url, query).content.decode()
        table = page[page.index('id="table-payers"') : page.index("</table>", page.index('id="table-payers"'))]
        nav = page[page.index('id="payers-pages"') : page.index("</nav>", page.index('id="payers-pages"'))]
        return [row.split("<td>")[1].split("</td>")[0] for row in table.split("<tr>")[2:]], nav

    rows, nav = shown({})
    assert (len(rows), rows[0], rows[-1]) == (100, "000000000001", "000000000100")
    assert "Payers 1–100 of 250" in nav
    assert "payers-next" in nav
    assert "payers-previous" not in nav
    logged = AccessLog.objects.get(view="monthly_report_detail")
    assert (logged.kind, logged.row_count, logged.query["payers_page"]) == ("view", 100, 1)
    # The payers of the page and the one named by a difference of the reconciliation.
    assert logged.query["iins"] == [*(f"{n:012d}" for n in range(1, 101)), "000000000999"]
    rows, nav = shown({"payers": "3"})
    assert (len(rows), rows[0], rows[-1]) == (50, "000000000201", "000000000250")
    assert "Payers 201–250 of 250" in nav
    assert "payers-next" not in nav
    assert 'href="?payers=2"' in nav
    for past_or_bad in ("9", "0", "-1", "x", "٣", "1" * 30):
        rows, nav = shown({"payers": past_or_bad})
        assert rows[0] == ("000000000201" if past_or_bad == "9" else "000000000001"), past_or_bad
    # The other tables are the stored figures' (only the payers cut out in SQL).
    page = client.get(url).content.decode()
    assert 'id="report-reconciled">Reconciled' in page  # as stored
    assert 'id="table-summary"' in page


@pytest.mark.parametrize("month", ["9999-12", "0001-01", "0001-06", "2004-12", "2100-01"])
def test_a_month_outside_the_funds_years_is_refused_in_its_words(staff, month):
    """The dashboard reads twelve months back and one ahead: year 1 or 9999 would leave the
    calendar. A month before the Fund's first contributions (2005) or after 2099 is refused by
    the form, and the page shows this month instead."""
    client = client_for(staff["approver"], "en")
    for query in ({"month": month}, {"month": ["2023-11", month]}):
        response = client.get(reverse("heads_dashboard"), query)
        assert response.status_code == 200
        assert f"A month from 01.2005 to 12.2099, please: {month}." in response.content.decode()
    assert client.get(reverse("heads_dashboard"), {"month": "2005-01"}).status_code == 200


def test_the_dashboard_is_kept_a_few_minutes_and_beat_reads_it_again(november, staff, settings):  # noqa: F811
    """At national scale the month's figures take some 20 s to read: the page shows the
    dashboard kept in the cache (and says as of when), beat computes the current month's again
    before it expires, and what is kept is exactly what ``dashboard`` computes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from payments.selectors.dashboard import kept_dashboard
    from payments.selectors.dashboard import refresh_dashboard as refresh_dashboard_of
    from payments.tasks import refresh_dashboard

    first = kept_dashboard(NOV)
    assert first.figures == dashboard(NOV).figures
    with CaptureQueriesContext(connection) as read:
        assert kept_dashboard(NOV) == first  # kept: nothing read again
    assert len(read.captured_queries) == 0
    client = client_for(staff["approver"], "en")
    page = client.get(reverse("heads_dashboard"), {"month": "2023-11"}).content.decode()
    assert "Figures as of " in page
    assert 'id="figure-received">1<' in page
    # What beat computes replaces what is kept (here the current month's).
    month = timezone.localdate().replace(day=1)
    before = kept_dashboard(month)
    assert refresh_dashboard() == f"{month:%Y-%m}"
    assert kept_dashboard(month).computed_at > before.computed_at
    settings.DASHBOARD_REFRESH_SECONDS = 0  # kept no time: read again on every view
    again = refresh_dashboard_of(NOV)
    assert kept_dashboard(NOV).computed_at > again.computed_at > first.computed_at
