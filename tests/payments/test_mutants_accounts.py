"""Tests that kill the survivors of the mutation run of the bank accounts, the build's transaction
and what is due (docs/testing.md, issue 18)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone, translation

from contributions.services.common import DomainError
from payments.due import Entitlement, MonthDue, Suspension, due_for
from payments.models import Bank, BankAccount, PaymentRun, RunState
from payments.services.bank_accounts import bank_account_add
from payments.services.runs import RunBusy, build_run, run_start
from records.identifiers import make_kz_iban
from records.models import AuditEvent
from tests.payments.conftest import HALYK, SYSTEM, build
from tests.payments.test_runs import JAN


def add(recipient: Any, staff: dict[str, Any], **given: Any) -> BankAccount:
    """``bank_account_add`` for the recipient by the drafter, Halyk's account from December
    2023 unless ``given`` says otherwise, refusals in English."""
    arguments: dict[str, Any] = {
        "bic": "HSBKKZKX",
        "iban": HALYK,
        "valid_from": date(2023, 12, 1),
        "reason": "application",
        **given,
    }
    with translation.override("en"):
        return bank_account_add(recipient_id=recipient.pk, actor=staff["drafter"], **arguments)


def refusal(recipient: Any, staff: dict[str, Any], **given: Any) -> list[str]:
    """The messages of the refusal; nothing is entered and nothing audited."""
    with pytest.raises(DomainError) as refused:
        add(recipient, staff, **given)
    assert not BankAccount.objects.filter(recipient=recipient, iban=given.get("iban", HALYK)).exists()
    assert not AuditEvent.objects.filter(action="payments.bank_account_add", data__recipient=recipient.pk).exists()
    return list(refused.value.messages)


# --- Bank accounts ------------------------------------------------------------------------------


def test_an_account_typed_with_spaces_dashes_and_small_letters_is_entered_as_its_iban_and_audited(in_force, staff):
    typed = f" {HALYK[:4].lower()} {HALYK[4:8]}-{HALYK[8:12]}\t{HALYK[12:16].lower()}-{HALYK[16:]} "
    account = add(in_force, staff, iban=typed, bic=" hsbkkzkx ", reason="  application of 20.12.2023  ")
    account = BankAccount.objects.get(pk=account.pk)
    assert (account.recipient_id, account.bank_id, account.iban, account.valid_from, account.reason) == (
        in_force.pk,
        "HSBKKZKX",
        HALYK,
        date(2023, 12, 1),
        "application of 20.12.2023",
    )
    assert account.entered_by == staff["drafter"]
    event = AuditEvent.objects.get(action="payments.bank_account_add", data__recipient=in_force.pk)
    assert (event.actor, event.actor_label) == (staff["drafter"], staff["drafter"].username)
    assert (event.content_type, event.object_pk) == (ContentType.objects.get_for_model(BankAccount), str(account.pk))
    assert event.data == {"recipient": in_force.pk, "bank": "HSBKKZKX", "iban": HALYK, "valid_from": "2023-12-01"}


def test_an_account_without_a_reason_is_refused_with_what_to_give(in_force, staff):
    assert refusal(in_force, staff, reason=" \n ") == [
        "Give the reason for the bank details (the application, a change)."
    ]


def test_a_number_that_is_no_kazakh_iban_is_refused_showing_its_first_34_characters(in_force, staff):
    typed = "KZ" + "0123456789" * 4  # 42 characters
    assert refusal(in_force, staff, iban=typed) == [
        f"{typed[:34]} is not a Kazakh IBAN with valid check digits (KZ, 2 digits, 16 characters)."
    ]
    wrong_check = HALYK[:2] + f"{(int(HALYK[2:4]) + 1) % 100:02d}" + HALYK[4:]
    assert refusal(in_force, staff, iban=wrong_check) == [
        f"{wrong_check} is not a Kazakh IBAN with valid check digits (KZ, 2 digits, 16 characters)."
    ]


def test_an_unknown_bic_is_refused_showing_its_first_11_characters(in_force, staff):
    assert refusal(in_force, staff, bic=" zzzzkzkx1234567 ") == ["Unknown bank BIC: ZZZZKZKX123."]


def test_an_account_of_another_bank_is_refused_naming_the_bank_and_its_code(in_force, staff):
    kaspi = Bank.objects.get(bic="CASPKZKA")
    assert refusal(in_force, staff, bic="CASPKZKA") == [
        f"Account {HALYK} is not an account of {kaspi.name} (its IBANs carry bank code {kaspi.iban_code})."
    ]
    assert kaspi.iban_code == "722"


def test_bank_details_from_before_the_month_the_right_arose_are_refused(in_force, staff):
    # The right arose on 15.12.2023: its month's first day is the earliest.
    assert refusal(in_force, staff, valid_from=date(2023, 11, 30)) == [
        "Bank details cannot be dated before the month the right arose."
    ]
    assert add(in_force, staff, valid_from=date(2023, 12, 1)).valid_from == date(2023, 12, 1)


def test_a_second_account_from_the_same_day_is_refused_naming_the_day(in_force, staff):
    first = add(in_force, staff, valid_from=date(2024, 2, 1))
    other = make_kz_iban("601", "0000000000002")
    with pytest.raises(DomainError) as refused:
        add(in_force, staff, valid_from=date(2024, 2, 1), iban=other, reason="a change")
    assert refused.value.messages == ["The recipient already has bank details from 01.02.2024."]
    assert list(BankAccount.objects.filter(recipient=in_force).values_list("pk", flat=True)) == [first.pk]


# --- The build's transaction ---------------------------------------------------------------------


def test_a_build_marks_the_run_built_when_it_was_and_records_its_figures(paid_to, staff):
    before = timezone.now()
    run = build(JAN, staff)
    after = timezone.now()
    assert (run.state, run.progress, run.count, run.net, run.held_back) == (
        RunState.BUILT,
        {"stage": "built"},
        1,
        Decimal("61284.27"),
        0,
    )
    assert run.built_at is not None
    assert before <= run.built_at <= after
    event = AuditEvent.objects.get(action="payments.run_build")
    assert (event.actor, event.actor_label) == (None, SYSTEM.label)
    assert (event.content_type, event.object_pk) == (ContentType.objects.get_for_model(PaymentRun), str(run.pk))
    assert event.data == {"month": "2024-01", "count": 1, "net": "61284.27", "held_back": 0}


def test_a_run_another_worker_is_building_is_refused_and_left_as_it_is(paid_to, staff):
    run, _created = run_start(month=JAN, actor=staff["drafter"])
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:  # autocommit: the other worker's lock, held by its session
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [7013, run.pk])
        with translation.override("en"), pytest.raises(RunBusy) as busy:
            build_run(run_id=run.pk, actor=SYSTEM)
        assert busy.value.messages == ["This run is being built by another worker."]
        run = PaymentRun.objects.get(pk=run.pk)
        assert (run.state, run.built_at, run.count) == (RunState.BUILDING, None, 0)
        assert not AuditEvent.objects.filter(action="payments.run_build").exists()
    finally:
        other.close()


# --- What is due --------------------------------------------------------------------------------


def test_a_right_from_the_last_day_of_a_month_is_paid_for_that_one_day():
    entitlement = Entitlement(amount=Decimal("31000.00"), start=date(2024, 1, 31))
    assert due_for(entitlement, date(2024, 1, 1)) == MonthDue(date(2024, 1, 1), Decimal("1000.00"), 1, 31)


def test_a_month_outside_the_right_is_not_paid_and_not_suspended_whatever_covers_it():
    entitlement = Entitlement(
        amount=Decimal("31000.00"),
        start=date(2024, 2, 1),
        suspensions=(Suspension(since=date(2023, 12, 1)),),
    )
    assert due_for(entitlement, date(2024, 1, 1)) == MonthDue(date(2024, 1, 1), Decimal("0.00"), 0, 31, False)
