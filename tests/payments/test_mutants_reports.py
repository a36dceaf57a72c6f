"""Tests that kill the survivors of the mutation run of the monthly report (issue 19:
payments/services/reports.py, payments/selectors/reports.py; docs/testing.md).

What they pin: which orders, entries and lines belong to a month (not the month before, not a
duplicate, not a refund), penalties apart from contributions, a payer without returns, the
refunds posted in the month's local days, December's next month, the canonical text the
checksum is taken of, the reason and the audit event of a version, a stale page refused at
sign-off, and what beat's generation writes and logs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

import pgtrigger
import pytest
from django.utils import timezone

from contributions.models import LedgerEntry, PaymentOrder
from payments.models import MonthlyReport
from payments.selectors.reports import canonical, month_bounds, next_month, report_figures
from payments.services.reports import generate_scheduled_report, report_generate, report_sign
from records.approval import StalePage
from records.models import AuditEvent
from tests.conftest import PAYER, line_for, order_text, take_in
from tests.payments.test_reports import NOV, november  # noqa: F401 - fixture

OTHER_PAYER = "190140816443"  # a fictional BIN with a valid check digit (make_bin)


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour, minute))


def test_the_canonical_text_of_the_figures():
    assert canonical({"b": [1, "2.50"], "a": "Әлия"}) == '{"a":"Әлия","b":[1,"2.50"]}'.encode()


def test_december_is_followed_by_january_and_a_month_ends_at_its_last_midnight():
    assert next_month(date(2023, 12, 1)) == date(2024, 1, 1)
    assert next_month(date(2023, 11, 1)) == date(2023, 12, 1)
    assert month_bounds(date(2023, 12, 1)) == (_local(2023, 12, 1), _local(2024, 1, 1))


def test_only_the_months_original_orders_count(november, people):  # noqa: F811
    october = take_in(order_text([line_for(people[7], amount="500,00")], reference="OCT-1"))[0]
    PaymentOrder.objects.filter(pk=october.pk).update(received=date(2023, 10, 31))
    october_returned = take_in(
        order_text([line_for(people[8], amount="40,00", iin="000000000000")], reference="OCT-2")
    )[0]
    PaymentOrder.objects.filter(pk=october_returned.pk).update(received=date(2023, 10, 31))
    again = take_in(order_text([line_for(people[3], amount="7000,00")], reference="NOV-1"), name="again.mt102")
    assert [order.is_original for order in again] == [False]  # the same order sent twice
    contributions = report_figures(NOV)["contributions"]
    assert contributions["orders"]["received"] == 1
    assert contributions["participants"] == 2
    assert contributions["by_kind"]["contribution"] == {"count": 2, "sum": "10500.50"}
    assert contributions["returned"] == {
        "lines": 1,
        "sum": "1000.00",
        "by_reason": {"unknown_iin": {"count": 1, "sum": "1000.00"}},
    }
    ledger = report_figures(NOV)["reconciliation"][0]  # October's entries are not November's
    assert (ledger["processed"], ledger["actual"], ledger["ok"]) == ("11500.50", "10500.50", True)


def test_penalties_apart_from_contributions_and_a_payer_without_returns(november, people):  # noqa: F811
    take_in(order_text([line_for(people[9], amount="250,00")], reference="NOV-P", knp="017", payer_idn=OTHER_PAYER))
    contributions = report_figures(NOV)["contributions"]
    assert contributions["by_kind"]["penalty"] == {"count": 1, "sum": "250.00"}
    assert contributions["by_kind"]["contribution"] == {"count": 2, "sum": "10500.50"}
    payers = {payer["idn"]: payer for payer in contributions["payers"]}
    assert payers[PAYER]["contributions"] == "10500.50"
    assert payers[PAYER]["penalties"] == "0.00"
    assert payers[OTHER_PAYER] == {
        "idn": OTHER_PAYER,
        "name": 'ТОО "СИНТЕТИКА"',
        "orders": 1,
        "contributions": "0.00",
        "penalties": "250.00",
        "returned_lines": 0,
        "returned": "0.00",
    }


def test_a_payer_without_a_name_is_named_by_nothing(november):  # noqa: F811
    PaymentOrder.objects.filter(pk=november.pk).update(payer_name="")
    assert report_figures(NOV)["contributions"]["payers"][0]["name"] == ""


def test_refunds_are_those_posted_in_the_months_local_days(november):  # noqa: F811
    entry = LedgerEntry.objects.filter(order=november).order_by("amount")[0]

    def refund(amount: str, at: datetime) -> None:
        LedgerEntry.objects.create(
            participant=entry.participant,
            period=entry.period,
            kind="refund",
            amount=Decimal(amount),
            payer_idn=entry.payer_idn,
            corrects=entry,
            received=entry.received,
            posted_at=at,
        )

    refund("-100.00", _local(2023, 11, 1, 0, 5))  # the month's first minutes, local time
    refund("-20.00", _local(2023, 11, 30, 23, 55))
    refund("-3.00", _local(2023, 10, 31, 23, 55))  # the month before
    refund("-4.00", _local(2023, 12, 1, 0, 5))  # the month after
    with pgtrigger.ignore("contributions.LedgerEntry:entry_append_only"):  # posted on the day received
        LedgerEntry.objects.filter(order=november).update(posted_at=_local(2023, 11, 24, 12, 0))
    contributions = report_figures(NOV)["contributions"]
    assert contributions["refunds"] == {"count": 2, "sum": "120.00"}
    assert contributions["by_kind"]["contribution"] == {"count": 2, "sum": "10500.50"}  # no refund in it


def test_a_version_keeps_its_reason_and_its_audit_event(november, staff):  # noqa: F811
    first = report_generate(month=NOV, actor=staff["drafter"])
    assert first.reason == ""
    second = report_generate(month=NOV, actor=staff["drafter"], reason="a line corrected")
    assert MonthlyReport.objects.get(pk=second.pk).reason == "a line corrected"
    event = AuditEvent.objects.filter(action="payments.report_generate").order_by("-id")[0]
    assert (event.object_pk, event.actor, event.data) == (
        str(second.pk),
        staff["drafter"],
        {"month": "2023-11", "version": 2, "sha256": second.sha256, "reconciled": True},
    )


def test_a_sign_off_from_a_stale_page_is_refused(november, staff, make_user):  # noqa: F811
    report = report_generate(month=NOV, actor=staff["drafter"])
    with pytest.raises(StalePage):
        report_sign(report_id=report.pk, actor=staff["head_of_service"], version=report.version + 1)
    assert MonthlyReport.objects.get(pk=report.pk).state == "draft"


def test_beats_version_is_the_schedules_and_logged(november, settings, caplog):  # noqa: F811
    settings.MONTHLY_REPORT_DAY = 1
    with caplog.at_level(logging.INFO, logger="payments.reports"):
        assert generate_scheduled_report(today=date(2023, 12, 1)) is True
    assert "the report for 2023-11 was generated" in caplog.messages
    event = AuditEvent.objects.get(action="payments.report_generate")
    assert (event.actor, event.actor_label) == (None, "schedule payments.monthly_report")


def test_the_ledger_check_adds_up_every_order_and_names_one_by_its_number(november, people):  # noqa: F811
    second = take_in(order_text([line_for(people[10], amount="2000,00")], reference="NOV-2", number="502"))[0]
    returned = take_in(
        order_text([line_for(people[11], amount="30,00", iin="000000000000")], reference="NOV-3", number="503")
    )[0]
    assert returned.status == "returned"  # nothing posted from it
    figures = report_figures(NOV)
    assert figures["month"] == "2023-11"
    assert figures["contributions"]["orders"]["by_status"] == {
        "received": 0,
        "posted": 1,
        "partially_returned": 1,
        "returned": 1,
        "needs_review": 0,
        "duplicate": 0,
    }
    ledger = figures["reconciliation"][0]
    assert (ledger["processed"], ledger["returned"], ledger["expected"], ledger["actual"], ledger["ok"]) == (
        "13530.50",
        "1030.00",
        "12500.50",
        "12500.50",
        True,
    )
    # An order without a total (a list sent as CSV) is taken at the sum of its lines; one without
    # a reference is named by its number.
    PaymentOrder.objects.filter(pk=second.pk).update(total=None, reference="")
    with pgtrigger.ignore("contributions.LedgerEntry:entry_append_only"):
        LedgerEntry.objects.filter(order=second).delete()
    ledger = report_figures(NOV)["reconciliation"][0]
    assert (ledger["processed"], ledger["actual"]) == ("13530.50", "10500.50")  # its lines, no entries
    assert ledger["items"] == [
        {
            "order": second.pk,
            "reference": "502",
            "payer": PAYER,
            "paid": "2000.00",
            "returned": "0.00",
            "posted": "0.00",
            "difference": "-2000.00",
        }
    ]


def test_decisions_approved_in_another_month_are_not_this_months(in_force):
    month = in_force.decisions.get().approved_at.astimezone().date().replace(day=1)
    before = date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)
    assert report_figures(before)["recipients"]["decisions"] == []
    assert report_figures(next_month(month))["recipients"]["decisions"] == []


def test_payments_credited_other_runs_and_recoveries(paid_to, staff):
    from payments.models import Payment, Recovery
    from payments.services.confirmations import confirmation_take_in
    from tests.payments.conftest import build, release
    from tests.payments.test_runs import FEB, JAN

    january = release(build(JAN, staff), staff)
    release(build(FEB, staff), staff)
    confirmation_take_in(
        raw=f"list;line;iin;amount;status;reason\n202401-01;1;{paid_to.participant.iin};61284,27;credited;\n".encode(),
        file_name="c.csv",
        actor=staff["drafter"],
    )
    payment = Payment.objects.get(run=january)
    Recovery.objects.create(
        recipient=paid_to, payment=payment, for_month=JAN, amount=Decimal("100.00"), reason="death", run=january
    )
    Recovery.objects.create(
        recipient=paid_to, payment=payment, for_month=JAN, amount=Decimal("20.50"), reason="death", run=january
    )
    figures = report_figures(JAN)
    payments = figures["payments"]
    assert payments["made"]["count"] == 1  # February's payment is February's
    assert payments["returned"] == {"count": 0, "sum": "0.00"}
    assert payments["recovered"] == {
        "count": 2,
        "sum": "120.50",
        "by_reason": {"death": {"count": 2, "sum": "120.50"}},
    }
    check = figures["reconciliation"][1]
    assert {key: check[key] for key in ("listed", "returned", "expected", "actual", "difference", "ok")} == {
        "listed": "61284.27",
        "returned": "0.00",
        "expected": "61284.27",
        "actual": "61284.27",
        "difference": "0.00",
        "ok": True,
    }
    # A month without a run counts no recovery, not even one recorded outside any run.
    Recovery.objects.create(recipient=paid_to, payment=payment, for_month=JAN, amount=Decimal("1.00"), reason="death")
    assert report_figures(date(2023, 12, 1))["payments"]["recovered"] == {"count": 0, "sum": "0.00", "by_reason": {}}
    # A credited payment changed behind the list's back: the list is named with both sides.
    with pgtrigger.ignore("payments.Payment:payment_released_frozen"):
        Payment.objects.filter(pk=payment.pk).update(net=Decimal("60000.00"), withheld=Decimal("8093.64"))
    check = report_figures(JAN)["reconciliation"][1]
    assert (check["expected"], check["actual"], check["difference"]) == ("61284.27", "60000.00", "-1284.27")
    assert check["items"] == [
        {
            "list": "202401-01",
            "bank": "HSBKKZKX",
            "listed": "61284.27",
            "returned": "0.00",
            "credited": "60000.00",
            "difference": "-1284.27",
        }
    ]


def test_an_order_is_taken_at_the_total_the_bank_paid_not_the_sum_of_its_lines(november):  # noqa: F811
    """The bank paid the order's total; its lines are what the payer said it was for."""
    PaymentOrder.objects.filter(pk=november.pk).update(amount_lines=Decimal("11000.00"))
    ledger = report_figures(NOV)["reconciliation"][0]
    assert (ledger["processed"], ledger["expected"], ledger["ok"]) == ("11500.50", "10500.50", True)


