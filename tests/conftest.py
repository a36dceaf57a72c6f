"""Shared fixtures: real PostgreSQL (pytest-django), real Redis and real Celery workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from contributions.models import PaymentOrder

ROOT = Path(__file__).resolve().parent.parent

_XDIST = os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def broker_url_for_this_process() -> str:
    """Each xdist worker gets its own Redis database, so a Celery worker started for one test
    process never takes tasks sent by another (which would run them on the wrong test database)."""
    db = int(_XDIST.removeprefix("gw") or 0) + 1
    return f"redis://127.0.0.1:{os.environ['REDIS_PORT']}/{db}"


def pytest_configure(config: pytest.Config) -> None:
    """The database refuses ``TRUNCATE`` of the audit trail (records.audit_chain), and so the
    flush that empties the database after a test that commits (``transaction=True``). A test
    database is the one place it may be emptied: the flush runs with the session's triggers
    off (``session_replication_role = replica``; the test role is a superuser)."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    if getattr(DatabaseOperations.sql_flush, "flushes_the_audit_trail", False):
        return
    original = DatabaseOperations.sql_flush

    def sql_flush(self: DatabaseOperations, style: Any, tables: Any, **kwargs: Any) -> list[str]:
        statements = original(self, style, tables, **kwargs)
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements

    sql_flush.flushes_the_audit_trail = True  # type: ignore[attr-defined]
    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign,assignment]


@pytest.fixture(scope="session", autouse=True)
def _separate_broker_per_xdist_worker() -> None:
    if not os.environ.get("REDIS_PORT"):
        return
    from django.conf import settings

    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    os.environ["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL = broker_url_for_this_process()


class CeleryWorker:
    """A real ``celery worker`` process on the test database and this test process's Redis db."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_celery_worker(
    database_name: str, log: Path, *, concurrency: int = 1, broker_url: str | None = None
) -> CeleryWorker:

    env = dict(os.environ)
    env["DATABASE_URL"] = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database_name}").geturl()
    env["CELERY_BROKER_URL"] = broker_url or broker_url_for_this_process()
    handle = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "-c", str(concurrency),
         "-n", f"test-{_XDIST}-{os.urandom(3).hex()}@%h", "-Q", "default,orders",
         "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = CeleryWorker(process, log)
    deadline = time.monotonic() + 60
    while "ready." not in worker.output():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Celery worker did not start:\n{worker.output()}")
        time.sleep(0.2)
    return worker


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None, django_db_blocker, tmp_path_factory) -> Iterator[CeleryWorker]:
    from django.db import connection

    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
    worker = start_celery_worker(name, tmp_path_factory.mktemp("celery") / "worker.log")
    yield worker
    worker.process.terminate()
    try:
        worker.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.process.kill()


@contextmanager
def statements_sent() -> Iterator[list[str]]:
    """Every statement sent to PostgreSQL in the block, through Django or straight through psycopg
    (``records.db.bound_cursor`` bypasses Django's query capture)."""
    import psycopg

    sent: list[str] = []
    original = psycopg.Cursor.execute

    def execute(self, query, params=None, **kwargs):
        sent.append(str(query))
        return original(self, query, params, **kwargs)

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.2, describe=None) -> None:
    """Poll ``predicate`` until it is true (a real worker is asynchronous); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    detail = f"\n{describe()}" if describe else ""
    raise AssertionError(f"condition not met within {timeout:.0f} s{detail}")


# --- Actors: one signed-in user per staff role (standards.roles), plus outsiders -----------------


def with_second_factor(user: Any) -> Any:
    """Give a user who needs it (``records.second_factor``) a confirmed TOTP device and mark the
    object signed in with it, as django-otp's middleware does for a request; ``force_login``
    (below) signs a test client in with it too. ``make_user(..., second_factor=False)`` gives a
    user who signed in with the password only."""
    from django.contrib.auth.models import User
    from django_otp.plugins.otp_totp.models import TOTPDevice  # type: ignore[import-untyped]

    from records.second_factor import needs_second_factor

    if needs_second_factor(User.objects.get(pk=user.pk)):  # a fresh object: no permission cache left behind
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="test device", confirmed=True
        )
        user.otp_device = device
    return user


@pytest.fixture(autouse=True)
def _force_login_with_the_second_factor(monkeypatch):
    """``client.force_login(user)`` for a user whose object carries a verified device
    (``with_second_factor``) also signs the session in with that device; a user made elsewhere
    (``create_superuser``) who needs the second factor gets one first. A user of
    ``make_user(..., second_factor=False)`` (``otp_device`` None) signs in with the password only."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY  # type: ignore[import-untyped]

    original = Client.force_login

    def force_login(self, user, backend=None):
        if not hasattr(user, "otp_device"):
            with_second_factor(user)
        original(self, user, backend)
        device = getattr(user, "otp_device", None)
        if device is not None:
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


ROLE_KEYS = ["specialist", "senior_specialist", "head_of_unit", "head_of_service", "auditor"]


@pytest.fixture
def make_user(db):
    """``make_user("auditor")`` -> a user holding that role; ``make_user(None)`` -> no role."""
    from django.contrib.auth.models import User

    from standards.services import role_assign

    counter = {"n": 0}

    def make(role_key: str | None, *, username: str | None = None, second_factor: bool = True) -> User:
        counter["n"] += 1
        user = User.objects.create_user(username or f"{role_key or 'norole'}-{counter['n']}", password="pw-123456789")
        if role_key is not None:
            root = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
                f"root-{counter['n']}", password="pw-123456789"
            )
            role_assign(user_id=user.pk, role_key=role_key, actor=root)
            user.refresh_from_db()
        if second_factor:
            with_second_factor(user)
        else:
            user.otp_device = None  # type: ignore[attr-defined]  # force_login: the password only
        return user

    return make


