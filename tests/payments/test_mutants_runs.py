"""Tests that kill the survivors of the mutation run of payments/services/runs.py (docs/testing.md,
issue 18).

What they pin: which payments count as paid for a month and which one a recovery points to,
that a repayment is the recipient's own and made once, that a recipient brought in only by a
repayment is not settled, the decisions the items and recoveries name, the lump sum of the run's
own month, the suspensions that count, and the parameters the run records. Several recipients
here are written straight to the table (as the set-based test of test_runs does) so that a
month's money is plain to read; the others come from the contribution pipeline (conftest).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from contributions.services.common import DomainError
from payments.due import IndexStep, MonthDue
from payments.models import (
    BankAccount,
    LegalParameter,
    Payment,
    PaymentReturn,
    PaymentRun,
    Recipient,
    Recovery,
    RecoveryReason,
)
from payments.services import decision_draft
from payments.services.confirmations import confirmation_take_in
from payments.services.runs import (
    RunParameters,
    _payment_for_month,
    build_run,
    paid_by_month,
    recover_after_death,
    repayments,
    run_rebuild,
    run_start,
    settle,
    start_scheduled_run,
)
from records.identifiers import make_kz_iban
from records.models import Participant
from tests.payments.conftest import SYSTEM, account, approve_through, build, release
from tests.payments.test_runs import APR, FEB, JAN, MAR, resume, suspend

pytestmark = pytest.mark.django_db

DEC = date(2023, 12, 1)
END_OF_RIGHT = RecoveryReason.END_OF_RIGHT


def bare(
    person: Any,
    staff: dict[str, Any],
    *,
    amount: str,
    risk: date,
    payment_type: str = "0703",
    settle_now: bool = False,
    died: date | None = None,
) -> Recipient:
    """A recipient in force written straight to the table (no decision): ``amount`` a month from
    ``risk``; settled in Python by the next run when ``settle_now``."""
    participant = Participant.objects.create(
        iin=person.iin,
        last_name=person.last_name,
        first_name=person.first_name,
        birth_date=person.birth_date,
        gender="M",
        death_date=died,
    )
    return Recipient.objects.create(
        participant=participant,
        payment_type=payment_type,
        application_date=risk,
        risk_date=risk,
        status="in_force",
        amount=Decimal(amount),
        loss_degree=50 if payment_type == "0702" else None,
        leave_days=126 if payment_type == "0704" else None,
        settle_requested_at=timezone.now() if settle_now else None,
        registered_by=staff["drafter"],
    )


def iban(n: int) -> str:
    return make_kz_iban("601", f"{n:013d}")


def request_settlement(recipient: Recipient, **changes: Any) -> None:
    """What an approved decision does to the recipient, written straight: the changes and a
    request that the next run settle the months already paid."""
    Recipient.objects.filter(pk=recipient.pk).update(settle_requested_at=timezone.now(), **changes)


def items_of(payment: Payment) -> list[tuple[str, date, Decimal, Decimal, int | None, int | None]]:
    return [
        (i.kind, i.for_month, i.gross, i.withheld, i.decision_id, i.repays_id)
        for i in payment.items.order_by("for_month", "kind", "id")
    ]


def recoveries_of(recipient: Recipient) -> list[tuple[date, Decimal, str, int | None, int, date | None]]:
    """Each recovery: the month, amount, reason, decision, payment and the run that recorded it."""
    return [
        (r.for_month, r.amount, r.reason, r.decision_id, r.payment_id, r.run.month if r.run else None)
        for r in Recovery.objects.filter(recipient=recipient).select_related("run").order_by("for_month")
    ]


def returned(payment: Payment, staff: dict[str, Any]) -> PaymentReturn:
    """The bank's confirmation says the payment was not credited (the account is closed)."""
    assert payment.payment_list is not None
    amount = f"{payment.net:.2f}".replace(".", ",")
    line = f"{payment.payment_list.number};{payment.line};{payment.recipient.participant.iin};{amount}"
    line += ";not_credited;account closed"
    confirmation_take_in(
        raw=("list;line;iin;amount;status;reason\r\n" + line + "\r\n").encode(),
        file_name=f"{payment.payment_list.number}.csv",
        actor=staff["drafter"],
    )
    return PaymentReturn.objects.get(payment=payment)