def _recipient_of(registrar, person, payment_type: str, bank=None, n: int = 0):
    """A recipient whose payments simply go on (the run's set-based pass pays them), with an
    account at ``bank`` or, without one, held back."""
    from payments.models import Recipient
    from records.identifiers import make_kz_iban
    from records.models import Participant

    participant = Participant.objects.create(
        iin=person.iin, last_name="A", first_name="B", birth_date=person.birth_date, gender="M"
    )
    recipient = Recipient.objects.create(
        participant=participant,
        payment_type=payment_type,
        application_date=date(2023, 6, 1),
        risk_date=date(2023, 6, 1),
        status="in_force",
        amount=Decimal("1000.00"),
        registered_by=registrar,
    )
    if bank is not None:
        recipient.bank_accounts.create(
            bank=bank,
            iban=make_kz_iban("722", f"{n:013d}"),
            valid_from=date(2023, 1, 1),
            reason="t",
            entered_by=registrar,
        )
    return recipient


def test_a_run_with_two_banks_lists_and_a_payment_held_back(paid_to, people, staff):
    """Halyk's list (the disability payment, 61 284.27 net) and Kaspi's (a job-loss payment,
    900.00 net); a third recipient has no account, so the payment is held back on no list and
    is not among the payments made. Every list counts in the check, not only the last one."""
    from payments.models import Bank
    from payments.services.confirmations import confirmation_take_in
    from tests.payments.conftest import build, release
    from tests.payments.test_runs import JAN

    kaspi = Bank.objects.get(bic="CASPKZKA")
    _recipient_of(staff["drafter"], people[12], "0703", kaspi, 1)
    _recipient_of(staff["drafter"], people[13], "0703")
    run = release(build(JAN, staff), staff)
    assert sorted((payment_list.bank_id, str(payment_list.net)) for payment_list in run.lists.all()) == [
        ("CASPKZKA", "900.00"),
        ("HSBKKZKX", "61284.27"),
    ]
    figures = report_figures(JAN)
    assert figures["payments"]["made"]["count"] == 2  # not the one held back
    assert figures["recipients"]["paid_by_type"] == {"0702": 1, "0703": 1}
    check = figures["reconciliation"][1]
    assert (check["listed"], check["returned"], check["actual"], check["ok"]) == (
        "62184.27",
        "0.00",
        "62184.27",
        True,
    )
    # The first list's payment comes back: its return counts though the last list has none.
    first = run.lists.order_by("number").first()
    assert first is not None
    line = f"{first.number};1;{first.payments.get().recipient.participant.iin};{first.net};not_credited;closed"
    confirmation_take_in(
        raw=f"list;line;iin;amount;status;reason\n{line}\n".replace(".", ",").encode(),
        file_name="c.csv",
        actor=staff["drafter"],
    )
    check = report_figures(JAN)["reconciliation"][1]
    assert (check["listed"], check["returned"], check["expected"], check["ok"]) == (
        "62184.27",
        amount_text(first.net),
        amount_text(Decimal("62184.27") - first.net),
        True,
    )


