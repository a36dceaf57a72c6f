"""Data migrations of the contributions app, run forward on rows written as the old code did."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from contributions.models import OrderStatus, PaymentOrder
from contributions.services import intake_file
from records.models import AuditEvent
from records.services import Actor
from tests.audit_trail import triggers_off
from tests.conftest import PAYER, line_for, order_text

BEFORE = [("contributions", "0006_one_open_status")]
AFTER = [("contributions", "0007_review_orders_open_until_resolved")]


def _migrate(target: list[tuple[str, str]] | None = None) -> None:
    """To ``target``; without one, to the latest migrations (the schema the other tests use)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_review_orders_get_their_clock_back(people, make_user) -> None:
    """Intake used to stop the clock of an order needing review at once: an unresolved one is
    open again, one returned in full takes the time of its resolution from the audit event."""
    actor = Actor(label="test")
    waiting, resolved = (
        intake_file(
            raw=order_text([line_for(people[n])], reference=f"R{n}", number=str(n), knp="010").encode(),
            file_name="o.mt102",
            door="command",
            actor=actor,
            received=date(2023, 11, 24),
        ).orders[0]
        for n in (1, 2)
    )
    taken_in = timezone.now() - timedelta(days=3)
    resolved_at = timezone.now() - timedelta(days=1)
    # As the old code left them: both stopped at intake, the second later returned in full.
    PaymentOrder.objects.filter(pk__in=[waiting.pk, resolved.pk]).update(finished_at=taken_in)
    PaymentOrder.objects.filter(pk=resolved.pk).update(
        status=OrderStatus.RETURNED, resolved_by=make_user("head_of_unit")
    )
    event = AuditEvent.objects.create(actor_label="x", action="orders.return_in_full", object_pk=str(resolved.pk))
    with triggers_off():
        AuditEvent.objects.filter(pk=event.pk).update(created_at=resolved_at)
    try:
        _migrate(BEFORE)
        _migrate(AFTER)  # the data migration under test
        # Read only the columns that exist at this migration.
        rows = {pk: (status, finished) for pk, status, finished in _status_and_finish([waiting.pk, resolved.pk])}
    finally:
        _migrate()
    assert rows[waiting.pk] == (OrderStatus.NEEDS_REVIEW, None)
    assert rows[resolved.pk] == (OrderStatus.RETURNED, resolved_at)


def _status_and_finish(ids: list[int]) -> list[tuple[int, str, object]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, status, finished_at FROM contributions_paymentorder WHERE id = ANY(%s)", [ids])
        return [(pk, status, finished) for pk, status, finished in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_keys_are_normalised_and_held_orders_free_theirs(people) -> None:
    """0010 on orders as the old code left them: keys that now read alike keep one original (a
    later one still open waits for review, saying why), and an order held for review (kept as the
    original by the old code) frees its key for the payer's corrected order."""
    actor = Actor(label="test")
    ids = [
        intake_file(
            raw=order_text([line_for(people[n])], reference=f"K{n}", number=str(n)).encode(),
            file_name="o.mt102",
            door="command",
            actor=actor,
            received=date(2023, 11, 24),
            enqueue=False,
        )
        .orders[0]
        .pk
        for n in (1, 2, 3, 4)
    ]
    first, posted_twin, open_twin, held = ids
    try:
        _migrate([("contributions", "0009_alter_incomingfile_submitted_by_and_more")])
        with connection.cursor() as cursor:
            for pk, reference, number, status in [
                (first, "abc", "0777", "posted"),
                (posted_twin, "ABC", "777", "posted"),
                (open_twin, " Abc ", "00777", "received"),
                (held, "HELD", "1", "needs_review"),
            ]:
                cursor.execute(
                    "UPDATE contributions_paymentorder SET reference = %s, number = %s, status = %s,"
                    " is_original = true WHERE id = %s",
                    [reference, number, status, pk],
                )
        _migrate([("contributions", "0010_order_key_and_inbox")])
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, is_original, status, key, errors FROM contributions_paymentorder WHERE id = ANY(%s)",
                [ids],
            )
            rows = {pk: (original, status, key, errors) for pk, original, status, key, errors in cursor.fetchall()}
            cursor.execute("SELECT count(*) FROM contributions_incomingfile WHERE split_at IS NULL")
            unsplit = cursor.fetchone()
    finally:
        _migrate()
    assert rows[first][:3] == (True, "posted", f"{PAYER}|ABC|777|2023-11-24")
    assert rows[posted_twin][:2] == (False, "posted")
    assert rows[open_twin][:2] == (False, "needs_review")
    assert json.loads(rows[open_twin][3])[-1]["message"].startswith("an earlier order has the same payer")
    assert rows[held][:2] == (False, "needs_review")
    assert unsplit == (0,)