# --- What was paid for a month ------------------------------------------------------------------


def test_a_second_settlement_after_a_recalculation_pays_nothing_twice(people, staff) -> None:
    """The month's amount and the arrears paid for it later add up (paid_by_month)."""
    b = bare(people[10], staff, amount="1000.00", risk=JAN)
    account(b, staff, iban=iban(10), valid_from=JAN)
    release(build(JAN, staff), staff)
    request_settlement(b, amount=Decimal("1100.00"))
    feb = Payment.objects.get(run=release(build(FEB, staff), staff))
    assert items_of(feb) == [("arrears", JAN, Decimal("100.00"), Decimal("10.00"), None, None)]
    request_settlement(b)  # nothing changed since
    mar = Payment.objects.get(run=build(MAR, staff))
    assert (mar.monthly, mar.other, items_of(mar)) == (Decimal("1100.00"), Decimal("0.00"), [])
    assert not Recovery.objects.exists()
    assert paid_by_month(b.pk) == {JAN: Decimal("1100.00"), FEB: Decimal("1100.00")}


def test_what_a_payment_held_back_for_a_death_never_paid_is_not_recovered(people, staff) -> None:
    """A payment held back because the registry reports the recipient dead paid nothing: neither
    its month nor its arrears count as paid, and no recovery points to it."""
    b = bare(people[11], staff, amount="1000.00", risk=JAN)
    account(b, staff, iban=iban(11), valid_from=JAN)
    jan = Payment.objects.get(run=release(build(JAN, staff), staff))
    request_settlement(b, amount=Decimal("1100.00"))
    Participant.objects.filter(pk=b.participant_id).update(death_date=date(2024, 1, 20))
    feb = Payment.objects.get(run=release(build(FEB, staff), staff))
    assert (feb.held_reason, feb.monthly) == ("reported_dead", Decimal("1100.00"))
    assert items_of(feb) == [("arrears", JAN, Decimal("100.00"), Decimal("10.00"), None, None)]
    assert paid_by_month(b.pk) == {JAN: Decimal("1000.00")}
    request_settlement(b, end_date=date(2024, 1, 15), status="terminated")
    build(MAR, staff)
    # 1 100.00 × 15/31 = 532.26 was due for January; 1 000.00 was paid, by January's payment.
    assert recoveries_of(b) == [(JAN, Decimal("467.74"), END_OF_RIGHT, None, jan.pk, MAR)]


def test_a_payment_of_a_run_not_released_paid_nothing(in_force, staff) -> None:
    account(in_force, staff, valid_from=MAR)
    build(JAN, staff)
    assert paid_by_month(in_force.pk) == {}
    assert repayments(in_force.pk, MAR) == []
    with pytest.raises(DomainError):
        _payment_for_month(in_force.pk, JAN)


# --- Which payment a recovery points to ------------------------------------------------------


def test_each_recovery_points_to_the_payment_that_paid_its_month(people, staff) -> None:
    """A month paid by its own run's payment points there, a month paid as arrears points to
    the payment that carried them, and never to another recipient's payment."""
    b = bare(people[12], staff, amount="1000.00", risk=FEB)
    account(b, staff, iban=iban(12), valid_from=FEB)
    feb = Payment.objects.get(run=release(build(FEB, staff), staff))
    request_settlement(b, risk_date=JAN)  # the right arose a month earlier: January is arrears
    c = bare(people[13], staff, amount="2000.00", risk=FEB, settle_now=True)  # February as arrears in March
    account(c, staff, iban=iban(13), valid_from=FEB)
    mar_run = release(build(MAR, staff), staff)
    mar = Payment.objects.get(run=mar_run, recipient=b)
    assert items_of(mar) == [("arrears", JAN, Decimal("1000.00"), Decimal("100.00"), None, None)]
    assert items_of(Payment.objects.get(run=mar_run, recipient=c)) == [
        ("arrears", FEB, Decimal("2000.00"), Decimal("200.00"), None, None)
    ]
    request_settlement(b, end_date=date(2024, 1, 15), status="terminated")
    build(APR, staff)
    assert recoveries_of(b) == [
        (JAN, Decimal("516.13"), END_OF_RIGHT, None, mar.pk, APR),  # 1 000.00 − 1 000.00 × 15/31
        (FEB, Decimal("1000.00"), END_OF_RIGHT, None, feb.pk, APR),
        (MAR, Decimal("1000.00"), END_OF_RIGHT, None, mar.pk, APR),
    ]