def amount_text(value: Decimal) -> str:
    return f"{value:.2f}"


def test_the_decisions_rows_by_type_then_kind(in_force, people, staff):
    """Decisions approved in the month, by payment type and then kind (ordered by kind alone,
    0703's assignment would come second; by type alone, the kinds in the order found)."""
    from payments.models import Decision

    decision = in_force.decisions.get()
    month = decision.approved_at.astimezone().date().replace(day=1)
    other = _recipient_of(staff["drafter"], people[12], "0703")
    kinds = [(other, "assign"), (in_force, "terminate"), (in_force, "suspend"), (in_force, "resume")]
    kinds += [(in_force, "recalculate"), (other, "suspend")]
    for n, (recipient, kind) in enumerate(kinds):
        copy = Decision.objects.get(pk=decision.pk)
        copy.pk, copy.number, copy.recipient, copy.kind = None, f"2099-0702-00000{n}", recipient, kind
        copy.save()
    rows = report_figures(month)["recipients"]["decisions"]
    assert [(row["type"], row["kind"]) for row in rows] == [
        ("0702", "assign"),
        ("0702", "recalculate"),
        ("0702", "resume"),
        ("0702", "suspend"),
        ("0702", "terminate"),
        ("0703", "assign"),
        ("0703", "suspend"),
    ]


