"""Reliability on real PostgreSQL, Redis and Celery worker processes: duplicates, redelivery,
a worker killed with SIGKILL mid-order, and the broker down at intake."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, timedelta
from pathlib import Path

import kombu.pools
import psycopg
import pytest
from django.db import connection

from config.celery import app
from contributions.models import LedgerEntry, LineStatus, OrderLine, OrderStatus, PaymentOrder
from contributions.services import sweep_orders
from contributions.tasks import process_order_task
from records.services import Actor
from tests.conftest import CeleryWorker, line_for, order_text, start_celery_worker, take_in, wait_until

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]
ACTOR = Actor(label="test")


def final(order_id: int) -> bool:
    return PaymentOrder.objects.get(pk=order_id).status != OrderStatus.RECEIVED


def take_in_one(text: str) -> PaymentOrder:
    """Taken in and queued for the real workers."""
    (order,) = take_in(text, process=False, enqueue=True)
    return order


def test_the_same_file_twice_and_the_same_task_twice(celery_worker: CeleryWorker, people) -> None:
    text = order_text([line_for(p) for p in people[1:11]])
    first = take_in_one(text)
    wait_until(lambda: final(first.pk), describe=celery_worker.output)
    second = take_in_one(text)
    assert PaymentOrder.objects.get(pk=second.pk).status == OrderStatus.DUPLICATE
    process_order_task.delay(first.pk)
    process_order_task.delay(first.pk)
    marker = take_in_one(order_text([line_for(people[12])], reference="MARKER", number="9"))
    wait_until(lambda: final(marker.pk), describe=celery_worker.output)  # the queue has drained past them
    assert PaymentOrder.objects.get(pk=first.pk).status == OrderStatus.POSTED, PaymentOrder.objects.get(
        pk=first.pk
    ).errors
    assert LedgerEntry.objects.filter(order_id=first.pk).count() == 10
    assert LedgerEntry.objects.count() == 11


def _connect() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=False)


@contextmanager
def ledger_locked() -> Iterator[psycopg.Connection]:
    """Hold a lock that makes any INSERT into the ledger wait: a worker processing an order is
    then stopped mid-transaction, after it has already written the order's participants."""
    other = _connect()
    try:
        other.execute("LOCK TABLE contributions_ledgerentry IN SHARE ROW EXCLUSIVE MODE")
        yield other
    finally:
        other.rollback()
        other.close()