def test_a_repaid_month_is_recovered_from_the_payment_held_back_even_under_one_tenge(people, staff) -> None:
    """A payment held back for want of an account and paid again later: the month was paid
    once (the repayment is no payment for the month), and the recovery points to the payment
    held back. A repayment and a month of 0.60 tenge count as any other."""
    b = bare(people[14], staff, amount="1000.00", risk=JAN)
    tiny = bare(people[15], staff, amount="0.60", risk=JAN)
    jan_run = release(build(JAN, staff), staff)
    held = {p.recipient_id: p for p in Payment.objects.filter(run=jan_run)}
    assert {p.held_reason for p in held.values()} == {"no_account"}
    account(b, staff, iban=iban(14), valid_from=FEB)
    account(tiny, staff, iban=iban(15), valid_from=FEB)
    feb_run = release(build(FEB, staff), staff)
    feb = {p.recipient_id: p for p in Payment.objects.filter(run=feb_run)}
    assert items_of(feb[b.pk]) == [("repayment", JAN, Decimal("1000.00"), Decimal("100.00"), None, held[b.pk].pk)]
    assert items_of(feb[tiny.pk]) == [("repayment", JAN, Decimal("0.60"), Decimal("0.06"), None, held[tiny.pk].pk)]
    assert paid_by_month(b.pk) == {JAN: Decimal("1000.00"), FEB: Decimal("1000.00")}
    request_settlement(b, end_date=date(2024, 1, 15), status="terminated")
    request_settlement(tiny, end_date=date(2024, 1, 15), status="terminated")
    build(MAR, staff)
    assert recoveries_of(b) == [
        (JAN, Decimal("516.13"), END_OF_RIGHT, None, held[b.pk].pk, MAR),
        (FEB, Decimal("1000.00"), END_OF_RIGHT, None, feb[b.pk].pk, MAR),
    ]
    assert recoveries_of(tiny) == [
        (JAN, Decimal("0.31"), END_OF_RIGHT, None, held[tiny.pk].pk, MAR),  # 0.60 − 0.60 × 15/31
        (FEB, Decimal("0.60"), END_OF_RIGHT, None, feb[tiny.pk].pk, MAR),
    ]


def test_a_month_no_payment_paid_is_named(db) -> None:
    with pytest.raises(DomainError) as error:
        _payment_for_month(0, JAN)
    assert error.value.messages == ["No payment paid month 01.2024."]


# --- Settlement: decisions, months, the lump sum --------------------------------------------------


def test_a_termination_recovers_with_its_decision_what_was_paid_after_the_end(paid_to, staff) -> None:
    jan = Payment.objects.get(run=release(build(JAN, staff), staff))
    terminate = approve_through(
        decision_draft(
            recipient_id=paid_to.pk,
            kind="terminate",
            actor=staff["drafter"],
            note="moved abroad",
            effective_date=date(2023, 12, 21),
            end_reason="other",
        ),
        staff,
    )
    run = build(FEB, staff)
    assert not Payment.objects.filter(run=run).exists()
    # Paid to 20.12.2023: 6 of 31 days of December, 42 075 × 6/31 = 8 143.55 (23 073.39 was paid).
    recorded = [
        (DEC, Decimal("14929.84"), END_OF_RIGHT, terminate.pk, jan.pk, FEB),
        (JAN, Decimal("45020.25"), END_OF_RIGHT, terminate.pk, jan.pk, FEB),
    ]
    assert recoveries_of(paid_to) == recorded
    # A rebuild starts from nothing: the run's recoveries are recorded again, not twice.
    run_rebuild(run_id=run.pk, actor=staff["verifier"], reason="checked")
    build_run(run_id=run.pk, actor=SYSTEM)
    assert recoveries_of(paid_to) == recorded


def test_a_build_keeps_what_the_registry_death_recorded_for_recovery(paid_to, staff) -> None:
    """A build clears only its own run's recoveries, not those recorded when the registry
    reported the death (they belong to no run)."""
    release(build(JAN, staff), staff)
    feb = Payment.objects.get(run=release(build(FEB, staff), staff))
    Participant.objects.filter(pk=paid_to.participant_id).update(death_date=date(2024, 1, 20))
    assert recover_after_death() == 1
    build(MAR, staff)
    assert recoveries_of(paid_to) == [(FEB, Decimal("45020.25"), RecoveryReason.DEATH, None, feb.pk, None)]