def test_a_refund_that_names_its_order_is_no_posted_entry(november):  # noqa: F811
    """Only contributions and penalties are posted from an order: a refund entry (negative,
    correcting one) that carries its order is counted neither in the kinds, nor the
    participants, nor either side of the reconciliation."""
    entry = LedgerEntry.objects.filter(order=november).order_by("amount")[0]
    LedgerEntry.objects.create(
        participant=entry.participant,
        period=entry.period,
        kind="refund",
        amount=Decimal("-100.00"),
        payer_idn=entry.payer_idn,
        corrects=entry,
        order=november,
        received=entry.received,
    )
    figures = report_figures(NOV)
    assert figures["contributions"]["by_kind"] == {
        "contribution": {"count": 2, "sum": "10500.50"},
        "penalty": {"count": 0, "sum": "0.00"},
    }
    assert figures["contributions"]["participants"] == 2
    assert figures["contributions"]["payers"][0]["contributions"] == "10500.50"
    ledger = figures["reconciliation"][0]
    assert (ledger["actual"], ledger["ok"], ledger["items"]) == ("10500.50", True, [])


def test_a_new_version_supersedes_only_its_months_draft(november, staff):  # noqa: F811
    october = report_generate(month=date(2023, 10, 1), actor=staff["drafter"])
    first = report_generate(month=NOV, actor=staff["drafter"])
    report_generate(month=NOV, actor=staff["drafter"])
    states = dict(MonthlyReport.objects.values_list("pk", "state"))
    assert (states[october.pk], states[first.pk]) == ("draft", "superseded")


def test_the_page_reads_the_version_without_its_figures_and_one_page_of_payers(november, staff):  # noqa: F811
    from payments.selectors.reports import report_on_screen

    report = report_generate(month=NOV, actor=staff["drafter"])
    shown = report_on_screen(report.pk, page=2)  # one payer: one page, the first
    assert shown is not None
    assert (shown.page, shown.pages, shown.first, shown.last, shown.payers_total) == (1, 1, 1, 1, 1)
    assert shown.report.get_deferred_fields() == {"figures"}  # tens of megabytes at national scale
    assert {"generated_by", "signed_by"} <= set(shown.report._state.fields_cache)
    assert shown.figures["contributions"]["payers"] == report.figures["contributions"]["payers"]
    assert {key: value for key, value in shown.figures.items() if key != "contributions"} == {
        key: value for key, value in report.figures.items() if key != "contributions"
    }
    assert report_on_screen(report.pk + 1, page=1) is None