def waiting_on_lock(statement: str = "contributions_ledgerentry") -> bool:
    """Whether a statement containing ``statement`` waits on a lock. Asked on Django's own
    (autocommit) connection: statistics views are a snapshot per transaction, so the lock
    holder's transaction would never see the wait begin."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
            [f"%{statement}%"],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def test_a_worker_killed_mid_order_leaves_nothing_half_written_and_the_order_posts_once(
    people, tmp_path: Path, caplog
) -> None:
    lines = [line_for(p, period=f"{m:02d}2023") for p in people[1:30] for m in range(1, 12)]
    with broker(private_broker_url()):
        _killed_mid_order(lines, tmp_path, caplog)


def private_broker_url() -> str:
    """A Redis database no other worker of this test run consumes from."""
    return f"redis://127.0.0.1:{os.environ['REDIS_PORT']}/{12 + int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:])}"


def _killed_mid_order(lines: list, tmp_path: Path, caplog) -> None:  # type: ignore[type-arg]
    url = os.environ["CELERY_BROKER_URL"]
    worker = start_celery_worker(connection.settings_dict["NAME"], tmp_path / "victim.log", broker_url=url)
    try:
        with ledger_locked() as lock:
            order = take_in_one(order_text(lines))
            assert PaymentOrder.objects.get(pk=order.pk).queued_at is not None, "not queued"
            wait_until(waiting_on_lock, describe=worker.output)
            # The worker is inside the order's transaction (order locked, participants written),
            # its outcome statement blocked.
            _kill_tree(worker)
            lock.rollback()
        stored = PaymentOrder.objects.get(pk=order.pk)
        assert (stored.status, stored.started_at, stored.attempts) == (OrderStatus.RECEIVED, None, 0)
        assert not LedgerEntry.objects.filter(order_id=order.pk).exists()
        assert not OrderLine.objects.filter(order_id=order.pk).exclude(status=LineStatus.PENDING).exists()
    finally:
        _kill_tree(worker)
    restarted = start_celery_worker(connection.settings_dict["NAME"], tmp_path / "restarted.log", broker_url=url)
    try:
        queued = sweep_orders(actor=ACTOR, stuck_after=timedelta(0))
        assert queued == 1, caplog.text
        wait_until(lambda: final(order.pk), timeout=60, describe=restarted.output)
    finally:
        _kill_tree(restarted)
    posted = PaymentOrder.objects.get(pk=order.pk)
    assert posted.status == OrderStatus.POSTED
    assert LedgerEntry.objects.filter(order_id=order.pk).count() == len(lines) == posted.lines_posted
    assert posted.attempts == 1  # the killed attempt was rolled back with everything else


def _kill_tree(worker: CeleryWorker) -> None:
    """SIGKILL the worker and its pool children (no warm shutdown, no acknowledgements)."""
    if worker.process.poll() is not None:
        return
    children = subprocess.run(
        ["pgrep", "-P", str(worker.process.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    for pid in [worker.process.pid, *map(int, children)]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Point this process's Celery producer at ``url`` (Celery reads the variable first)."""
    saved = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url
    _reset_producers()
    try:
        yield
    finally:
        if saved is not None:
            os.environ["CELERY_BROKER_URL"] = saved
        _reset_producers()


def _reset_producers() -> None:
    """Drop pooled broker connections so the next publish connects to the current URL."""
    kombu.pools.reset()
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


