"""The audit trail is append-only in the database and hash-chained (records.audit_chain): the
application cannot change or remove an event, a session without the key cannot add one, and
what the table owner does with the triggers off, ``verify_audit_log`` finds."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from records.audit_chain import CHAINS, chain_key, head_mac, link_hash, verify
from records.models import AccessLog, AuditChainHead, AuditEvent
from records.services import Actor, audit_record

pytestmark = pytest.mark.django_db(transaction=True)


def _events(count: int) -> int:
    """Write ``count`` events to each chain, a transaction each; the places before them (the
    database may hold events of its own set-up) are returned."""
    base = AuditEvent.objects.count()
    assert AccessLog.objects.count() == 0
    for n in range(count):
        with transaction.atomic():
            audit_record(actor=Actor(label="test"), action="test.event", data={"n": n, "имя": "Әлия"})
            AccessLog.objects.create(actor_label="test", kind="view", view="test_view", query={"n": n})
    return base


def session_of_its_own() -> psycopg.Connection[Any]:
    """A session on the test database that is not the application's: no chain key."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


@contextmanager
def as_owner_without_triggers() -> Iterator[Any]:
    """What the table owner (here a superuser) can do: a session of its own, triggers off."""
    with session_of_its_own() as raw:
        raw.execute("SET session_replication_role = replica")
        yield raw


def _broken() -> dict[str, dict[str, Any]]:
    return {report.chain: report.broken[0] for report in verify() if report.broken}


def test_committed_events_are_chained_and_the_chain_verifies():
    base = _events(3)
    reports = {report.chain: report for report in verify()}
    assert {name: (r.intact, r.events) for name, r in reports.items()} == {
        "auditevent": (True, base + 3),
        "accesslog": (True, 3),
    }
    events = list(AuditEvent.objects.order_by("chain_seq"))
    assert [e.chain_seq for e in events] == list(range(1, base + 4))
    assert events[0].prev_hash == ""
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    head = AuditChainHead.objects.get(chain="auditevent")
    assert (head.seq, head.hash) == (base + 3, events[-1].hash)
    assert head.mac == head_mac(chain_key(), "auditevent", base + 3, events[-1].hash)
    # The trigger's text of a row and verify's are the same: recompute the first link here.
    with connection.cursor() as cursor:
        columns = ", ".join(CHAINS[0].columns)
        cursor.execute(f"SELECT {columns} FROM records_auditevent WHERE chain_seq = 1")
        fields = list(cursor.fetchone())
    assert events[0].hash == link_hash(chain_key(), "", ["1", *fields])


@contextmanager
def head_updates_counted() -> Iterator[dict[str, int]]:
    """Count the UPDATEs of the chains' heads (a trigger the owner adds for the test)."""
    counted: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_count_head() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " PERFORM set_config('test.heads', coalesce(nullif(current_setting('test.heads', true), ''), '0')::int"
            " + 1 || '', false); RETURN NEW; END $$;"
            "CREATE TRIGGER test_count_head BEFORE UPDATE ON records_auditchainhead"
            " FOR EACH ROW EXECUTE FUNCTION test_count_head();"
            "SELECT set_config('test.heads', '0', false)"
        )
    try:
        yield counted
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('test.heads')")
            counted["updates"] = int(cursor.fetchone()[0])
            cursor.execute("DROP TRIGGER test_count_head ON records_auditchainhead; DROP FUNCTION test_count_head()")


def test_a_commit_of_many_events_writes_each_head_once():
    """Writing the head for every event made a commit of N events cost N^2 (each UPDATE of one
    row in one transaction re-reads the versions before it): the first seal of a commit locks
    the head and touches it, and the head is written once, after the last seal."""
    base = AuditEvent.objects.count()
    with head_updates_counted() as counted, transaction.atomic():
        for n in range(40):
            audit_record(actor=Actor(label="test"), action="test.event", data={"n": n})
            AccessLog.objects.create(actor_label="test", kind="view", view="test_view", query={"n": n})
    assert counted["updates"] == 4  # per chain: the touch and the write
    heads = dict(AuditChainHead.objects.values_list("chain", "seq"))
    assert heads == {"auditevent": base + 40, "accesslog": 40}
    assert all(report.intact for report in verify())


