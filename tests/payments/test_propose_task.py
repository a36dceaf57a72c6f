"""The hourly catch-up of proposals runs in a real Celery worker (issue 17: whatever a signal
missed, beat proposes)."""

from __future__ import annotations

import pytest

from payments.models import DecisionProposal
from payments.tasks import propose
from tests.conftest import CeleryWorker, wait_until
from tests.payments.conftest import pay


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_the_worker_proposes_what_the_signal_missed(celery_worker: CeleryWorker, in_force, steady) -> None:
    pay(steady, ["052023"], amount="100,00", reference="LATE")
    DecisionProposal.objects.all().delete()  # as if the process died before the signal's scan
    propose.delay()
    wait_until(lambda: DecisionProposal.objects.filter(kind="recalculate").exists(), describe=celery_worker.output)
    propose.delay([in_force.participant_id])  # idempotent: nothing twice
    propose.delay()
    wait_until(lambda: "payments.propose" in celery_worker.output() and celery_worker.output().count("succeeded") >= 3)
    assert DecisionProposal.objects.filter(recipient=in_force).count() == 1