def test_suspensions_withdrawn_in_time_and_not_each_count_for_themselves(paid_to, staff) -> None:
    """The first suspension, withdrawn by its deadline, suspends nothing (its month is paid as
    arrears, in the name of the resumption); the second, not resumed, still stops the payment."""
    release(build(JAN, staff), staff)
    suspend(paid_to, staff, on=FEB, deadline=date(2024, 3, 31))
    release(build(FEB, staff), staff)
    resumed = resume(paid_to, staff, on=date(2024, 3, 20))
    mar = Payment.objects.get(run=release(build(MAR, staff), staff))
    assert mar.monthly == Decimal("45020.25")
    assert items_of(mar) == [("arrears", FEB, Decimal("45020.25"), Decimal("4502.03"), resumed.pk, None)]
    suspend(paid_to, staff, on=APR, deadline=date(2024, 5, 31))
    assert not Payment.objects.filter(run=build(APR, staff)).exists()


def test_the_lump_sum_of_the_runs_own_month_and_its_repayment(people, staff) -> None:
    """A maternity lump sum due in the run's month is an item of that month (no monthly
    amount, no days); held back for want of an account, it is paid again with nothing else."""
    b = bare(people[16], staff, amount="500000.00", risk=date(2024, 1, 10), payment_type="0704", settle_now=True)
    jan = Payment.objects.get(run=release(build(JAN, staff), staff))
    assert (jan.monthly, jan.days_paid, jan.days_in_month, jan.other, jan.withheld, jan.held_reason) == (
        Decimal("0.00"),
        0,
        31,
        Decimal("500000.00"),
        Decimal("50000.00"),
        "no_account",
    )
    assert items_of(jan) == [("lump_sum", JAN, Decimal("500000.00"), Decimal("50000.00"), None, None)]
    account(b, staff, iban=iban(16), valid_from=FEB)
    feb = Payment.objects.get(run=build(FEB, staff))
    assert (feb.monthly, feb.days_paid, feb.days_in_month, feb.other, feb.withheld, feb.held_reason) == (
        Decimal("0.00"),
        0,
        29,
        Decimal("500000.00"),
        Decimal("50000.00"),
        "",
    )
    assert items_of(feb) == [("repayment", JAN, Decimal("500000.00"), Decimal("50000.00"), None, jan.pk)]


def test_a_recipient_brought_in_only_by_a_repayment_is_not_settled(people, staff) -> None:
    """No settlement was asked for: the run pays its month as the set-based pass would, and the
    repayment, and no arrears for the months already paid."""
    b = bare(people[17], staff, amount="1000.00", risk=JAN)
    jan = Payment.objects.get(run=release(build(JAN, staff), staff))
    Recipient.objects.filter(pk=b.pk).update(amount=Decimal("1200.00"))
    account(b, staff, iban=iban(17), valid_from=FEB)
    feb = Payment.objects.get(run=build(FEB, staff))
    assert feb.monthly == Decimal("1200.00")
    assert items_of(feb) == [("repayment", JAN, Decimal("1000.00"), Decimal("100.00"), None, jan.pk)]


def test_settle_stops_at_the_runs_month(paid_to, staff) -> None:
    """Months paid after the run's month are none of its business."""
    release(build(JAN, staff), staff)
    release(build(FEB, staff), staff)
    assign = paid_to.decisions.get()
    paid_to.amount = Decimal("43137.50")
    settlement = settle(paid_to, RunParameters.for_month(JAN))
    assert settlement is not None
    # 43 137.50 × 17/31 = 23 656.05 for December, 23 073.39 paid.
    assert settlement.items == [{"kind": "arrears", "for_month": DEC, "gross": Decimal("582.66"), "decision": assign}]
    assert settlement.recoveries == []
    assert settlement.current == MonthDue(JAN, Decimal("46157.13"), 31, 31)


