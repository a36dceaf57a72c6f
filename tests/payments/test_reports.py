"""The monthly report to the authorized body (Rules, paragraph 5; issue 19): its figures from
both halves of the record, the reconciliation with a deliberate difference, versions, the
four-eyes sign-off, a signed report that never changes, the beat that generates it, and the
files in Kazakh and Russian."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from decimal import Decimal

import pgtrigger
import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import translation
from openpyxl import load_workbook

from contributions.models import LedgerEntry
from payments.models import MonthlyReport, Payment, ReportState
from payments.report_tables import report_csv, report_xlsx
from payments.selectors.reports import canonical, report_figures
from payments.services.confirmations import confirmation_take_in
from payments.services.reports import generate_scheduled_report, report_generate, report_sign
from records.approval import StepNotPermitted
from records.models import AuditEvent
from tests.conftest import PAYER, line_for, order_text, take_in
from tests.payments.conftest import build, release
from tests.payments.test_runs import JAN

NOV = date(2023, 11, 1)  # the test orders are received on 2023-11-24


def refusal(call) -> list[str]:
    from contributions.services.common import DomainError

    with pytest.raises(DomainError) as refused:
        call()
    return refused.value.messages


@pytest.fixture
def november(people):
    """One order of 2023-11: two lines posted (7 000.00 and 3 500.50), one returned (an IIN
    not in the registry, 1 000.00)."""
    lines = [
        line_for(people[3], amount="7000,00"),
        line_for(people[5], amount="3500,50"),
        line_for(people[6], amount="1000,00", iin="000000000000"),
    ]
    return take_in(order_text(lines, reference="NOV-1"))[0]


def test_the_contributions_of_a_month_by_payer_and_reconciled(november, people):
    figures = report_figures(NOV)
    contributions = figures["contributions"]
    assert contributions["orders"]["received"] == 1
    assert contributions["orders"]["processed"] == 1
    assert contributions["orders"]["by_status"]["partially_returned"] == 1
    assert contributions["participants"] == 2
    assert contributions["by_kind"] == {
        "contribution": {"count": 2, "sum": "10500.50"},
        "penalty": {"count": 0, "sum": "0.00"},
    }
    assert contributions["returned"]["lines"] == 1
    assert contributions["returned"]["sum"] == "1000.00"
    assert list(contributions["returned"]["by_reason"]) == ["unknown_iin"]
    assert contributions["payers"] == [
        {
            "idn": PAYER,
            "name": november.payer_name,
            "orders": 1,
            "contributions": "10500.50",
            "penalties": "0.00",
            "returned_lines": 1,
            "returned": "1000.00",
        }
    ]
    ledger = figures["reconciliation"][0]
    assert ledger == {
        "check": "ledger",
        "processed": "11500.50",
        "returned": "1000.00",
        "expected": "10500.50",
        "actual": "10500.50",
        "difference": "0.00",
        "ok": True,
        "items": [],
    }
    assert report_figures(date(2023, 10, 1))["contributions"]["orders"]["received"] == 0  # another month


def test_a_deliberate_difference_in_the_ledger_is_shown_with_its_order(november):
    entry = LedgerEntry.objects.filter(order=november).order_by("amount")[0]
    with pgtrigger.ignore("contributions.LedgerEntry:entry_append_only"):
        LedgerEntry.objects.filter(pk=entry.pk).delete()  # an entry lost (as the owner could)
    ledger = report_figures(NOV)["reconciliation"][0]
    assert (ledger["ok"], ledger["actual"], ledger["difference"]) == (False, "7000.00", "-3500.50")
    assert ledger["items"] == [
        {
            "order": november.pk,
            "reference": "NOV-1",
            "payer": PAYER,
            "paid": "11500.50",
            "returned": "1000.00",
            "posted": "7000.00",
            "difference": "-3500.50",
        }
    ]


@pytest.fixture
def january(paid_to, staff):
    """January 2024 released (one payment of 68 093.64 gross, 6 809.37 withheld, 61 284.27
    net on list 202401-01) and returned by the bank."""
    run = release(build(JAN, staff), staff)
    confirmation_take_in(
        raw=(
            f"list;line;iin;amount;status;reason\n202401-01;1;{paid_to.participant.iin};61284,27;not_credited;closed\n"
        ).encode(),
        file_name="c.csv",
        actor=staff["drafter"],
    )
    return run


def test_the_payments_of_the_month_are_reconciled_with_the_lists(january):
    figures = report_figures(JAN)
    payments = figures["payments"]
    assert payments["run"] == {"state": "released", "released": True}
    assert payments["made"] == {"count": 1, "gross": "68093.64", "withheld": "6809.37", "net": "61284.27"}
    assert payments["by_type"] == {"0702": {"count": 1, "gross": "68093.64", "withheld": "6809.37", "net": "61284.27"}}
    assert payments["returned"] == {"count": 1, "sum": "61284.27"}
    assert payments["withheld"] == "6809.37"
    assert figures["recipients"]["paid_by_type"] == {"0702": 1}
    check = figures["reconciliation"][1]
    assert (check["listed"], check["returned"], check["expected"], check["actual"], check["ok"]) == (
        "61284.27",
        "61284.27",
        "0.00",
        "0.00",
        True,
    )


def test_a_deliberate_difference_in_a_released_list_is_shown_with_the_list(january):
    payment = Payment.objects.get(run=january)
    with pgtrigger.ignore("payments.Payment:payment_released_frozen"):
        Payment.objects.filter(pk=payment.pk).update(net=Decimal("60000.00"), withheld=Decimal("8093.64"))
    check = report_figures(JAN)["reconciliation"][1]
    assert check["ok"] is False
    assert (check["expected"], check["actual"], check["difference"]) == ("1284.27", "0.00", "-1284.27")
    assert check["items"] == [
        {
            "list": "202401-01",
            "bank": "HSBKKZKX",
            "listed": "61284.27",
            "returned": "60000.00",
            "credited": "0.00",
            "difference": "-1284.27",
        }
    ]


def test_decisions_approved_in_the_month_by_type_and_kind(in_force):
    decision = in_force.decisions.get()
    month = decision.approved_at.astimezone().date().replace(day=1)
    assert report_figures(month)["recipients"]["decisions"] == [{"type": "0702", "kind": "assign", "count": 1}]


# --- Versions and the sign-off ------------------------------------------------------------------


def test_versions_and_the_four_eyes_sign_off(november, staff, make_user):
    first = report_generate(month=NOV, actor=staff["drafter"])
    assert (first.number, first.state, first.reconciled) == (1, ReportState.DRAFT, True)
    assert first.sha256 == hashlib.sha256(canonical(first.figures)).hexdigest()
    with pytest.raises(StepNotPermitted):  # a specialist signs nothing
        report_sign(report_id=first.pk, actor=staff["drafter"])
    head = staff["head_of_service"]
    second = report_generate(month=NOV, actor=head, reason="a line corrected")
    first.refresh_from_db()
    assert (first.state, second.number, second.state) == (ReportState.SUPERSEDED, 2, ReportState.DRAFT)
    with pytest.raises(StepNotPermitted, match="Whoever generated a report cannot sign it off"):
        report_sign(report_id=second.pk, actor=head)
    signed = report_sign(report_id=second.pk, actor=make_user("head_of_service"))
    assert (signed.state, signed.signed_at is not None) == (ReportState.SIGNED, True)
    with pytest.raises(Exception, match="not possible"):  # a superseded draft is never signed
        report_sign(report_id=first.pk, actor=make_user("head_of_service"))
    # A signed report never changes, whatever writes; a correction is a new version.
    with pytest.raises(DatabaseError), transaction.atomic():
        MonthlyReport.objects.filter(pk=signed.pk).update(reason="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        MonthlyReport.objects.filter(pk=first.pk).update(figures={})
    third = report_generate(month=NOV, actor=staff["drafter"], reason="correction")
    signed.refresh_from_db()
    assert (signed.state, third.number, third.state) == (ReportState.SIGNED, 3, ReportState.DRAFT)
    actions = list(AuditEvent.objects.filter(action__startswith="payments.report").values_list("action", flat=True))
    assert actions.count("payments.report_generate") == 3


def test_a_month_not_ended_and_a_reader_are_refused(staff, make_user):
    from django.utils import timezone

    this_month = timezone.localdate().replace(day=1)
    assert refusal(lambda: report_generate(month=this_month, actor=staff["drafter"])) == [
        f"{this_month:%m.%Y} has not ended: its report cannot be generated yet."
    ]
    assert refusal(lambda: report_generate(month=date(2023, 11, 2), actor=staff["drafter"])) == [
        "A report is for a month: give its first day."
    ]
    with pytest.raises(PermissionDenied):
        report_generate(month=NOV, actor=make_user("auditor"))
    assert not MonthlyReport.objects.exists()


def test_beat_generates_the_previous_month_once_from_its_day(november, settings):
    settings.MONTHLY_REPORT_DAY = 5
    assert generate_scheduled_report(today=date(2023, 12, 4)) is False
    assert generate_scheduled_report(today=date(2023, 12, 5)) is True
    assert generate_scheduled_report(today=date(2023, 12, 6)) is False
    report = MonthlyReport.objects.get()
    assert (report.month, report.number, report.generated_by) == (NOV, 1, None)


# --- The files ----------------------------------------------------------------------------------


def test_the_files_in_russian_and_kazakh(november, staff):
    report = report_generate(month=NOV, actor=staff["drafter"])
    with translation.override("ru"):
        book = load_workbook(io.BytesIO(report_xlsx(report)))
        text = report_csv(report).decode("utf-8")
    assert book.sheetnames[:2] == ["Сводка", "Сверка"]
    summary = list(book["Сводка"].iter_rows(values_only=True))
    assert summary[0] == ("Показатель", "Количество", "Сумма, тенге")
    assert ("Социальные отчисления", 2, 10500.5) in summary or any(
        row[1:] == (2, 10500.5) for row in summary
    )  # a number cell, not text
    assert summary[-1][0].endswith(report.sha256)
    payers = list(book["Плательщики"].iter_rows(values_only=True))
    assert payers[1][0] == PAYER
    assert text.startswith("\ufeff")
    assert '"Сводка"\r\n"Показатель";"Количество";"Сумма, тенге"\r\n' in text
    assert ";2;10500,50\r\n" in text  # the reader's decimal comma
    with translation.override("kk"):
        kazakh = load_workbook(io.BytesIO(report_xlsx(report)))
    assert kazakh.sheetnames[:2] == ["Жиынтық", "Салыстыру"]


@pytest.mark.django_db(transaction=True)
def test_a_draft_signed_off_while_a_new_version_is_computed_stays_signed(november, make_user, monkeypatch):
    """A head signs the draft off while a specialist's new version is being computed (minutes at
    national scale): the drafts are locked only once the figures are in, so the signed one is
    not superseded behind the head's back (it was, and the page answered 500); the new version
    is the next one."""
    import threading

    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from payments.services import reports as services

    first = report_generate(month=NOV, actor=make_user("specialist"))
    head = make_user("head_of_service")
    computed = report_figures  # the function the service calls
    signed: list[object] = []

    def figures_while_signing(month: date) -> dict[str, object]:
        figures = computed(month)

        def sign() -> None:
            try:
                signed.append(report_sign(report_id=first.pk, actor=head, version=first.version).state)
            finally:
                connection.close()

        thread = threading.Thread(target=sign)
        thread.start()
        thread.join(30)
        return figures

    monkeypatch.setattr(services, "report_figures", figures_while_signing)
    client = Client(raise_request_exception=False)
    client.force_login(make_user("specialist"))
    response = client.post(reverse("monthly_reports"), {"month": "2023-11"})
    assert signed == [ReportState.SIGNED]
    assert response.status_code == 302
    assert list(MonthlyReport.objects.order_by("number").values_list("number", "state")) == [
        (1, ReportState.SIGNED),
        (2, ReportState.DRAFT),
    ]


@pytest.mark.django_db(transaction=True)
def test_the_figures_are_read_from_one_snapshot(november, monkeypatch):
    """An entry posted from another connection while the figures are computed (after the
    contributions, before the reconciliation) is in none of them: the report does not show a
    difference that no one made."""
    import threading

    from django.db import connection

    from payments.selectors import reports as selectors

    checked = selectors._ledger_check
    entry = LedgerEntry.objects.filter(order=november).order_by("id").first()
    returned_line = november.lines.get(status="returned")  # a line without an entry
    assert entry is not None

    def posted_meanwhile(month: date) -> dict[str, object]:
        def post() -> None:
            try:
                LedgerEntry.objects.create(
                    participant=entry.participant,
                    period=entry.period,
                    kind="contribution",
                    amount=Decimal("99.00"),
                    payer_idn=entry.payer_idn,
                    order=november,
                    line=returned_line,
                    received=entry.received,
                )
            finally:
                connection.close()

        thread = threading.Thread(target=post)
        thread.start()
        thread.join(30)
        return checked(month)

    monkeypatch.setattr(selectors, "_ledger_check", posted_meanwhile)
    figures = report_figures(NOV)
    assert LedgerEntry.objects.filter(order=november).count() == 3  # it was posted
    assert figures["contributions"]["by_kind"]["contribution"] == {"count": 2, "sum": "10500.50"}
    ledger = figures["reconciliation"][0]
    assert (ledger["actual"], ledger["ok"]) == ("10500.50", True)