def test_the_broker_down_at_intake_loses_nothing(people, tmp_path: Path) -> None:
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with broker(url):
        # Intake does not wait for the dead broker (one quick retry, then the sweeper's turn).
        order = take_in_one(order_text([line_for(p) for p in people[1:4]]))
        stored = PaymentOrder.objects.get(pk=order.pk)
        assert (stored.status, stored.queued_at) == (OrderStatus.RECEIVED, None)
        assert bytes(stored.file.raw).startswith(b"{1:")
        # Redis comes back; a worker starts; the sweeper queues what was never queued.
        redis_dir = tmp_path / "redis"
        redis_dir.mkdir()
        redis = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(redis_dir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until(lambda: _answers(port))
            os.environ["CELERY_BROKER_URL"] = url
            worker = start_celery_worker(connection.settings_dict["NAME"], tmp_path / "w.log", broker_url=url)
            try:
                PaymentOrder.objects.filter(pk=order.pk).update(created_at=stored.created_at - timedelta(minutes=5))
                assert sweep_orders(actor=ACTOR) == 1
                wait_until(lambda: final(order.pk), describe=worker.output)
            finally:
                _kill_tree(worker)
        finally:
            redis.terminate()
            redis.wait(timeout=10)
    assert PaymentOrder.objects.get(pk=order.pk).status == OrderStatus.POSTED
    assert LedgerEntry.objects.filter(order_id=order.pk).count() == 3


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def order_row_locked(order_id: int) -> Iterator[psycopg.Connection]:
    """Hold the order's row lock from another connection: a worker claiming it waits."""
    other = _connect()
    try:
        other.execute("SELECT 1 FROM contributions_paymentorder WHERE id = %s FOR UPDATE", [order_id])
        yield other
    finally:
        other.rollback()
        other.close()


def claims_waiting(order_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND query ILIKE %s AND query ILIKE %s",
            ["%FOR UPDATE OF o%", "%contributions_paymentorder%"],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def test_one_order_delivered_to_two_workers_at_once_posts_once(people, tmp_path: Path) -> None:
    """Two worker processes receive the same order at the same moment (a redelivery while the
    first still works): the second waits for the first's row lock, then finds the order final."""
    url = private_broker_url()
    with broker(url):
        name = connection.settings_dict["NAME"]
        workers = [start_celery_worker(name, tmp_path / f"w{n}.log", broker_url=url) for n in (1, 2)]
        try:
            (order,) = take_in(order_text([line_for(p) for p in people[1:6]]), process=False)
            with order_row_locked(order.pk):
                process_order_task.delay(order.pk)
                process_order_task.delay(order.pk)
                wait_until(
                    lambda: claims_waiting(order.pk) == 2, describe=lambda: workers[0].output() + workers[1].output()
                )
            wait_until(lambda: final(order.pk))
            marker = take_in_one(order_text([line_for(people[7])], reference="MARK2", number="2"))
            wait_until(lambda: final(marker.pk))
        finally:
            for worker in workers:
                _kill_tree(worker)
    posted = PaymentOrder.objects.get(pk=order.pk)
    assert (posted.status, posted.lines_posted, posted.attempts) == (OrderStatus.POSTED, 5, 1)
    assert LedgerEntry.objects.filter(order_id=order.pk).count() == 5
    both = "".join(w.output() for w in workers)
    assert both.count("contributions.process_order[") >= 2  # each worker received it


def test_a_task_that_meets_an_operational_error_is_retried_and_posts(people, tmp_path: Path) -> None:
    """The worker cannot take the order's lock in time (``lock_timeout``: an ``OperationalError``,
    as when the database is briefly unavailable): Celery retries the task (``autoretry_for``)
    and the retry, on a fresh connection, posts the order once."""
    url = private_broker_url()
    name = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER DATABASE "{name}" SET lock_timeout = 500')
    try:
        with broker(url):
            worker = start_celery_worker(name, tmp_path / "retry.log", broker_url=url)
            try:
                (order,) = take_in(order_text([line_for(p) for p in people[1:4]]), process=False)
                with order_row_locked(order.pk):
                    process_order_task.delay(order.pk)
                    wait_until(lambda: "Retry in" in worker.output(), describe=worker.output)
                    with connection.cursor() as cursor:
                        cursor.execute(f'ALTER DATABASE "{name}" RESET lock_timeout')
                wait_until(lambda: final(order.pk), timeout=90, describe=worker.output)
            finally:
                _kill_tree(worker)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER DATABASE "{name}" RESET lock_timeout')
    assert "LockNotAvailable" in worker.output() or "lock timeout" in worker.output()
    posted = PaymentOrder.objects.get(pk=order.pk)
    assert posted.status == OrderStatus.POSTED
    assert LedgerEntry.objects.filter(order_id=order.pk).count() == 3


def test_the_periodic_sweep_on_a_worker_splits_stored_files_and_queues_orders(
    celery_worker: CeleryWorker, people
) -> None:
    """What beat runs every minute (``contributions.sweep_orders``), run by a real worker: a file
    stored but never split (the process died in between) is split, and its order, never queued,
    is queued and posted."""
    from contributions.models import IncomingFile
    from contributions.services.intake import store_file
    from contributions.tasks import sweep_orders_task

    raw = order_text([line_for(people[20])], reference="SWEPT", number="3").encode()
    stored = store_file(raw=raw, file_name="left.mt102", door="command", actor=ACTOR, received=date(2023, 11, 24))
    IncomingFile.objects.filter(pk=stored.pk).update(created_at=stored.created_at - timedelta(minutes=5))
    sweep_orders_task.delay()
    wait_until(lambda: IncomingFile.objects.get(pk=stored.pk).split_at is not None, describe=celery_worker.output)
    (order,) = PaymentOrder.objects.filter(file_id=stored.pk)
    PaymentOrder.objects.filter(pk=order.pk).update(created_at=order.created_at - timedelta(minutes=5))
    sweep_orders_task.delay()
    wait_until(lambda: final(order.pk), describe=celery_worker.output)
    assert PaymentOrder.objects.get(pk=order.pk).status == OrderStatus.POSTED
