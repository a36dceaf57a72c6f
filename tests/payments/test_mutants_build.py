"""Tests that kill the survivors of the mutation run of the monthly run's build, its lists and
the arithmetic of what is due (docs/testing.md, issue 18)."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from payments.lists import PayerNotConfigured, list_mt102
from payments.models import Bank, PaymentRun, Recipient, RunState
from payments.services import runs
from payments.services.runs import Progress, build_run, run_start
from records.identifiers import make_kz_iban
from records.models import Participant
from tests.payments.conftest import SYSTEM, build, release
from tests.payments.test_runs import JAN


def _straight_in_the_table(people: list[Any], registrar: Any) -> None:
    """Three job-loss recipients whose payments simply go on (the set-based pass pays them):
    two with an account at Kaspi, one with none (held back)."""
    kaspi = Bank.objects.get(bic="CASPKZKA")
    for n, person in enumerate(people[10:13]):
        participant = Participant.objects.create(
            iin=person.iin, last_name="A", first_name="B", birth_date=person.birth_date, gender="M"
        )
        recipient = Recipient.objects.create(
            participant=participant,
            payment_type="0703",
            application_date=date(2023, 6, 1),
            risk_date=date(2023, 6, 1),
            status="in_force",
            amount=Decimal("100000.00"),
            registered_by=registrar,
        )
        if n < 2:
            recipient.bank_accounts.create(
                bank=kaspi,
                iban=make_kz_iban("722", f"{n:013d}"),
                valid_from=date(2023, 1, 1),
                reason="t",
                entered_by=registrar,
            )


@pytest.mark.django_db(transaction=True)
def test_the_build_writes_each_stage_with_its_counts_beside_its_transaction(
    paid_to, staff, people, make_user, monkeypatch
):
    """What each stage leaves in the run's ``progress``, read back through the progress
    connection right after it wrote (committed there while the build's transaction is open):
    one recipient settled in Python (approved in January), three paid by the set-based pass,
    two lists (Halyk, Kaspi), four payments (one held back)."""
    _straight_in_the_table(people, make_user("specialist"))
    seen: list[Any] = []

    class Watched(Progress):
        def __call__(self, stage: str, **counts: int) -> None:
            super().__call__(stage, **counts)
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT progress::text FROM payments_paymentrun WHERE id = %s", [self.run_id])
                seen.append(json.loads(cursor.fetchone()[0]))

    monkeypatch.setattr(runs, "Progress", Watched)
    run, _created = run_start(month=JAN, actor=staff["drafter"])
    run = build_run(run_id=run.pk, actor=SYSTEM)
    assert [{key: value for key, value in step.items() if key != "at"} for step in seen] == [
        {"stage": "starting"},
        {"stage": "settling", "recipients": 1},
        {"stage": "computing"},
        {"stage": "grouping", "computed": 3},
        {"stage": "writing", "lists": 2},
        {"stage": "items", "payments": 4},
    ]
    for step in seen:  # when each stage began, as an aware ISO time
        assert datetime.fromisoformat(step["at"]).tzinfo is not None
    assert (run.state, run.count, run.held_back, run.lists.count()) == (RunState.BUILT, 3, 1, 2)
    assert run.progress == {"stage": "built"}
    # A built run's progress is not written over any more.
    late = Progress(run.pk)
    try:
        late("starting")
    finally:
        late.close()
    assert PaymentRun.objects.get(pk=run.pk).progress == {"stage": "built"}


def test_progress_that_cannot_be_written_is_a_warning_with_its_cause_not_a_failure(paid_to, staff, caplog):
    """The database dropped the progress connection: the call returns, the warning names the
    run and carries the error."""
    run, _created = run_start(month=JAN, actor=staff["drafter"])
    progress = Progress(run.pk)
    try:
        progress("starting")  # connects
        pid = progress._connection.connection.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 60000)", [pid])  # waits until it is gone
            assert cursor.fetchone()[0] is True
        with caplog.at_level(logging.WARNING, logger="payments.services.runs"):
            progress("settling", recipients=1)
    finally:
        progress.close()
    (record,) = [r for r in caplog.records if r.name == "payments.services.runs"]
    assert (record.levelname, record.getMessage()) == ("WARNING", f"run {run.pk}: progress not written")
    assert record.exc_info is not None
    assert record.exc_info[0] is not None
    assert issubclass(record.exc_info[0], Exception)


def test_the_mt102_refusal_names_the_account_it_refused(paid_to, staff, settings):
    run = release(build(JAN, staff), staff)
    settings.PAYMENTS_PAYER_ACCOUNT = "KZ429990000000000003"  # one check digit off
    with pytest.raises(PayerNotConfigured) as refused:
        list_mt102(run.lists.get(), value_date=date(2024, 1, 25))
    assert refused.value.args == ("KZ429990000000000003",)