def test_settle_recovers_the_months_before_a_later_start_and_pays_a_tiyn_of_arrears(paid_to, staff) -> None:
    jan = Payment.objects.get(run=release(build(JAN, staff), staff))
    assign = paid_to.decisions.get()
    parameters = RunParameters.for_month(FEB)

    def recovery(month: date, amount: str) -> dict[str, Any]:
        reason = RecoveryReason.RECALCULATED
        return {
            "for_month": month,
            "amount": Decimal(amount),
            "reason": reason,
            "decision": assign,
            "payment_id": jan.pk,
        }

    # The right arose on 15.01.2024 instead: December was not due, January 17 days unindexed.
    paid_to.risk_date = date(2024, 1, 15)
    settlement = settle(paid_to, parameters)
    assert settlement is not None
    assert (settlement.items, settlement.current) == ([], MonthDue(FEB, Decimal("42075.00"), 29, 29))
    assert settlement.recoveries == [recovery(DEC, "23073.39"), recovery(JAN, "21946.86")]
    # Or only in March, after the run's month: nothing is due for February either.
    paid_to.risk_date = date(2024, 3, 10)
    settlement = settle(paid_to, parameters)
    assert settlement is not None
    assert settlement.current == MonthDue(FEB, Decimal("0.00"), 0, 29)
    assert settlement.recoveries == [recovery(DEC, "23073.39"), recovery(JAN, "45020.25")]
    # One tiyn more a month: 42 075.01 × 1.07 = 45 020.26 for January, one tiyn of arrears.
    paid_to.refresh_from_db()
    paid_to.amount = Decimal("42075.01")
    settlement = settle(paid_to, parameters)
    assert settlement is not None
    assert settlement.items == [{"kind": "arrears", "for_month": JAN, "gross": Decimal("0.01"), "decision": assign}]
    assert settlement.recoveries == []


# --- Repayments ------------------------------------------------------------------------------------


def test_held_back_payments_are_paid_again_to_their_own_recipient_once_an_account_is_in_force(
    in_force, people, staff, django_assert_num_queries
) -> None:
    """Not before the account is in force (an account from March pays nothing again in
    February), never with somebody else's account, never somebody else's payments, not held
    up by somebody else's death, and once."""
    other = bare(people[18], staff, amount="1000.00", risk=JAN)  # held back too, no account
    dead = bare(people[19], staff, amount="1000.00", risk=JAN, died=date(2023, 11, 30))
    account(dead, staff, iban=iban(19), valid_from=JAN)
    account(in_force, staff, valid_from=MAR)
    jan = Payment.objects.get(run=release(build(JAN, staff), staff), recipient=in_force)
    feb = Payment.objects.get(run=release(build(FEB, staff), staff), recipient=in_force)
    assert (feb.held_reason, items_of(feb)) == ("no_account", [])
    assert Payment.objects.get(run__month=FEB, recipient=dead).held_reason == "reported_dead"
    with django_assert_num_queries(3):  # the account, the registry's death, the payments with their returns
        again = repayments(in_force.pk, MAR)
    assert again == [
        {"kind": "repayment", "for_month": JAN, "gross": jan.gross, "withheld": jan.withheld, "repays": jan.pk},
        {"kind": "repayment", "for_month": FEB, "gross": feb.gross, "withheld": feb.withheld, "repays": feb.pk},
    ]
    mar = Payment.objects.get(run=release(build(MAR, staff), staff), recipient=in_force)
    assert (mar.held_reason, mar.monthly) == ("", Decimal("45020.25"))  # indexed by 7 % from 01.01.2024
    assert items_of(mar) == [
        ("repayment", JAN, jan.gross, jan.withheld, None, jan.pk),
        ("repayment", FEB, feb.gross, feb.withheld, None, feb.pk),
    ]
    assert mar.withheld == Decimal("4502.03") + jan.withheld + feb.withheld
    assert Payment.objects.get(run__month=MAR, recipient=other).held_reason == "no_account"
    assert repayments(in_force.pk, APR) == []  # repaid once