def test_events_sealed_after_the_head_was_written_move_it_again():
    """Seals made early in a transaction (``SET CONSTRAINTS … IMMEDIATE``), the head written,
    then more events: the head follows them to the last one."""
    base = AuditEvent.objects.count()
    with transaction.atomic():
        audit_record(actor=Actor(label="test"), action="test.event", data={"n": 1})
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        assert AuditChainHead.objects.get(chain="auditevent").seq == base + 1
        audit_record(actor=Actor(label="test"), action="test.event", data={"n": 2})
        audit_record(actor=Actor(label="test"), action="test.event", data={"n": 3})
    last = AuditEvent.objects.get(chain_seq=base + 3)
    head = AuditChainHead.objects.get(chain="auditevent")
    assert (head.seq, head.hash) == (base + 3, last.hash)
    assert all(report.intact for report in verify())


def test_the_application_cannot_change_or_remove_an_event():
    _events(1)
    event, entry = AuditEvent.objects.get(action="test.event"), AccessLog.objects.get()
    for statement in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="changed"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
        lambda: AccessLog.objects.filter(pk=entry.pk).update(view="changed"),
        lambda: AccessLog.objects.filter(pk=entry.pk).delete(),
        lambda: AuditChainHead.objects.filter(chain="auditevent").update(seq=0),
        lambda: AuditChainHead.objects.all().delete(),
        lambda: AuditEvent.objects.filter(pk=event.pk).update(chain_seq=None),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            statement()
    for table in ("records_auditevent", "records_accesslog", "records_auditchainhead"):
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
            connection.cursor().execute(f"TRUNCATE {table} CASCADE")
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"
    assert all(report.intact for report in verify())


def test_a_session_without_the_key_cannot_add_an_event():
    with session_of_its_own() as raw, pytest.raises(psycopg.Error, match="key is not set"):
        raw.execute(
            "INSERT INTO records_auditevent (actor_label, action, object_pk, data, created_at, prev_hash, hash)"
            " VALUES ('psql', 'forged', '', '{}', now(), '', '')"
        )
    assert not AuditEvent.objects.filter(action="forged").exists()


def test_an_event_changed_by_the_owner_is_found():
    _events(4)
    target = AuditEvent.objects.get(chain_seq=3)
    with as_owner_without_triggers() as raw:
        raw.execute("UPDATE records_auditevent SET data = '{\"n\": 99}' WHERE id = %s", [target.pk])
    assert _broken() == {
        "auditevent": {
            "seq": 3,
            "id": target.pk,
            "problem": "its content does not match its hash: the event was changed",
        }
    }


def test_an_access_log_entry_changed_by_the_owner_is_found():
    _events(2)
    target = AccessLog.objects.get(chain_seq=1)
    with as_owner_without_triggers() as raw:
        raw.execute("UPDATE records_accesslog SET ip_address = '10.0.0.9' WHERE id = %s", [target.pk])
    assert _broken()["accesslog"]["seq"] == 1


def test_an_event_deleted_by_the_owner_is_found():
    base = _events(4)
    with as_owner_without_triggers() as raw:
        raw.execute("DELETE FROM records_auditevent WHERE chain_seq = %s", [base + 2])
    assert _broken() == {
        "auditevent": {
            "seq": base + 2,
            "id": None,
            "problem": f"place {base + 2} is missing: the event there was deleted",
        }
    }


def test_a_renumbered_chain_is_found_at_the_cut():
    base = _events(4)
    third = AuditEvent.objects.get(chain_seq=base + 3)
    with as_owner_without_triggers() as raw:
        raw.execute("DELETE FROM records_auditevent WHERE chain_seq = %s", [base + 2])
        raw.execute("UPDATE records_auditevent SET chain_seq = chain_seq - 1 WHERE chain_seq > %s", [base + 2])
    assert _broken()["auditevent"] == {
        "seq": base + 2,
        "id": third.pk,
        "problem": "the hash of the one before does not match: the chain was cut here",
    }


def test_events_deleted_from_the_end_are_found_by_the_head():
    base = _events(4)
    with as_owner_without_triggers() as raw:
        raw.execute("DELETE FROM records_auditevent WHERE chain_seq >= %s", [base + 3])
    assert _broken()["auditevent"] == {
        "seq": base + 3,
        "id": None,
        "problem": f"the head is at place {base + 4} but the chain ends at {base + 2}: events were deleted",
    }


