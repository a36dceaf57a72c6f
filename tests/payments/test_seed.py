"""The legal parameters a fresh database starts from come back after a flush (a transactional
test's teardown empties every table): an empty table gets the shipped values again."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from payments.models import LegalParameter


@pytest.mark.django_db(transaction=True)
def test_a_flushed_parameter_table_is_seeded_again_and_a_kept_one_left_alone() -> None:
    call_command("flush", interactive=False, verbosity=0)
    names = set(LegalParameter.objects.values_list("name", flat=True))
    assert {"mzp", "window_months", "approval_monthly_threshold", "decision_working_days"} <= names
    LegalParameter.objects.filter(name="mzp").update(value=1)
    LegalParameter.objects.exclude(name="mzp").delete()
    call_command("migrate", verbosity=0)  # post_migrate again: the corrected row stays, nothing added
    assert set(LegalParameter.objects.values_list("name", "value")) == {("mzp", Decimal(1))}