def test_a_return_is_paid_again_only_if_the_account_in_force_was_entered_after_it(people, staff) -> None:
    """January's and February's payments come back. The account in force for March was entered
    after February's return but not after January's (a late confirmation; entered the very
    moment it was recorded counts as before): February is paid again, January not. Details
    entered later for an earlier date are not the account in force."""
    b = bare(people[20], staff, amount="1000.00", risk=JAN)
    account(b, staff, iban=iban(20), valid_from=JAN)
    jan = Payment.objects.get(run=release(build(JAN, staff), staff))
    feb = Payment.objects.get(run=release(build(FEB, staff), staff))
    returned(feb, staff)
    in_force = account(b, staff, iban=make_kz_iban("722", "0000000000020"), bic="CASPKZKA", valid_from=MAR)
    late = returned(jan, staff)
    BankAccount.objects.filter(pk=in_force.pk).update(entered_at=late.created_at)
    account(b, staff, iban=iban(21), valid_from=date(2024, 2, 15))  # entered last, dated earlier
    mar = Payment.objects.get(run=build(MAR, staff))
    assert (mar.bank_id, mar.monthly) == ("CASPKZKA", Decimal("1000.00"))
    assert items_of(mar) == [("repayment", FEB, Decimal("900.00"), Decimal("0.00"), None, feb.pk)]


# --- The run's parameters and the rebuild ------------------------------------------------------------


def test_the_run_records_the_parameters_it_used(staff) -> None:
    run = build(JAN, staff)
    ids = {(p.name, p.valid_from.isoformat()): p.pk for p in LegalParameter.objects.all()}
    used = dict(run.parameters)
    assert isinstance(used.pop("settle_cutoff"), str)

    def steps(payment_type: str) -> list[dict[str, Any]]:
        name = f"indexation_{payment_type}"
        return [
            {"from": "2023-01-01", "percent": "8.5", "id": ids[name, "2023-01-01"]},
            {"from": "2023-07-01", "percent": "14.5", "id": ids[name, "2023-07-01"]},
            {"from": "2024-01-01", "percent": "7", "id": ids[name, "2024-01-01"]},
        ]

    assert used == {
        "withholding": {
            t: {"value": "0" if t == "0701" else "0.1", "id": ids[f"withholding_{t}", "2020-01-01"]}
            for t in ("0701", "0702", "0703", "0704", "0705")
        },
        "indexation": {"0701": steps("0701"), "0702": steps("0702")},
    }


def test_the_index_table_has_a_row_for_every_interval_between_the_steps() -> None:
    steps = (IndexStep(date(2023, 7, 1), Decimal("14.5")), IndexStep(JAN, Decimal("7")))
    parameters = RunParameters(month=FEB, rates={}, index_steps={"0702": steps})
    assert parameters.index_table() == [
        ("0702", date.min, date(2023, 7, 1), Decimal("1.22515")),  # risk before both steps: 1.145 × 1.07
        ("0702", date(2023, 7, 1), JAN, Decimal("1.07")),
        ("0702", JAN, date.max, Decimal("1")),  # risk on or after the last step: not indexed
    ]


def test_a_run_for_a_month_without_the_withholding_rate_is_refused_with_the_reason(staff) -> None:
    with pytest.raises(DomainError) as error:
        run_start(month=date(2019, 12, 1), actor=staff["drafter"])
    assert error.value.messages == [
        "No value of “Pension contributions withheld, loss of breadwinner” is in force on 2019-12-01."
    ]
    assert not PaymentRun.objects.exists()


def test_no_run_is_started_before_a_later_one(staff) -> None:
    run_start(month=FEB, actor=staff["drafter"])
    with pytest.raises(DomainError) as error:
        run_start(month=JAN, actor=staff["drafter"])
    assert error.value.messages == ["A run for a later month exists: 01.2024 cannot be built."]
    assert list(PaymentRun.objects.values_list("month", flat=True)) == [FEB]


def test_beat_logs_why_it_did_not_start_word_for_word(staff, settings, caplog) -> None:
    settings.PAYMENT_RUN_DAY = 1
    PaymentRun.objects.create(month=DEC)  # not released
    assert not start_scheduled_run(today=date(2024, 1, 5))
    assert [r.getMessage() for r in caplog.records if r.name == "payments.services.runs"] == [
        "the run for 2024-01 was not started: The run for 12.2023 is not released yet: release it before"
        " building 01.2024."
    ]


def test_a_rebuild_without_a_reason_records_none(paid_to, staff) -> None:
    run = build(JAN, staff)
    run_rebuild(run_id=run.pk, actor=staff["verifier"])
    step = PaymentRun.objects.get(pk=run.pk).approval_steps().get()
    assert (step.step, step.reason) == ("rebuild", "")
