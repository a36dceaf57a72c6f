"""The monthly payment run (Rules, paragraph 13; conventions: "Monthly payments"): amounts of
partial months, indexation, withholding on and off, suspension and its withdrawal, arrears,
recoveries, held-back payments paid again, idempotency, the order of runs and the four-eyes
approval. Each on real PostgreSQL, on accounts the contribution pipeline posted."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from contributions.services.common import DomainError
from payments.due import Entitlement, IndexStep, Suspension, due_for
from payments.models import (
    Bank,
    LegalParameter,
    Payment,
    PaymentItem,
    PaymentRun,
    Recipient,
    Recovery,
    RunState,
)
from payments.services.runs import build_run, run_approve, run_rebuild, run_start
from records.approval import SecondFactorMissing, StepNotPermitted
from records.identifiers import make_kz_iban
from records.models import AuditEvent
from tests.payments.conftest import HALYK, SYSTEM, account, approve_through, build, release

JAN, FEB, MAR, APR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)


def test_the_first_run_pays_the_month_indexed_and_the_first_month_in_proportion(paid_to, staff):
    run = build(JAN, staff)
    payment = Payment.objects.get(run=run)
    # 42 075.00 from 15.12.2023, indexed by 7 % from 01.01.2024 (assigned before it).
    assert payment.monthly == Decimal("45020.25")
    assert (payment.days_paid, payment.days_in_month) == (31, 31)
    item = payment.items.get()
    # December: 17 of 31 days, before the indexation: 42 075 × 17 / 31 = 23 073.387 -> 23 073.39.
    assert (item.kind, item.for_month, item.gross) == ("arrears", date(2023, 12, 1), Decimal("23073.39"))
    assert item.withheld == Decimal("2307.34")  # 10 % of disability payments, half-up
    assert payment.withholding_rate == Decimal("0.1000")
    assert payment.withheld == Decimal("4502.03") + Decimal("2307.34")  # 4 502.025 -> 4 502.03
    assert payment.gross == Decimal("45020.25") + Decimal("23073.39")
    assert payment.net == payment.gross - payment.withheld
    assert (payment.bank_id, payment.iban, payment.held_reason, payment.line) == ("HSBKKZKX", HALYK, "", 1)
    listed = run.lists.get()
    assert (listed.number, listed.count, listed.net, listed.bank_id) == ("202401-01", 1, payment.net, "HSBKKZKX")
    assert len(listed.checksum) == 64
    assert (run.state, run.count, run.net, run.held_back) == (RunState.BUILT, 1, payment.net, 0)


def test_once_settled_the_next_month_is_paid_by_the_set_based_pass(paid_to, staff):
    release(build(JAN, staff), staff)
    paid_to.refresh_from_db()
    assert paid_to.settle_requested_at is None
    payment = Payment.objects.get(run=build(FEB, staff))
    assert (payment.monthly, payment.other, payment.days_paid, payment.days_in_month) == (
        Decimal("45020.25"),
        Decimal("0"),
        29,
        29,
    )
    assert not payment.items.exists()


def test_no_withholding_where_the_parameter_says_none(paid_to, staff):
    LegalParameter.objects.create(name="withholding_0702", valid_from=FEB, value=0, basis="test: switched off")
    release(build(JAN, staff), staff)
    payment = Payment.objects.get(run=build(FEB, staff))
    assert (payment.withholding_rate, payment.withheld, payment.net) == (Decimal("0"), Decimal("0"), payment.gross)


def test_a_recipient_without_an_account_is_held_back_with_the_reason_and_paid_later(in_force, staff):
    run = build(JAN, staff)
    held = Payment.objects.get(run=run)
    assert (held.held_reason, held.payment_list_id, held.line) == ("no_account", None, None)
    assert (run.count, run.held_back, run.lists.count()) == (0, 1, 0)
    release(run, staff)
    account(in_force, staff, valid_from=FEB)
    payment = Payment.objects.get(run=build(FEB, staff))
    again = payment.items.get(kind="repayment")
    assert again.repays_id == held.pk
    assert (again.gross, again.withheld) == (held.gross, held.withheld)
    assert payment.held_reason == ""
    # Paid again once only.
    release(PaymentRun.objects.get(month=FEB), staff)
    assert not PaymentItem.objects.filter(payment__run=build(MAR, staff), kind="repayment").exists()


def test_a_recipient_the_registry_reports_dead_is_held_back(paid_to, staff):
    from records.models import Participant

    Participant.objects.filter(pk=paid_to.participant_id).update(death_date=date(2023, 12, 31))
    payment = Payment.objects.get(run=build(JAN, staff))
    assert payment.held_reason == "reported_dead"


def test_the_month_of_death_is_paid_in_full(paid_to, staff):
    from records.models import Participant

    Participant.objects.filter(pk=paid_to.participant_id).update(death_date=date(2024, 1, 2))
    assert Payment.objects.get(run=build(JAN, staff)).held_reason == ""


def test_a_second_start_builds_nothing_twice(paid_to, staff):
    run = build(JAN, staff)
    again, created = run_start(month=JAN, actor=staff["drafter"])
    assert (again.pk, created) == (run.pk, False)
    build_run(run_id=run.pk, actor=SYSTEM)
    assert Payment.objects.filter(run=run).count() == 1
    assert PaymentRun.objects.count() == 1


def test_a_run_left_being_built_is_built_anew(paid_to, staff):
    run, _ = run_start(month=JAN, actor=staff["drafter"])
    assert run.state == RunState.BUILDING
    assert not run.payments.exists()
    run = build_run(run_id=run.pk, actor=SYSTEM)
    assert run.state == RunState.BUILT
    assert run.payments.count() == 1


def test_runs_go_month_after_month(paid_to, staff):
    build(JAN, staff)
    with pytest.raises(DomainError, match=r"01\.2024 is not released"):
        run_start(month=FEB, actor=staff["drafter"])
    assert not PaymentRun.objects.filter(month=FEB).exists()


def test_a_month_is_its_first_day(paid_to, staff):
    with pytest.raises(DomainError, match="first day"):
        run_start(month=date(2024, 1, 2), actor=staff["drafter"])


def test_the_starter_never_approves(paid_to, make_user, staff):
    head = make_user("head_of_service")
    run, _ = run_start(month=JAN, actor=head)
    build_run(run_id=run.pk, actor=SYSTEM)
    with pytest.raises(StepNotPermitted, match="started or rebuilt"):
        run_approve(run_id=run.pk, actor=head)
    run.refresh_from_db()
    assert run.state == RunState.BUILT
    assert run_approve(run_id=run.pk, actor=staff["head_of_service"]).state == RunState.RELEASED


def test_whoever_rebuilt_never_approves(paid_to, make_user, staff):
    run = build(JAN, staff)
    other_head = make_user("head_of_service")
    run_rebuild(run_id=run.pk, actor=other_head, reason="bank details corrected")
    run = build_run(run_id=run.pk, actor=SYSTEM)
    assert run.payments.count() == 1  # rebuilt from nothing: nothing twice
    with pytest.raises(StepNotPermitted):
        run_approve(run_id=run.pk, actor=other_head)
    assert run_approve(run_id=run.pk, actor=staff["head_of_service"]).approved_by == staff["head_of_service"]


def test_approval_needs_the_role_and_the_second_factor(paid_to, make_user, staff):
    run = build(JAN, staff)
    with pytest.raises(StepNotPermitted):
        run_approve(run_id=run.pk, actor=staff["approver"])  # a head of unit
    with pytest.raises(SecondFactorMissing):
        run_approve(run_id=run.pk, actor=make_user("head_of_service", second_factor=False))


def test_a_released_run_is_not_rebuilt(paid_to, staff):
    run = release(build(JAN, staff), staff)
    from records.approval import WrongState

    with pytest.raises(WrongState):
        run_rebuild(run_id=run.pk, actor=staff["drafter"])
    assert build_run(run_id=run.pk, actor=SYSTEM).state == RunState.RELEASED


def suspend(recipient, staff, *, on: date, deadline: date):
    from payments.services import decision_draft

    decision = decision_draft(
        recipient_id=recipient.pk,
        kind="suspend",
        actor=staff["drafter"],
        note="documents missing",
        effective_date=on,
        suspend_deadline=deadline,
    )
    return approve_through(decision, staff)


def resume(recipient, staff, *, on: date):
    from payments.services import decision_draft

    return approve_through(
        decision_draft(recipient_id=recipient.pk, kind="resume", actor=staff["drafter"], effective_date=on), staff
    )


def test_nothing_for_suspended_months_and_the_months_paid_when_withdrawn_in_time(paid_to, staff):
    release(build(JAN, staff), staff)
    suspend(paid_to, staff, on=FEB, deadline=date(2024, 3, 31))
    feb = release(build(FEB, staff), staff)
    assert not Payment.objects.filter(run=feb).exists()
    resume(paid_to, staff, on=date(2024, 3, 20))  # by the deadline: February is due
    payment = Payment.objects.get(run=build(MAR, staff))
    assert payment.monthly == Decimal("45020.25")
    arrears = payment.items.get()
    assert (arrears.kind, arrears.for_month, arrears.gross) == ("arrears", FEB, Decimal("45020.25"))


def test_a_suspension_withdrawn_late_pays_nothing_for_its_months(paid_to, staff):
    release(build(JAN, staff), staff)
    suspend(paid_to, staff, on=FEB, deadline=date(2024, 2, 20))
    release(build(FEB, staff), staff)
    resume(paid_to, staff, on=date(2024, 3, 5))  # after the deadline
    payment = Payment.objects.get(run=build(MAR, staff))
    assert payment.monthly == Decimal("45020.25")  # March, the month it resumed, in full
    assert not payment.items.exists()


def test_a_termination_on_death_recovers_what_was_paid_after_the_month_of_death(paid_to, staff):
    from payments.services import decision_draft

    release(build(JAN, staff), staff)
    release(build(FEB, staff), staff)
    decision = decision_draft(
        recipient_id=paid_to.pk,
        kind="terminate",
        actor=staff["drafter"],
        note="death certificate",
        effective_date=date(2024, 1, 10),
        end_reason="death",
    )
    approve_through(decision, staff)
    run = build(MAR, staff)
    assert not Payment.objects.filter(run=run).exists()
    recovery = Recovery.objects.get()
    assert (recovery.for_month, recovery.amount, recovery.reason, recovery.run_id) == (
        FEB,
        Decimal("45020.25"),
        "death",
        run.pk,
    )
    assert recovery.payment.run.month == FEB
    # Recorded once: the next run finds nothing more to recover.
    release(run, staff)
    build(APR, staff)
    assert Recovery.objects.count() == 1


def test_a_lump_sum_is_paid_once(people, staff):
    from payments.services import decision_draft, recipient_register
    from tests.payments.conftest import months, pay

    person = people[5]
    pay(person, months((2022, 12), 12), reference="MAT")
    recipient = recipient_register(
        iin=person.iin,
        payment_type="0704",
        application_date=date(2023, 12, 20),
        risk_date=date(2023, 12, 15),
        leave_days=126,
        actor=staff["drafter"],
    )
    approve_through(decision_draft(recipient_id=recipient.pk, kind="assign", actor=staff["drafter"]), staff)
    recipient.refresh_from_db()
    account(recipient, staff)
    payment = Payment.objects.get(run=build(JAN, staff))
    lump = payment.items.get()
    assert (lump.kind, lump.for_month, lump.gross) == ("lump_sum", date(2023, 12, 1), recipient.amount)
    assert payment.monthly == 0
    assert recipient.amount is not None
    assert payment.withheld == (recipient.amount * Decimal("0.1")).quantize(Decimal("0.01"))
    release(PaymentRun.objects.get(month=JAN), staff)
    assert not Payment.objects.filter(run=build(FEB, staff)).exists()


def test_the_command_builds_or_shows_the_run_as_one_json_object(paid_to, staff, capsys):
    import json

    call_command("payment_run", "--month", "2024-01", "--json")
    first = json.loads(capsys.readouterr().out)
    call_command("payment_run", "--month", "2024-01", "--json")
    assert json.loads(capsys.readouterr().out) == first
    assert (first["month"], first["state"]) == ("2024-01", "built")
    (row,) = first["lists"]
    assert (row["bank"], row["count"], row["gross"], row["withheld"]) == ("HSBKKZKX", 1, "68093.64", "6809.37")
    assert row["net"] == "61284.27"
    assert first["held_back"] == {"count": 0, "reasons": []}
    assert first["totals"] == {"count": 1, "gross": "68093.64", "withheld": "6809.37", "net": "61284.27"}


def test_the_command_names_a_bad_month(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--month 2024-13"):
        call_command("payment_run", "--month", "2024-13")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("payment_run", "--month", "soon")


# --- The set-based pass answers what payments.due answers -----------------------------------


def test_the_set_based_pass_pays_what_the_arithmetic_says(people, make_user, staff):
    """Random recipients straight in the table (amounts, dates, ends, suspensions, types): each
    payment of the SQL pass equals ``payments.due.due_for`` of the same entitlement."""
    from records.models import Participant

    rng = random.Random(5)
    registrar = make_user("specialist")
    bank = Bank.objects.get(bic="HSBKKZKX")
    steps = {
        t: tuple(
            IndexStep(p.valid_from, p.value)
            for p in LegalParameter.objects.filter(name=f"indexation_{t}", valid_from__lte=APR).order_by("valid_from")
        )
        for t in ("0701", "0702")
    }
    expected = {}
    deceased = Participant.objects.create(
        iin=people[0].iin, last_name="A", first_name="B", birth_date=people[0].birth_date, gender="M"
    )
    for n, person in enumerate(people[1:21]):
        participant = Participant.objects.create(
            iin=person.iin, last_name="A", first_name="B", birth_date=person.birth_date, gender="M"
        )
        payment_type = rng.choice(["0701", "0702", "0703", "0705"])
        start = date(2022, 6, 1) + timedelta(days=rng.randrange(700))
        end = start + timedelta(days=rng.randrange(20, 900)) if rng.random() < 0.6 else None
        suspended = date(2024, 4, rng.choice([1, 15, 30])) if rng.random() < 0.2 else None
        amount = Decimal(rng.randrange(1_000_00, 900_000_00)) / 100
        recipient = Recipient.objects.create(
            participant=participant,
            payment_type=payment_type,
            application_date=start,
            risk_date=start,
            status="suspended" if suspended else rng.choice(["in_force", "terminated"]),
            end_date=end,
            amount=amount,
            suspended_from=suspended,
            loss_degree=50 if payment_type == "0702" else None,
            deceased=deceased if payment_type == "0701" else None,
            registered_by=registrar,
        )
        recipient.bank_accounts.create(
            bank=bank,
            iban=make_kz_iban("601", f"{n:013d}"),
            valid_from=date(2020, 1, 1),
            reason="t",
            entered_by=registrar,
        )
        due = due_for(
            Entitlement(
                amount=amount,
                start=start,
                end=end,
                suspensions=(Suspension(suspended),) if suspended else (),
                index_steps=steps.get(payment_type, ()),
            ),
            APR,
        )
        expected[recipient.pk] = due
    run = build(APR, staff)
    got = {p.recipient_id: p for p in Payment.objects.filter(run=run)}
    for recipient_id, due in expected.items():
        if due.amount == 0:
            assert recipient_id not in got
        else:
            payment = got[recipient_id]
            assert (payment.monthly, payment.days_paid) == (due.amount, due.days_paid), recipient_id
    assert any(due.amount for due in expected.values())
    assert any(not due.amount for due in expected.values())


def test_what_was_paid_after_a_reported_death_is_recorded_for_recovery_once(paid_to, staff):
    from payments.services.runs import recover_after_death
    from records.models import Participant

    release(build(JAN, staff), staff)
    release(build(FEB, staff), staff)
    Participant.objects.filter(pk=paid_to.participant_id).update(death_date=date(2024, 1, 20))
    assert recover_after_death(participant_ids=[paid_to.participant_id + 1]) == 0  # somebody else
    assert recover_after_death() == 1  # February's month; January (the month of death) was due
    recovery = Recovery.objects.get()
    assert (recovery.for_month, recovery.amount, recovery.reason) == (FEB, Decimal("45020.25"), "death")
    assert recovery.payment.run.month == FEB
    assert recover_after_death() == 0  # idempotent
    # The termination a specialist then drafts settles nothing twice.
    from payments.services import decision_draft

    decision = decision_draft(
        recipient_id=paid_to.pk,
        kind="terminate",
        actor=staff["drafter"],
        note="registry",
        effective_date=date(2024, 1, 20),
        end_reason="death",
    )
    approve_through(decision, staff)
    assert not Payment.objects.filter(run=build(MAR, staff)).exists()
    assert Recovery.objects.count() == 1


def test_a_recalculation_pays_the_difference_for_the_months_already_paid(paid_to, staff, steady):
    from payments.services import decision_draft
    from tests.payments.conftest import pay

    release(build(JAN, staff), staff)
    release(build(FEB, staff), staff)
    # 43 137.50 instead of 42 075.00 from the start (test_decisions: 3 500 more for 2023-11).
    pay(steady, ["112023"], amount="3500,00", reference="LATE")
    approve_through(decision_draft(recipient_id=paid_to.pk, kind="recalculate", actor=staff["drafter"]), staff)
    payment = Payment.objects.get(run=build(MAR, staff))
    assert payment.monthly == Decimal("46157.13")  # 43 137.50 × 1.07 = 46 157.125
    arrears = [(i.for_month, i.gross) for i in payment.items.order_by("for_month")]
    assert arrears == [
        (date(2023, 12, 1), Decimal("23656.05") - Decimal("23073.39")),  # 17/31 of each amount
        (JAN, Decimal("46157.13") - Decimal("45020.25")),
        (FEB, Decimal("46157.13") - Decimal("45020.25")),
    ]
    assert not Recovery.objects.exists()


def test_nothing_in_a_released_run_changes_whatever_writes(paid_to, staff):
    from django.db import DatabaseError, transaction

    from payments.models import PaymentList

    built = build(JAN, staff)
    Payment.objects.filter(run=built).update(iban=HALYK)  # before release: the build's own rows
    run = release(built, staff)
    writes: list[Callable[[], object]] = [
        lambda: Payment.objects.filter(run=run).update(net=0),
        lambda: Payment.objects.filter(run=run).delete(),
        lambda: PaymentItem.objects.filter(payment__run=run).update(withheld=0),
        lambda: PaymentList.objects.filter(run=run).update(checksum="0" * 64),
        lambda: PaymentRun.objects.filter(pk=run.pk).update(state="built"),
        lambda: PaymentRun.objects.filter(pk=run.pk).update(net=0),
    ]
    for write in writes:
        with pytest.raises(DatabaseError, match=r"(?i)cannot"), transaction.atomic():
            write()
    assert Payment.objects.get(run=run).net == Decimal("61284.27")


def test_beat_starts_the_month_on_its_configured_day_once(in_force, settings):
    from payments.services.runs import runs_to_build, start_scheduled_run

    settings.PAYMENT_RUN_DAY = 20
    assert not start_scheduled_run(today=date(2024, 1, 19))
    assert not PaymentRun.objects.exists()
    assert start_scheduled_run(today=date(2024, 1, 20))
    assert not start_scheduled_run(today=date(2024, 1, 21))  # started once
    run = PaymentRun.objects.get()
    assert (run.month, run.state, run.started_by) == (JAN, RunState.BUILDING, None)
    assert runs_to_build() == [run.pk]  # the beat queues it (again, if a worker was killed)
    build_run(run_id=run.pk, actor=SYSTEM)
    assert runs_to_build() == []
    assert AuditEvent.objects.filter(action="payments.run_start", actor_label="schedule payments.start_runs").exists()


def test_beat_says_why_it_did_not_start_and_tries_again(in_force, settings, caplog):
    from payments.services.runs import start_scheduled_run

    settings.PAYMENT_RUN_DAY = 1
    PaymentRun.objects.create(month=date(2023, 12, 1))  # an earlier run not released
    assert not start_scheduled_run(today=date(2024, 1, 5))
    assert "the run for 2024-01 was not started: The run for 12.2023 is not released yet" in caplog.text


def test_a_rebuild_from_a_stale_page_changes_nothing_and_a_rebuild_keeps_its_reason(paid_to, staff):
    from records.approval import StalePage

    run = build(JAN, staff)
    with pytest.raises(StalePage):
        run_rebuild(run_id=run.pk, actor=staff["verifier"], version=run.version + 1, reason="IBAN")
    assert PaymentRun.objects.get(pk=run.pk).state == RunState.BUILT
    run_rebuild(run_id=run.pk, actor=staff["verifier"], version=run.version, reason="IBAN corrected")
    step = PaymentRun.objects.get(pk=run.pk).approval_steps().get()
    assert (step.step, step.actor, step.reason) == ("rebuild", staff["verifier"], "IBAN corrected")