def test_a_head_moved_back_by_the_owner_is_found():
    base = _events(4)
    second = AuditEvent.objects.get(chain_seq=base + 2)
    with as_owner_without_triggers() as raw:
        raw.execute("DELETE FROM records_auditevent WHERE chain_seq >= %s", [base + 3])
        raw.execute(
            "UPDATE records_auditchainhead SET seq = %s, hash = %s WHERE chain = 'auditevent'", [base + 2, second.hash]
        )
    assert _broken()["auditevent"] == {"seq": base + 2, "id": None, "problem": "the chain's head was changed"}


def test_an_event_inserted_by_the_owner_is_found():
    _events(2)
    with as_owner_without_triggers() as raw:
        inserted = raw.execute(
            "INSERT INTO records_auditevent (actor_label, action, object_pk, data, created_at, prev_hash, hash)"
            " VALUES ('psql', 'forged', '', '{}', now(), '', '') RETURNING id"
        ).fetchone()[0]
    assert _broken() == {
        "auditevent": {
            "seq": None,
            "id": inserted,
            "problem": "the event is outside the chain: it was written around the trigger",
        }
    }


def test_an_event_inserted_with_a_made_up_place_is_found():
    base = _events(2)
    last = AuditEvent.objects.get(chain_seq=base + 2)
    with as_owner_without_triggers() as raw:
        inserted = raw.execute(
            "INSERT INTO records_auditevent"
            " (actor_label, action, object_pk, data, created_at, chain_seq, prev_hash, hash)"
            " VALUES ('psql', 'forged', '', '{}', now(), %s, %s, %s) RETURNING id",
            [base + 3, last.hash, "0" * 64],
        ).fetchone()[0]
    assert _broken()["auditevent"]["id"] == inserted


def test_a_key_other_than_the_one_that_wrote_the_chain_finds_every_event_changed():
    _events(1)
    with override_settings(AUDIT_CHAIN_KEY="another key, at least thirty-two characters long"):
        broken = _broken()
    assert broken["auditevent"]["seq"] == 1
    assert broken["accesslog"]["seq"] == 1


def test_concurrent_writers_of_both_chains_keep_them_whole():
    """Two threads write to the two chains in opposite orders: the heads are locked in one order
    at commit, so neither waits for the other forever, and no place is given twice."""
    errors: list[BaseException] = []
    base = AuditEvent.objects.count()

    def write(reverse: bool) -> None:
        try:
            for n in range(15):
                with transaction.atomic():
                    if reverse:
                        AccessLog.objects.create(actor_label="t", kind="view", view="v", query={"n": n})
                    audit_record(actor=Actor(label="t"), action="test.concurrent", data={"n": n})
                    if not reverse:
                        AccessLog.objects.create(actor_label="t", kind="view", view="v", query={"n": n})
        except BaseException as exc:  # noqa: BLE001  (reported by the test below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(reverse,)) for reverse in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert {(report.chain, report.intact, report.events) for report in verify()} == {
        ("auditevent", True, base + 30),
        ("accesslog", True, 30),
    }


def test_verify_audit_log_command(capsys):
    base = _events(2)
    out = io.StringIO()
    call_command("verify_audit_log", stdout=out)
    assert f"records_auditevent: intact, {base + 2} events" in out.getvalue()
    out = io.StringIO()
    call_command("verify_audit_log", "--json", stdout=out)
    assert json.loads(out.getvalue())["intact"] is True
    with as_owner_without_triggers() as raw:
        raw.execute("DELETE FROM records_accesslog WHERE chain_seq = 1")
    out = io.StringIO()
    with pytest.raises(SystemExit) as stopped:
        call_command("verify_audit_log", stdout=out)
    assert stopped.value.code == 1
    assert "records_accesslog: BROKEN at place 1: place 1 is missing" in out.getvalue()


def test_the_key_is_in_no_statement_text():
    """The key reaches a connection as parameters bound on the server: the statement another
    session can see in ``pg_stat_activity`` does not carry it."""
    from records.audit_chain import _pads, install_key_on

    inner, outer = _pads(chain_key())
    with session_of_its_own() as raw:
        install_key_on(raw)
        with connection.cursor() as cursor:
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [raw.info.backend_pid])
            seen = cursor.fetchone()[0]
    assert "set_config('gfss.audit_ipad', $1" in seen
    assert inner not in seen
    assert outer not in seen