@pytest.fixture
def specialist(make_user):
    return make_user("specialist")


@pytest.fixture
def senior_specialist(make_user):
    return make_user("senior_specialist")


@pytest.fixture
def head_of_unit(make_user):
    return make_user("head_of_unit")


@pytest.fixture
def head_of_service(make_user):
    return make_user("head_of_service")


@pytest.fixture
def auditor(make_user):
    return make_user("auditor")


@pytest.fixture
def participant(db):
    from datetime import date

    from records.services import Actor, participant_create

    return participant_create(
        iin="791028302728",
        actor=Actor(label="test"),
        source="test",
        last_name="ИВАНОВ",
        first_name="ИВАН",
        patronymic="ИВАНОВИЧ",
        birth_date=date(1979, 10, 28),
        gender="M",
    )


# --- Payment orders -----------------------------------------------------------------------------

PAYER = "150540012348"  # a fictional BIN with a valid check digit


@pytest.fixture
def people(db):
    """A small synthetic state registry (and nothing else): 30 people, the first one deceased
    on 2023-06-10."""
    from dataclasses import replace
    from datetime import date

    from records.registry import registry_load_snapshot
    from records.services import Actor
    from records.synthetic import registry_csv, synthetic_people

    population = list(synthetic_people(30, seed=11))
    population[0] = replace(population[0], death_date=date(2023, 6, 10))
    registry_load_snapshot(raw=registry_csv(population), file_name="people.csv", actor=Actor(label="test"))
    return population


def line_for(person, *, amount: str = "7000,00", period: str = "102023", **changes):
    from contributions.synthetic import LineSpec

    spec = {
        "iin": person.iin,
        "last_name": person.last_name,
        "first_name": person.first_name,
        "patronymic": person.patronymic,
        "birth_date": person.birth_date,
        "period": period,
        "amount": amount,
    }
    spec.update(changes)
    return LineSpec(**spec)


RECEIVED = "2023-11-24"  # the receipt date of the test orders (a working day the calendar holds)


def take_in(
    raw: str | bytes, *, name: str = "o.mt102", door: str = "command", process: bool = True, enqueue: bool = False
) -> list[PaymentOrder]:
    """The one way tests take a file in: through ``intake_file`` like every door, received on
    ``RECEIVED``; with ``process`` each open order is processed in this process (no worker).
    Returns the file's orders as stored afterwards, in file order."""
    from datetime import date

    from contributions.models import OrderStatus, PaymentOrder
    from contributions.services import intake_file, process_order
    from records.services import Actor

    actor = Actor(label="test")
    raw = raw.encode() if isinstance(raw, str) else raw
    result = intake_file(
        raw=raw, file_name=name, door=door, actor=actor, received=date.fromisoformat(RECEIVED), enqueue=enqueue
    )
    if process:
        for order in result.orders:
            if order.status == OrderStatus.RECEIVED:
                process_order(order_id=order.pk, actor=actor)
    return list(PaymentOrder.objects.filter(pk__in=[o.pk for o in result.orders]).order_by("position"))


def order_text(lines, *, reference: str = "SO231124000009", number: str = "501", **kwargs) -> str:
    from datetime import date

    from contributions.synthetic import mt102_message

    kwargs.setdefault("document_date", date(2023, 11, 24))
    kwargs.setdefault("payer_idn", PAYER)
    return mt102_message(reference=reference, number=number, lines=lines, **kwargs)


@pytest.fixture
def sample(participant, people):  # URL kwargs of sample objects, by URL name
    """One processed order with a returned line, a ledger entry and a registered refund."""
    from datetime import date
    from decimal import Decimal

    from django.contrib.auth.models import User

    from contributions.models import LedgerEntry
    from contributions.services import intake_file, process_order, refund_register
    from records.services import Actor
    from tests.conftest import line_for, order_text

    text = order_text([line_for(people[1]), line_for(people[2], iin="850615300012")])
    result = intake_file(raw=text.encode(), file_name="o.mt102", door="command", actor=Actor(label="test"))
    order = result.orders[0]
    process_order(order_id=order.pk, actor=Actor(label="test"))
    order.refresh_from_db()
    entry = LedgerEntry.objects.get(order=order)
    registrar = User.objects.create_superuser("registrar", password="x")
    refund = refund_register(
        entry_id=entry.pk,
        amount=Decimal("1.00"),
        request_number="R",
        request_date=date(2023, 12, 1),
        reason="r",
        actor=registrar,
    )
    return {
        "participant_detail": {"pk": participant.pk},
        "api_participant_detail": {"iin": participant.iin},
        "order_detail": {"pk": order.pk},
        "order_resolve": {"pk": order.pk},
        "return_document_download": {"pk": order.return_document.pk, "fmt": "csv"},
        "incoming_file_download": {"pk": order.file_id},
        "payer_detail": {"idn": order.payer_idn},
        "refund_new": {"entry_id": entry.pk},
        "refund_decide": {"pk": refund.pk},
        "api_order_detail": {"pk": order.pk},
        "api_return_document": {"pk": order.pk, "fmt": "csv"},
    }


