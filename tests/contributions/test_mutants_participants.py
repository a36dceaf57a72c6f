"""Posting creates the participants it does not know (Rules, paragraph 9); another order's
transaction may create the same person at the same moment. The mutants of that branch of
``contributions.services.posting._participants_for`` survived every test (docs/testing.md):
here the race is made to happen, with a second connection."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection

from contributions.models import LedgerEntry, OrderStatus, PaymentOrder
from contributions.services import process_order
from records.models import Participant
from records.services import Actor
from tests.conftest import line_for, order_text, take_in

ACTOR = Actor(label="test")

_INSERT = """
INSERT INTO records_participant
    (iin, last_name, first_name, patronymic, birth_date, gender, death_date, address, postal_code,
     id_document_series, id_document_number, id_document_issuer, citizenship, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, NULL, '', '', '', '', '', '', now(), now())
RETURNING id
"""


def _connect(*, autocommit: bool) -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=autocommit)


def _commit_once_an_insert_waits(other: psycopg.Connection, waited: list[bool]) -> None:
    """Commit ``other`` as soon as an INSERT into the participants waits for its row lock (or
    after 30 s, which fails the test through ``waited``)."""
    with _connect(autocommit=True) as watcher:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query ILIKE '%INSERT INTO records_participant%'"
            ).fetchone()
            if row and row[0]:
                waited.append(True)
                break
            time.sleep(0.05)
    other.commit()


@pytest.mark.django_db(transaction=True)
def test_a_participant_created_meanwhile_by_another_transaction_is_the_one_posted_to(people) -> None:
    person = people[21]
    (order,) = take_in(order_text([line_for(person)], reference="RACE1", number="1"), process=False)
    other = _connect(autocommit=False)
    try:
        row = other.execute(
            _INSERT,
            [person.iin, person.last_name, person.first_name, person.patronymic, person.birth_date, person.gender],
        ).fetchone()  # not committed yet: the order's lookup does not see it, its insert waits for it
        assert row is not None
        created_id = row[0]
        waited: list[bool] = []
        committer = threading.Thread(target=_commit_once_an_insert_waits, args=(other, waited))
        committer.start()
        try:
            assert process_order(order_id=order.pk, actor=ACTOR) == OrderStatus.POSTED
        finally:
            committer.join()
    finally:
        other.close()
    assert waited == [True]  # the race did happen
    assert Participant.objects.filter(iin=person.iin).count() == 1
    entry = LedgerEntry.objects.get(order_id=order.pk)
    assert entry.participant_id == created_id
    assert PaymentOrder.objects.get(pk=order.pk).lines_posted == 1
