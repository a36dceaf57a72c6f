"""The monthly run in real Celery workers (conventions: "Monthly payments"): progress visible
while it runs, all or nothing under a worker killed with SIGKILL mid-build, built anew by the
next beat."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.db import connection

from payments.models import Payment, PaymentList, PaymentRun, RunState
from payments.services.runs import run_start
from payments.tasks import build_run_task, start_runs
from tests.conftest import start_celery_worker, wait_until
from tests.contributions.test_reliability import _connect, _kill_tree, broker, private_broker_url, waiting_on_lock
from tests.payments.conftest import account
from tests.payments.test_runs import JAN

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def waiting_on_lists() -> bool:
    return waiting_on_lock("INSERT INTO payments_paymentlist")


def test_a_worker_killed_mid_build_leaves_nothing_and_the_next_beat_builds_it(in_force, staff, tmp_path: Path) -> None:
    account(in_force, staff)
    with broker(private_broker_url()):
        url = os.environ["CELERY_BROKER_URL"]
        run, created = run_start(month=JAN, actor=staff["drafter"])
        assert created
        worker = start_celery_worker(connection.settings_dict["NAME"], tmp_path / "victim.log", broker_url=url)
        other = _connect()
        try:
            other.execute("LOCK TABLE payments_paymentlist IN SHARE ROW EXCLUSIVE MODE")
            build_run_task.delay(run.pk)
            wait_until(waiting_on_lists, describe=worker.output)
            # The build's transaction is open: its progress is visible from outside it.
            assert PaymentRun.objects.get(pk=run.pk).progress["stage"] == "grouping"
            _kill_tree(worker)
            other.rollback()
        finally:
            other.close()
            _kill_tree(worker)
        stored = PaymentRun.objects.get(pk=run.pk)
        assert (stored.state, stored.count, stored.built_at) == (RunState.BUILDING, 0, None)
        assert not Payment.objects.exists()
        assert not PaymentList.objects.exists()
        restarted = start_celery_worker(connection.settings_dict["NAME"], tmp_path / "again.log", broker_url=url)
        try:
            start_runs.delay()  # the beat queues the run left being built
            wait_until(lambda: PaymentRun.objects.get(pk=run.pk).state == RunState.BUILT, describe=restarted.output)
            start_runs.delay()  # and a second beat builds nothing twice
            wait_until(lambda: restarted.output().count("succeeded") >= 3, describe=restarted.output)
        finally:
            _kill_tree(restarted)
    assert Payment.objects.filter(run=run).count() == 1
    assert PaymentList.objects.filter(run=run).count() == 1