@pytest.fixture(autouse=True)
def _an_empty_cache():
    """Each test starts from an empty cache (the test settings' is the process's memory): a
    dashboard kept by one test (``payments.selectors.dashboard``) is not another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _english_by_default():
    """Service messages are translated with the active language; tests read them in English
    unless a test switches language itself (the default LANGUAGE_CODE is kk)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def payments_sample(people, make_user):
    """Issue 17's sample objects, built through the services on an account the real pipeline
    posted: a disability recipient with an approved assignment in force (and a case document,
    a change record and an open recalculation proposal), and a second recipient with a decision
    submitted for verification."""
    from datetime import date

    from payments.models import DecisionProposal
    from payments.services import (
        case_document_add,
        decision_approve,
        decision_draft,
        decision_submit,
        decision_verify,
        recipient_change_items,
        recipient_register,
    )

    drafter, verifier, approver = make_user("specialist"), make_user("senior_specialist"), make_user("head_of_unit")
    for person in (people[7], people[8]):
        lines = []
        for k in range(24):
            year, month = 2021 + (11 + k) // 12, (11 + k) % 12 + 1
            lines.append(line_for(person, period=f"{month:02d}{year}"))
        take_in(order_text(lines, reference=f"S{person.iin[-4:]}"))
    recipient = recipient_register(
        iin=people[7].iin,
        payment_type="0702",
        application_date=date(2023, 12, 20),
        risk_date=date(2023, 12, 15),
        loss_degree=60,
        actor=drafter,
    )
    document = case_document_add(
        recipient_id=recipient.pk,
        kind="application",
        number="A-1",
        issued_on=date(2023, 12, 20),
        file_name="application.pdf",
        content=b"%PDF-1.4\n% sample\n",
        actor=drafter,
    )
    recipient_change_items(
        recipient_id=recipient.pk,
        changes={"loss_degree": 50},
        changed_on=date(2023, 12, 21),
        reason="МСЭ",
        actor=drafter,
    )
    assigned = decision_draft(recipient_id=recipient.pk, kind="assign", actor=drafter)
    decision_submit(decision_id=assigned.pk, actor=drafter)
    decision_verify(decision_id=assigned.pk, actor=verifier)
    decision_approve(decision_id=assigned.pk, actor=approver)
    proposal = DecisionProposal.objects.create(recipient=recipient, kind="recalculate", reason="contributions")
    other = recipient_register(
        iin=people[8].iin,
        payment_type="0703",
        application_date=date(2023, 12, 20),
        risk_date=date(2023, 12, 18),
        unemployed_registered_on=date(2023, 12, 18),
        actor=drafter,
    )
    submitted = decision_draft(recipient_id=other.pk, kind="assign", actor=drafter)
    decision_submit(decision_id=submitted.pk, actor=drafter)
    # Issue 18: January 2024 paid to the recipient's account, released and its list confirmed.
    from payments.services.bank_accounts import bank_account_add
    from payments.services.confirmations import confirmation_take_in
    from payments.services.runs import build_run, run_approve, run_start
    from records.identifiers import make_kz_iban
    from records.services import Actor

    bank_account_add(
        recipient_id=recipient.pk,
        bic="HSBKKZKX",
        iban=make_kz_iban("601", "0000000000042"),
        valid_from=date(2023, 12, 1),
        reason="application",
        actor=drafter,
    )
    run, _created = run_start(month=date(2024, 1, 1), actor=drafter)
    build_run(run_id=run.pk, actor=Actor(label="test"))
    run = run_approve(run_id=run.pk, actor=make_user("head_of_service"))
    payment_list = run.lists.get()
    payment = payment_list.payments.get()
    confirmation = confirmation_take_in(
        raw=f"list;line;iin;amount;status;reason\n{payment_list.number};1;{people[7].iin};{payment.net};not_credited;closed\n".encode(),
        file_name="halyk.csv",
        actor=drafter,
    )
    recipient.refresh_from_db()
    from payments.services.reports import report_generate  # issue 19: January's report, a draft

    report = report_generate(month=date(2024, 1, 1), actor=drafter)
    return {
        "report": report,
        "recipient": recipient,
        "document": document,
        "approved": assigned,
        "proposal": proposal,
        "other": other,
        "submitted": submitted,
        "drafter": drafter,
        "run": run,
        "list": payment_list,
        "confirmation": confirmation.file,
    }
