"""The staff pages and API reads at national scale: the data builder and the measuring code of
``manage.py bench_pages`` (issue 16).

A page that is fast on the quick start's 300 participants may read every row of a table: only
a database of the real size shows it. So the builder fills a throwaway database, set-based
(``INSERT … SELECT generate_series``, no Python per row), with what a national register holds at
about the size asked: participants with valid IINs and skewed surnames, payment orders of about
100 lines from a few thousand payers over two years, their lines and one ledger entry per posted
line, a few heavy participants with 2 000 entries each, return documents, incoming files, refunds
and access-log rows. The measuring code then times each page in-process with Django's test
client and counts its queries, on that database and on one of 1/100 the size: a page whose time
grows with the data, or whose query count does, is the finding.

Everything is derived from the row number by fixed formulas and PostgreSQL's ``hashint8extended``,
so two runs of the same size build the same rows.
"""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import psycopg
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from records.audit_chain import install_key_on
from records.identifiers import FIRST_PASS_WEIGHTS, SECOND_PASS_WEIGHTS, is_valid_iin_bin, make_bin
from records.synthetic import FEMALE_FIRST, MALE_FIRST, PATRONYMIC_ROOTS

Log = Callable[[str], None]

# --- The shape of the data --------------------------------------------------------------------

HEAVY_ENTRIES = 2_000  # entries of each heavy participant (many employers over many years)
PARTICIPANTS_PER_HEAVY = 10_000  # one heavy participant per 10 000
LINES_PER_ORDER = 100
ORDERS_PER_FILE = 10
ORDERS_PER_PAYER = 30  # ~3 300 payers for 100 000 orders
ORDERS_PER_OPEN = 250  # orders still received or waiting for review, the newest ones
ENTRIES_PER_ACCESS_ROW = 10  # the log grows with every page read: a million rows at full size
ORDERS_PER_REFUND = 300
REFUNDS_AT_LEAST = 60  # more than a page of the refund list (50) at every size, so both show a full page
PARTIAL_RETURN_EVERY = 12  # every 12th order returned 1-3 lines and has a return document
API_FILE_EVERY = 5  # every 5th file came through the API from the machine account
PENALTY_EVERY = 20  # every 20th order pays penalties (KNP 017)
RARE_EVERY = 5_000  # one participant in 5 000 carries the rare surname (at least one at any size)
SMALL_DIVISOR = 100
SPAN_SECONDS = 730 * 86_400  # orders spread over two years from START
START = "2024-01-01 09:00:00+05"
CHUNK = 1_000_000  # posted lines and entries inserted (and committed) this many at a time

# Surnames and their weights: a Zipf-like skew, so that some prefixes match a fifth of the
# register ("АХ": АХМЕТОВ, АХМЕДОВ) and others almost nobody ("ЩЕ": only the rare surname).
SURNAMES = (
    ("АХМЕТОВ", 1500), ("ЖУМАБАЕВ", 800), ("ИВАНОВ", 600), ("НУРЛАНОВ", 550), ("СЕРИКОВ", 500),
    ("АХМЕДОВ", 450), ("ОМАРОВ", 420), ("КИМ", 380), ("ТОКТАРОВ", 350), ("САТПАЕВ", 330),
    ("ИСМАИЛОВ", 300), ("ПЕТРОВ", 280), ("АБДРАХМАНОВ", 260), ("КАСЫМОВ", 250), ("СМАГУЛОВ", 230),
    ("БАЙМУХАНОВ", 210), ("ЕСЕНОВ", 200), ("КУАНЫШЕВ", 190), ("МУКАНОВ", 180), ("ТУРСУНОВ", 170),
    ("СУЛЕЙМЕНОВ", 160), ("КОЗЛОВ", 150), ("ЖАКСЫЛЫКОВ", 140), ("НУРГАЛИЕВ", 130), ("БЕКОВ", 120),
    ("ДЮСЕНОВ", 110), ("КАЛИЕВ", 100), ("СМИРНОВ", 95), ("ОСПАНОВ", 90), ("УТЕГЕНОВ", 85),
    ("ӘБІЛҚАСЫМОВ", 80), ("ТОҚТАРОВ", 75), ("ВОЛКОВ", 70), ("ЕРМЕКОВ", 65), ("ЦОЙ", 60),
    ("ШАЙМЕРДЕНОВ", 55), ("ГРИГОРЬЕВ", 50), ("ЮСУПОВ", 45), ("ФЕДОРОВ", 40), ("ЯКОВЛЕВ", 35),
    ("ХАСЕНОВ", 30), ("ЭЛЬДАРОВ", 25), ("ҚҰНАНБАЕВ", 20), ("ЗАЙЦЕВ", 15), ("ЛИ", 10),
)  # fmt: skip
RARE_SURNAME = "ЩЕРБАКОВ"
COMMON_PREFIX = "АХ"
RARE_PREFIX = "ЩЕ"


def _female(surname: str) -> str:
    return surname + "А" if surname.endswith(("ОВ", "ЕВ", "ИН")) else surname


@dataclass(frozen=True)
class Shape:
    """How many rows of each kind one database gets, all derived from the participants and the
    ledger entries asked for (linear in both)."""

    participants: int
    entries: int
    heavy: int
    heavy_entries: int
    orders: int
    open_orders: int
    payers: int
    files: int
    access_rows: int
    refunds: int

    @classmethod
    def of(cls, *, participants: int, entries: int) -> Shape:
        """Linear in both, with at least one of everything (REFUNDS_AT_LEAST refunds); each heavy
        participant has ``HEAVY_ENTRIES`` entries, fewer only when they would take more than half
        of all entries (tiny test sizes)."""
        heavy = max(1, participants // PARTICIPANTS_PER_HEAVY)
        orders = max(1, entries // LINES_PER_ORDER)
        return cls(
            participants=participants,
            entries=entries,
            heavy=heavy,
            heavy_entries=max(1, min(HEAVY_ENTRIES, entries // (2 * heavy))),
            orders=orders,
            open_orders=max(1, orders // ORDERS_PER_OPEN) if orders > 1 else 0,
            payers=max(2, orders // ORDERS_PER_PAYER),
            files=-(-orders // ORDERS_PER_FILE),
            access_rows=max(1, entries // ENTRIES_PER_ACCESS_ROW),
            refunds=max(REFUNDS_AT_LEAST, orders // ORDERS_PER_REFUND),
        )

    @property
    def posting_orders(self) -> int:
        """Orders 0 … posting_orders-1 are final and carry every ledger entry; the rest are open."""
        return self.orders - self.open_orders

    @property
    def open_lines(self) -> int:
        return max(1, min(LINES_PER_ORDER, self.entries // self.orders))

    @property
    def stride(self) -> int:
        """Every ``stride``-th entry (up to heavy × heavy_entries of them) is a heavy participant's."""
        return self.entries // (self.heavy * self.heavy_entries)

    @property
    def typical_mean(self) -> float:
        return (self.entries - self.heavy * self.heavy_entries) / (self.participants - self.heavy)


# --- SQL expressions shared by the statements below ---------------------------------------------


def _h(expr: str, seed: int, modulus: int) -> str:
    """A deterministic pseudo-random integer in [0, modulus) for the integer ``expr``."""
    return f"((hashint8extended(({expr})::bigint, {seed}) & 9223372036854775807) % {modulus})"


def _check_digit(first11: str) -> str:
    """The IIN/BIN check digit of an 11-digit number in SQL (``records.identifiers.check_digit``),
    NULL when no number is issued with these 11 digits."""
    digits = [f"(({first11}) / {10 ** (10 - i)} % 10)" for i in range(11)]
    first = " + ".join(f"{d} * {w}" for d, w in zip(digits, FIRST_PASS_WEIGHTS, strict=True))
    second = " + ".join(f"{d} * {w}" for d, w in zip(digits, SECOND_PASS_WEIGHTS, strict=True))
    return f"CASE WHEN ({first}) % 11 < 10 THEN ({first}) % 11 WHEN ({second}) % 11 < 10 THEN ({second}) % 11 END"


def _created(o: str, shape: Shape) -> str:
    """When order number ``o`` (0-based, in id order) was taken in: evenly over two years."""
    return f"(timestamptz '{START}' + make_interval(secs => (({o})::bigint * {SPAN_SECONDS} / {shape.orders})::float8))"


def _order_of(j: str, shape: Shape) -> str:
    """The (0-based) order of posted line ``j``: the entries split evenly over the posting orders."""
    return f"(({j}) * {shape.posting_orders} / {shape.entries})"


def _first_of(o: str, shape: Shape) -> str:
    return f"((({o}) * {shape.entries} + {shape.posting_orders} - 1) / {shape.posting_orders})"


def _participant_of(j: str, shape: Shape) -> str:
    """The participant of posted line ``j``: heavy ones (ids 1 … heavy) on every ``stride``-th
    line, the others scattered over the typical participants."""
    heavy_lines = shape.heavy * shape.heavy_entries
    return (
        f"CASE WHEN ({j}) % {shape.stride} = 0 AND ({j}) / {shape.stride} < {heavy_lines} "
        f"THEN 1 + (({j}) / {shape.stride}) % {shape.heavy} "
        f"ELSE {shape.heavy + 1} + {_h(j, 11, shape.participants - shape.heavy)} END"
    )


def _typical(expr: str, seed: int, shape: Shape) -> str:
    return f"({shape.heavy + 1} + {_h(expr, seed, shape.participants - shape.heavy)})"


def _amount(j: str) -> str:
    return f"(3000 + (({j}) * 37) % 9000 + (({j}) * 13) % 100 / 100.0)::numeric(16, 2)"


def _returned_amount(o: str, k: str) -> str:
    return f"(1000 + ((({o}) * 3 + ({k})) * 53) % 4000)::numeric(16, 2)"


def _open_amount(o: str, k: str) -> str:
    return f"(2000 + ((({o}) * 7 + ({k})) * 41) % 6000)::numeric(16, 2)"


def _partial(o: str) -> str:
    return f"(({o}) % {PARTIAL_RETURN_EVERY} = {PARTIAL_RETURN_EVERY - 1})"


# --- The throwaway databases ----------------------------------------------------------------


def connect(dbname: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A psycopg connection to ``dbname`` on the configured server, as Django connects (the audit
    trail's key included: without it the database refuses access-log rows, records.audit_chain)."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = dbname
    conn = psycopg.connect(**params, autocommit=autocommit)
    install_key_on(conn)
    return conn


def create_database(admin: psycopg.Connection, name: str, *, template: str | None = None) -> None:
    clause = f' TEMPLATE "{template}"' if template else ""
    admin.execute(f'CREATE DATABASE "{name}"{clause}'.encode())


def drop_database(admin: psycopg.Connection, name: str) -> None:
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def migrate(name: str, root: Path) -> None:
    """``manage.py migrate`` into ``name`` in a process of its own, as ``bench_ingest`` does (the
    roles' groups are built after it by ``sync_roles``)."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise BenchError("DATABASE_URL is not set: the benchmark creates its databases beside the configured one.")
    env = {
        **os.environ,
        "DATABASE_URL": urlsplit(url)._replace(path=f"/{name}").geturl(),
        "DJANGO_ENV_FILE": "",
        "EMBEDDED_PGDATA": "",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=root, env=env, check=True)


@contextmanager
def django_on(name: str) -> Iterator[None]:
    """Point Django's default connection at database ``name`` for the block."""
    settings_dict = connection.settings_dict
    before = settings_dict["NAME"]
    use_database(name)
    try:
        yield
    finally:
        use_database(before)


def use_database(name: str) -> None:
    if connection.settings_dict["NAME"] == name:
        return
    connections["default"].close()
    connection.settings_dict["NAME"] = name
    settings.DATABASES["default"]["NAME"] = name


class BenchError(Exception):
    """The benchmark cannot go on: the message says what failed and where."""


# --- Staff ----------------------------------------------------------------------------------

# Who requests what: actor -> role key (standards.roles).
ROLES = {"specialist": "specialist", "head": "head_of_unit", "auditor": "auditor", "api": "api_client"}


@dataclass(frozen=True)
class Staff:
    ids: dict[str, int]  # actor -> user id
    usernames: dict[str, str]
    tokens: dict[str, str]  # actor -> API token key


def create_staff() -> Staff:
    """One user per role the pages need, given the role the way heads give it
    (``standards.services.role_assign``), with unusable passwords: the client signs in with
    ``force_login``. The machine account and the specialist get API tokens (the API role cannot
    read participants: only staff tokens can)."""
    from rest_framework.authtoken.models import Token

    from standards.services import role_assign

    root = User.objects.create_superuser("bench-admin", email=None, password=None)
    ids, usernames = {}, {}
    for actor, role in ROLES.items():
        user = User.objects.create_user(f"bench-{actor}", password=None)
        role_assign(user_id=user.pk, role_key=role, actor=root)
        ids[actor], usernames[actor] = user.pk, user.get_username()
    tokens = {actor: Token.objects.create(user_id=ids[actor]).key for actor in ("api", "specialist")}
    return Staff(ids=ids, usernames=usernames, tokens=tokens)


# --- The builder --------------------------------------------------------------------------------

# Tables whose secondary indexes are dropped during the load and built again after it (one sort
# is much cheaper than millions of random index insertions); constraint indexes stay.
INDEXED_TABLES = (
    "records_participant",
    "contributions_paymentorder",
    "contributions_orderline",
    "contributions_ledgerentry",
    "records_accesslog",
)
LOADED_TABLES = (
    "records_participant",
    "contributions_incomingfile",
    "contributions_paymentorder",
    "contributions_orderline",
    "contributions_ledgerentry",
    "contributions_returndocument",
    "contributions_refund",
    "records_accesslog",
)
# The columns each INSERT below writes: checked against the migrated schema before loading, so a
# new NOT NULL column without a database default fails with its name, not deep in a statement.
WRITTEN = {
    "records_participant": "id iin last_name first_name patronymic birth_date gender death_date address postal_code "
    "id_document_series id_document_number id_document_issued_on id_document_issuer citizenship created_at updated_at",
    "contributions_incomingfile": "id door file_name raw sha256 size encoding received submitted_by_id "
    "submitted_label created_at split_at",
    "contributions_paymentorder": "id file_id position first_line reference number document_date payer_idn "
    "payer_name payer_account payer_bic payee_idn payee_bic payee_account knp value_date total received deadline "
    "status is_original key content_sha256 duplicate_of_id lines_total lines_posted lines_returned amount_lines "
    "amount_posted amount_returned errors queued_at started_at finished_at attempts deadline_flag flagged_at "
    "resolved_by_id resolution_note created_at",
    "contributions_orderline": "id order_id sequence file_line iin last_name first_name patronymic birth_date "
    "period period_text amount status reason",
    "contributions_ledgerentry": "id participant_id period kind amount payer_idn order_id line_id received "
    "posted_at corrects_id",
    "contributions_returndocument": "id order_id number lines_count total created_at",
    "contributions_refund": "id entry_id amount payer_idn request_number request_date reason status "
    "registered_by_id registered_at decided_by_id decided_at decision_note posted_entry_id version",
    "records_accesslog": "id user_id actor_label at kind participant_id view query row_count ip_address",
}


@dataclass
class Build:
    seconds: float
    phases: dict[str, float]
    triggers_skipped: bool


def build(name: str, shape: Shape, staff: Staff, log: Log) -> Build:
    """Fill database ``name`` (migrated, with ``staff`` in it) to ``shape``, then build the
    dropped indexes again and ``VACUUM ANALYZE`` what was loaded (index-only scans need the
    visibility map, the planner needs statistics)."""
    phases: dict[str, float] = {}
    started = time.perf_counter()
    with connect(name) as conn:
        _check_columns(conn)
        conn.execute("SET work_mem = '512MB'")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        triggers_skipped = _skip_triggers(conn)
        dropped = _drop_secondary_indexes(conn)
        _lookup_tables(conn, shape)

        def phase(label: str, *statements: str) -> None:
            clock = time.perf_counter()
            for statement in statements:
                conn.execute(statement.encode())
            phases[label] = round(time.perf_counter() - clock, 2)
            log(f"  {label}: {phases[label]} s")

        phase("participants", _participants_sql(shape))
        phase("files_and_orders", _files_sql(shape, staff), _orders_sql(shape))
        chunks = range(0, shape.entries, CHUNK)
        phase("posted_lines", *(_posted_lines_sql(shape, a, min(a + CHUNK, shape.entries) - 1) for a in chunks))
        _advance_sequences(conn, ["contributions_orderline"])  # the other lines take ids after them
        phase("other_lines", _returned_lines_sql(shape), _open_lines_sql(shape))
        phase("entries", *(_entries_sql(shape, a, min(a + CHUNK, shape.entries) - 1) for a in chunks))
        phase("other_rows", _return_documents_sql(), _refunds_sql(shape, staff), _access_log_sql(shape, staff))
        _advance_sequences(conn, LOADED_TABLES)  # the app's own inserts (the access log) come after
        phase("indexes", *(definition for _, definition in dropped))
        phase("vacuum_analyze", *(f"VACUUM (ANALYZE) {table}" for table in LOADED_TABLES))
    return Build(seconds=round(time.perf_counter() - started, 1), phases=phases, triggers_skipped=triggers_skipped)


def _advance_sequences(conn: psycopg.Connection, tables: Sequence[str]) -> None:
    """Rows inserted with explicit ids leave the identity sequence behind: move it past them."""
    for table in tables:
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))".encode())


def _check_columns(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
        " AND table_name = ANY(%s) AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
        [list(WRITTEN)],
    ).fetchall()
    missing = sorted(f"{table}.{column}" for table, column in rows if column not in WRITTEN[table].split())
    if missing:
        raise BenchError(f"the builder does not write these NOT NULL columns (add them to its INSERTs): {missing}")


def _skip_triggers(conn: psycopg.Connection) -> bool:
    """Row-history and foreign-key triggers off for this session when the role may (a
    superuser): the builder writes consistent rows, and the triggers would double the load.
    Otherwise they run, and the load is slower."""
    try:
        conn.execute("SET session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        return False
    return True


def _drop_secondary_indexes(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """Drop the indexes of INDEXED_TABLES that no constraint uses; returns (name, definition) to
    build them again, whatever indexes the migrations made."""
    dropped = []
    for table in INDEXED_TABLES:
        rows = conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
            [table],
        ).fetchall()
        for index, definition in rows:
            conn.execute(f"DROP INDEX {index}".encode())
            dropped.append((index, definition))
    return dropped


def _lookup_tables(conn: psycopg.Connection, shape: Shape) -> None:
    """Temporary lookup tables the statements join: weighted surname slots, first names,
    patronymic roots and the payers (BINs with valid check digits)."""
    conn.execute("CREATE TEMPORARY TABLE bench_surname (slot int PRIMARY KEY, male text, female text)")
    conn.execute("CREATE TEMPORARY TABLE bench_first (male bool, slot int, name text, PRIMARY KEY (male, slot))")
    conn.execute("CREATE TEMPORARY TABLE bench_patronymic (slot int PRIMARY KEY, root text)")
    conn.execute("CREATE TEMPORARY TABLE bench_payer (idx int PRIMARY KEY, bin text, name text)")
    with conn.cursor() as cursor:
        with cursor.copy("COPY bench_surname (slot, male, female) FROM STDIN") as copy:
            slot = 0
            for surname, weight in SURNAMES:
                for _ in range(weight):
                    copy.write_row((slot, surname, _female(surname)))
                    slot += 1
        with cursor.copy("COPY bench_first (male, slot, name) FROM STDIN") as copy:
            for male, names in ((True, MALE_FIRST), (False, FEMALE_FIRST)):
                for slot, first in enumerate(names):
                    copy.write_row((male, slot, first))
        with cursor.copy("COPY bench_patronymic (slot, root) FROM STDIN") as copy:
            for slot, root in enumerate(PATRONYMIC_ROOTS):
                copy.write_row((slot, root))
        with cursor.copy("COPY bench_payer (idx, bin, name) FROM STDIN") as copy:
            for idx, bin_ in enumerate(payer_bins(shape.payers)):
                copy.write_row((idx, bin_, f'ТОО "ПЛАТЕЛЬЩИК {idx + 1}"'))
    conn.execute("ANALYZE bench_surname, bench_first, bench_patronymic, bench_payer")


def payer_bins(count: int) -> list[str]:
    rng = random.Random(16)  # noqa: S311 - synthetic BINs, reproducible
    bins: dict[str, None] = {}
    while len(bins) < count:
        bins[make_bin(date(2000 + rng.randrange(25), 1 + rng.randrange(12), 1), rng=rng)] = None
    return list(bins)


SLOTS = sum(weight for _, weight in SURNAMES)
BIRTH_DAYS = (date(2006, 12, 31) - date(1950, 1, 1)).days + 1


def _participants_sql(shape: Shape) -> str:
    """Participants 1 … N: birth dates over 1950-2006, men and women in turn, the century and sex
    digit, a serial unique per birth date and sex, and the check digit; 11-digit prefixes that no
    IIN may have are skipped. Heavy participants are ids 1 … heavy; every RARE_EVERY-th has the
    rare surname."""
    candidates = shape.participants + shape.participants // 50 + 100
    return f"""
    WITH candidate AS (
        SELECT n, date '1950-01-01' + (n % {BIRTH_DAYS})::int AS birth,
               (n / {BIRTH_DAYS} + n % {BIRTH_DAYS}) % 2 = 0 AS male,
               ((n / {BIRTH_DAYS} / 2) * 7919 + (n % {BIRTH_DAYS}) * 31) % 10000 AS serial
        FROM generate_series(0, {candidates}::bigint) AS n
    ), numbered AS (
        SELECT n, birth, male,
               to_char(birth, 'YYMMDD')::bigint * 100000
               + (CASE WHEN birth < date '2000-01-01' THEN 3 ELSE 5 END + CASE WHEN male THEN 0 ELSE 1 END) * 10000
               + serial AS first11
        FROM candidate
    ), valid AS (
        SELECT n, birth, male, first11, {_check_digit("first11")} AS check_digit FROM numbered
    ), chosen AS (
        SELECT row_number() OVER (ORDER BY n) AS id, birth, male,
               lpad((first11 * 10 + check_digit)::text, 12, '0') AS iin
        FROM (SELECT * FROM valid WHERE check_digit IS NOT NULL ORDER BY n LIMIT {shape.participants}) AS v
    )
    INSERT INTO records_participant ({_columns("records_participant")})
    SELECT c.id, c.iin,
           CASE WHEN c.id % {RARE_EVERY} = 2
                THEN CASE WHEN c.male THEN '{RARE_SURNAME}' ELSE '{_female(RARE_SURNAME)}' END
                WHEN c.male THEN s.male ELSE s.female END,
           f.name,
           CASE WHEN {_h("c.id", 3, 10)} = 0 THEN '' ELSE p.root || CASE WHEN c.male THEN 'ОВИЧ' ELSE 'ОВНА' END END,
           c.birth, CASE WHEN c.male THEN 'M' ELSE 'F' END, NULL, '', '', '', '', NULL, '', '', now(), now()
    FROM chosen AS c
    JOIN bench_surname AS s ON s.slot = {_h("c.id", 1, SLOTS)}
    JOIN bench_first AS f ON f.male = c.male AND f.slot = {_h("c.id", 2, min(len(MALE_FIRST), len(FEMALE_FIRST)))}
    JOIN bench_patronymic AS p ON p.slot = {_h("c.id", 4, len(PATRONYMIC_ROOTS))}
    """


def _files_sql(shape: Shape, staff: Staff) -> str:
    """One small file per ORDERS_PER_FILE orders; every API_FILE_EVERY-th from the machine account."""
    api, specialist = staff.ids["api"], staff.ids["specialist"]
    return f"""
    INSERT INTO contributions_incomingfile ({_columns("contributions_incomingfile")})
    SELECT f + 1, CASE WHEN api THEN 'api' ELSE 'upload' END, 'bench-' || lpad(f::text, 7, '0') || '.mt102',
           raw, encode(sha256(raw), 'hex'), length(raw), 'utf-8', (created AT TIME ZONE 'Asia/Almaty')::date,
           CASE WHEN api THEN {api} ELSE {specialist} END,
           CASE WHEN api THEN '{staff.usernames["api"]}' ELSE '{staff.usernames["specialist"]}' END,
           created, created + interval '2 seconds'
    FROM (
        SELECT f, f % {API_FILE_EVERY} = 0 AS api, {_created(f"f * {ORDERS_PER_FILE}", shape)} AS created,
               convert_to('{{4:' || chr(10) || ':20:BENCH' || f || chr(10) || '-}}', 'UTF8') AS raw
        FROM generate_series(0, {shape.files - 1}::bigint) AS f
    ) AS x
    """


def _orders_sql(shape: Shape) -> str:
    """The orders with their totals (computed from the same formulas as their lines): final ones
    first (posted, every PARTIAL_RETURN_EVERY-th partially returned), then the open ones, the
    newest, alternately received and needing review. Payers by a cubic skew: the first payer
    sends ~7% of all orders at full size, most send a handful."""
    q, per_open = shape.posting_orders, shape.open_lines
    return f"""
    WITH posted AS (
        SELECT {_order_of("j", shape)} AS o, count(*) AS n, sum({_amount("j")}) AS amount
        FROM generate_series(0, {shape.entries - 1}::bigint) AS j GROUP BY 1
    ), returned AS (
        SELECT o, count(*) AS n, sum({_returned_amount("o", "k")}) AS amount
        FROM generate_series(0, {q - 1}::bigint) AS o CROSS JOIN LATERAL generate_series(1, 1 + o % 3) AS k
        WHERE {_partial("o")} GROUP BY o
    ), opened AS (
        SELECT o, count(*) AS n, sum({_open_amount("o", "k")}) AS amount
        FROM generate_series({q}, {shape.orders - 1}::bigint) AS o CROSS JOIN generate_series(1, {per_open}) AS k
        GROUP BY o
    ), timed AS (
        SELECT o, {_created("o", shape)} AS created_at,
               CASE WHEN o >= {q} THEN CASE WHEN (o - {q}) % 2 = 0 THEN 'received' ELSE 'needs_review' END
                    WHEN {_partial("o")} THEN 'partially_returned' ELSE 'posted' END AS status,
               floor({shape.payers} * power({_h("o", 7, 1_000_000)} / 1e6, 3))::int AS payer
        FROM generate_series(0, {shape.orders - 1}::bigint) AS o
    ), shaped AS (
        SELECT t.*, (t.created_at AT TIME ZONE 'Asia/Almaty')::date AS received,
               'BP' || lpad((t.o + 1)::text, 12, '0') AS reference, ((t.o % 99999) + 1)::text AS number,
               py.bin, py.name,
               coalesce(p.n, 0) AS n_posted, coalesce(r.n, 0) AS n_returned, coalesce(op.n, 0) AS n_open,
               coalesce(p.amount, 0) AS a_posted, coalesce(r.amount, 0) AS a_returned, coalesce(op.amount, 0) AS a_open
        FROM timed AS t JOIN bench_payer AS py ON py.idx = t.payer
        LEFT JOIN posted AS p USING (o) LEFT JOIN returned AS r USING (o) LEFT JOIN opened AS op USING (o)
    )
    INSERT INTO contributions_paymentorder ({_columns("contributions_paymentorder")})
    SELECT o + 1, o / {ORDERS_PER_FILE} + 1, o % {ORDERS_PER_FILE} + 1, 1 + (o % {ORDERS_PER_FILE}) * 120,
           reference, number, received, bin, name, 'KZ699990000000000001', 'HSBKKZKX', '160440007161', 'GCVPKZ2A',
           'KZ429990000000000002', CASE WHEN o % {PENALTY_EVERY} = 7 THEN '017' ELSE '012' END, received,
           a_posted + a_returned + a_open, received,
           ((received + 1) + time '23:59:59') AT TIME ZONE 'Asia/Almaty', status, true,
           bin || '|' || reference || '|' || number || '|' || received, md5(o::text) || md5((o + 1)::text), NULL,
           n_posted + n_returned + n_open, n_posted, n_returned, a_posted + a_returned + a_open, a_posted, a_returned,
           CASE WHEN status = 'needs_review' THEN '["The order total differs from the sum of its lines."]'::jsonb
                ELSE '[]'::jsonb END,
           created_at,
           CASE WHEN status <> 'received' THEN created_at + interval '1 minute' END,
           CASE WHEN status <> 'received' THEN created_at + interval '2 minutes' END,
           CASE WHEN status <> 'received' THEN 1 ELSE 0 END,
           CASE WHEN status = 'received' THEN 'late' ELSE '' END,
           CASE WHEN status = 'received' THEN ((received + 2) + time '00:05') AT TIME ZONE 'Asia/Almaty' END,
           NULL, '', created_at
    FROM shaped
    """


_ORDER_PERIOD = "(date_trunc('month', received) - interval '1 month')::date"


def _posted_lines_sql(shape: Shape, first: int, last: int) -> str:
    """Posted lines ``first`` … ``last`` (0-based; id = j + 1), in id order so that the primary
    key and (order, sequence) grow at their right edge; the names as the register has them."""
    return f"""
    INSERT INTO contributions_orderline ({_columns("contributions_orderline")})
    SELECT g.j + 1, g.o + 1, g.j - {_first_of("g.o", shape)} + 1, g.j - {_first_of("g.o", shape)} + 2,
           p.iin, p.last_name, p.first_name, p.patronymic, p.birth_date, po.period, to_char(po.period, 'MMYYYY'),
           {_amount("g.j")}, 'posted', ''
    FROM (
        SELECT j, {_order_of("j", shape)} AS o, {_participant_of("j", shape)} AS pid
        FROM generate_series({first}, {last}::bigint) AS j
    ) AS g
    JOIN records_participant AS p ON p.id = g.pid
    JOIN (SELECT id, {_ORDER_PERIOD} AS period FROM contributions_paymentorder) AS po ON po.id = g.o + 1
    ORDER BY g.j
    """


def _returned_lines_sql(shape: Shape) -> str:
    """1-3 returned lines after the posted ones of every partially returned order: a misspelt
    surname or a wrong birth date of a real participant."""
    columns = _columns("contributions_orderline").removeprefix("id, ")
    return f"""
    INSERT INTO contributions_orderline ({columns})
    SELECT po.id, po.lines_posted + k, po.lines_posted + k + 1, p.iin,
           CASE WHEN k % 2 = 1 THEN p.last_name || 'Х' ELSE p.last_name END, p.first_name, p.patronymic,
           CASE WHEN k % 2 = 1 THEN p.birth_date ELSE p.birth_date + 1 END,
           {_ORDER_PERIOD.replace("received", "po.received")},
           to_char({_ORDER_PERIOD.replace("received", "po.received")}, 'MMYYYY'),
           {_returned_amount("o", "k")}, 'returned',
           CASE WHEN k % 2 = 1 THEN 'name_mismatch' ELSE 'birth_date_mismatch' END
    FROM generate_series(0, {shape.posting_orders - 1}::bigint) AS o
    CROSS JOIN LATERAL generate_series(1, 1 + o % 3) AS k
    JOIN contributions_paymentorder AS po ON po.id = o + 1
    JOIN records_participant AS p ON p.id = {_typical("o * 3 + k", 13, shape)}
    WHERE {_partial("o")}
    """


def _open_lines_sql(shape: Shape) -> str:
    columns = _columns("contributions_orderline").removeprefix("id, ")
    period = _ORDER_PERIOD.replace("received", "po.received")
    return f"""
    INSERT INTO contributions_orderline ({columns})
    SELECT po.id, k, k + 1, p.iin, p.last_name, p.first_name, p.patronymic, p.birth_date, {period},
           to_char({period}, 'MMYYYY'), {_open_amount("o", "k")}, 'pending', ''
    FROM generate_series({shape.posting_orders}, {shape.orders - 1}::bigint) AS o
    CROSS JOIN generate_series(1, {shape.open_lines}) AS k
    JOIN contributions_paymentorder AS po ON po.id = o + 1
    JOIN records_participant AS p ON p.id = {_typical(f"o * {shape.open_lines} + k", 17, shape)}
    """


def _entries_sql(shape: Shape, first: int, last: int) -> str:
    """One ledger entry per posted line, id = line id, with the order's payer, dates and kind."""
    return f"""
    INSERT INTO contributions_ledgerentry ({_columns("contributions_ledgerentry")})
    SELECT g.j + 1, g.pid, po.period, po.kind, {_amount("g.j")}, po.payer_idn, g.o + 1, g.j + 1, po.received,
           po.finished_at, NULL
    FROM (
        SELECT j, {_order_of("j", shape)} AS o, {_participant_of("j", shape)} AS pid
        FROM generate_series({first}, {last}::bigint) AS j
    ) AS g
    JOIN (
        SELECT id, payer_idn, received, finished_at, {_ORDER_PERIOD} AS period,
               CASE WHEN knp = '017' THEN 'penalty' ELSE 'contribution' END AS kind
        FROM contributions_paymentorder
    ) AS po ON po.id = g.o + 1
    ORDER BY g.j
    """


def _return_documents_sql() -> str:
    columns = _columns("contributions_returndocument").removeprefix("id, ")
    return f"""
    INSERT INTO contributions_returndocument ({columns})
    SELECT id, 'RET-' || lpad(id::text, 10, '0'), lines_returned, amount_returned, finished_at
    FROM contributions_paymentorder WHERE status = 'partially_returned' ORDER BY id
    """


def _refunds_sql(shape: Shape, staff: Staff) -> str:
    """Refunds registered by the specialist against entries spread over the ledger; every
    fourth rejected by the head (four eyes). None is posted: the ledger keeps exactly the
    entries asked for."""
    columns = _columns("contributions_refund").removeprefix("id, ")
    specialist, head = staff.ids["specialist"], staff.ids["head"]
    return f"""
    INSERT INTO contributions_refund ({columns})
    SELECT e.id, least(e.amount, 1000.00), e.payer_idn, 'REQ-' || (r + 1), e.received + 30,
           'Ошибочно перечисленные взносы', CASE WHEN r % 4 = 3 THEN 'rejected' ELSE 'registered' END,
           {specialist}, e.posted_at + interval '40 days',
           CASE WHEN r % 4 = 3 THEN {head} END, CASE WHEN r % 4 = 3 THEN e.posted_at + interval '45 days' END,
           CASE WHEN r % 4 = 3 THEN 'Переплаты нет.' ELSE '' END, NULL, CASE WHEN r % 4 = 3 THEN 2 ELSE 1 END
    FROM generate_series(0, {shape.refunds - 1}::bigint) AS r
    JOIN contributions_ledgerentry AS e ON e.id = 1 + r * {shape.entries} / {shape.refunds}
    ORDER BY r
    """


def _access_log_sql(shape: Shape, staff: Staff) -> str:
    """Reads and searches by the specialist over the two years: two participant pages (naming
    the participant in ``iins``, as every page that shows people does), then a search, in turn."""
    columns = _columns("records_accesslog").removeprefix("id, ")
    return f"""
    INSERT INTO records_accesslog ({columns})
    SELECT {staff.ids["specialist"]}, '',
           timestamptz '{START}' + make_interval(secs => (a::bigint * {SPAN_SECONDS} / {shape.access_rows})::float8),
           CASE WHEN a % 3 = 2 THEN 'search' ELSE 'view' END,
           CASE WHEN a % 3 = 2 THEN NULL ELSE {_typical("a", 19, shape)} END,
           CASE WHEN a % 3 = 2 THEN 'participant_search' ELSE 'participant_detail' END,
           CASE WHEN a % 3 = 2 THEN jsonb_build_object('last_name', '{COMMON_PREFIX}', 'page', 1)
                ELSE jsonb_build_object('iins', jsonb_build_array(
                    (SELECT iin FROM records_participant WHERE id = {_typical("a", 19, shape)}))) END,
           CASE WHEN a % 3 = 2 THEN 25 END, ('10.0.' || (a % 250) || '.' || (a % 200 + 1))::inet
    FROM generate_series(0, {shape.access_rows - 1}::bigint) AS a
    """


def _columns(table: str) -> str:
    return ", ".join(WRITTEN[table].split())


# --- What was built, and what the pages are asked for ----------------------------------------------

COUNTED = {
    "participants": "records_participant",
    "payment_orders": "contributions_paymentorder",
    "order_lines": "contributions_orderline",
    "ledger_entries": "contributions_ledgerentry",
    "incoming_files": "contributions_incomingfile",
    "return_documents": "contributions_returndocument",
    "refunds": "contributions_refund",
    "access_log": "records_accesslog",
}


def sizes(name: str, shape: Shape) -> dict[str, int]:
    """Rows per table as built (counted), and the shape's own figures."""
    with connect(name) as conn:
        counted = {key: _one(conn, f"SELECT count(*) FROM {table}") for key, table in COUNTED.items()}
        counted["payers"] = _one(conn, "SELECT count(DISTINCT payer_idn) FROM contributions_paymentorder")
    return {**counted, "heavy_participants": shape.heavy, "heavy_entries_each": shape.heavy_entries}


@dataclass(frozen=True)
class Fixtures:
    """The rows each page is asked about in one database."""

    typical_id: int
    typical_iin: str
    typical_entries: int
    heavy_id: int
    heavy_entries: int
    big_payer: str
    big_payer_orders: int
    order_id: int
    order_lines: int


def fixtures(name: str, shape: Shape, staff: Staff) -> Fixtures:
    """A typical participant (entries nearest the mean, among the first 200), the first heavy
    one, the payer with most orders, and an order of ~100 posted lines in a file the machine
    account sent (so the API lets it read the order). Checks a sample of the IINs too."""
    with connect(name) as conn:
        counts = conn.execute(
            "SELECT participant_id, count(*) FROM contributions_ledgerentry"
            " WHERE participant_id BETWEEN %s AND %s GROUP BY 1 ORDER BY 1",
            [shape.heavy + 1, shape.heavy + 200],
        ).fetchall()
        if not counts:
            raise BenchError(f"{name}: no typical participant has entries")
        typical, typical_entries = min(counts, key=lambda row: (abs(row[1] - shape.typical_mean), row[0]))
        iins = [row[0] for row in conn.execute("SELECT iin FROM records_participant ORDER BY id LIMIT 1000")]
        if not all(is_valid_iin_bin(iin) for iin in iins):
            raise BenchError(f"{name}: the builder wrote an invalid IIN")
        payer, payer_orders = _row(
            conn, "SELECT payer_idn, count(*) FROM contributions_paymentorder GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        )
        order = conn.execute(
            "SELECT o.id, o.lines_total FROM contributions_paymentorder o"
            " JOIN contributions_incomingfile f ON f.id = o.file_id AND f.submitted_by_id = %s"
            " ORDER BY o.status <> 'posted', abs(o.lines_total - %s), abs(o.id - %s), o.id LIMIT 1",
            [staff.ids["api"], LINES_PER_ORDER, shape.orders // 2],
        ).fetchone()
        if order is None:
            raise BenchError(f"{name}: no order came from the machine account")
        return Fixtures(
            typical_id=typical,
            typical_iin=_one(conn, f"SELECT iin FROM records_participant WHERE id = {int(typical)}"),
            typical_entries=typical_entries,
            heavy_id=1,
            heavy_entries=_one(conn, "SELECT count(*) FROM contributions_ledgerentry WHERE participant_id = 1"),
            big_payer=payer,
            big_payer_orders=payer_orders,
            order_id=order[0],
            order_lines=order[1],
        )


def _row(conn: psycopg.Connection, query: str) -> Any:
    row = conn.execute(query.encode()).fetchone()
    if row is None:
        raise BenchError(f"no row: {query}")
    return row


def _one(conn: psycopg.Connection, query: str) -> Any:
    return _row(conn, query)[0]


# --- The pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSpec:
    """A page, who asks for it (an actor of ROLES signed in, or ``…_token`` for an API token),
    and its URL in a database."""

    name: str
    actor: str
    url: Callable[[Fixtures], str]


def _url(name: str, *args: Any, **query: str) -> str:
    path = reverse(name, args=args)
    return f"{path}?{urlencode(query)}" if query else path


PAGES: tuple[PageSpec, ...] = (
    PageSpec("participant_typical", "specialist", lambda f: _url("participant_detail", f.typical_id)),
    PageSpec(
        "participant_typical_last",
        "specialist",
        lambda f: _url("participant_detail", f.typical_id, account_page="last"),
    ),
    PageSpec("participant_heavy", "specialist", lambda f: _url("participant_detail", f.heavy_id)),
    PageSpec(
        "participant_heavy_last", "specialist", lambda f: _url("participant_detail", f.heavy_id, account_page="last")
    ),
    PageSpec("search_iin", "specialist", lambda f: _url("participant_search", iin=f.typical_iin)),
    PageSpec("search_common_prefix", "specialist", lambda f: _url("participant_search", last_name=COMMON_PREFIX)),
    PageSpec("search_rare_prefix", "specialist", lambda f: _url("participant_search", last_name=RARE_PREFIX)),
    PageSpec("orders", "specialist", lambda f: _url("order_list")),
    PageSpec("orders_last", "specialist", lambda f: _url("order_list", page="last")),
    PageSpec("orders_payer", "specialist", lambda f: _url("order_list", payer=f.big_payer)),
    PageSpec("orders_payer_last", "specialist", lambda f: _url("order_list", payer=f.big_payer, page="last")),
    PageSpec("orders_status", "specialist", lambda f: _url("order_list", status="posted")),
    PageSpec("orders_status_last", "specialist", lambda f: _url("order_list", status="posted", page="last")),
    PageSpec("order_detail", "specialist", lambda f: _url("order_detail", f.order_id)),
    PageSpec("returns", "specialist", lambda f: _url("return_document_list")),
    PageSpec("access_log", "auditor", lambda f: _url("access_log")),
    PageSpec("access_log_iin", "auditor", lambda f: _url("access_log", iin=f.typical_iin)),
    PageSpec("refunds", "head", lambda f: _url("refund_list")),
    PageSpec("api_participant", "specialist_token", lambda f: _url("api_participant_detail", f.typical_iin)),
    PageSpec("api_order", "api_token", lambda f: _url("api_order_detail", f.order_id)),
)
PAGE_NAMES = tuple(page.name for page in PAGES)

WARMUP = 3


@dataclass(frozen=True)
class Target:
    """Where measuring happens: a database, its staff and its fixtures."""

    label: str
    database: str
    staff: Staff
    fixtures: Fixtures


@contextmanager
def measuring_settings() -> Iterator[None]:
    """As in production (DEBUG off), with the test client's host allowed, no HTTPS redirect
    (the client speaks plain HTTP in-process) and API rate limits out of reach: the benchmark
    sends hundreds of requests a minute from one account, and both databases' users share ids,
    hence the throttle's cache keys. The throttle itself still runs."""
    rates = {"anon": "1000000/min", "user": "1000000/min"}
    with override_settings(
        DEBUG=False,
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        SECURE_SSL_REDIRECT=False,
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates},
    ):
        yield


class Measurer:
    """Times pages on several databases, switching Django's default connection between them,
    with one signed-in client per database and actor."""

    def __init__(self, targets: Sequence[Target], *, requests: int, log: Log) -> None:
        self.targets = targets
        self.requests = requests
        self.log = log
        self.clients: dict[tuple[str, str], tuple[Client, dict[str, str]]] = {}

    def page(self, spec: PageSpec) -> dict[str, dict[str, Any]]:
        """``{label: {url, p50_ms, p95_ms, queries}}`` for one page on every database, one after
        the other, so that the machine's drift falls on all of them alike."""
        return {target.label: self._measure(spec, target) for target in self.targets}

    def _measure(self, spec: PageSpec, target: Target) -> dict[str, Any]:
        use_database(target.database)
        client, headers = self._client(target, spec.actor)
        url = spec.url(target.fixtures)
        for _ in range(WARMUP):
            self._get(client, url, headers, spec, target)
        timings = []
        for _ in range(self.requests):
            started = time.perf_counter()
            self._get(client, url, headers, spec, target)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            self._get(client, url, headers, spec, target)
        result = {
            "url": url,
            "p50_ms": round(percentile(timings, 0.50), 2),
            "p95_ms": round(percentile(timings, 0.95), 2),
            "queries": len(queries.captured_queries),
        }
        self.log(f"  {spec.name} ({target.label}): p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
                 f"{result['queries']} queries")  # fmt: skip
        return result

    def _client(self, target: Target, actor: str) -> tuple[Client, dict[str, str]]:
        key = (target.database, actor)
        if key not in self.clients:
            client = Client()
            headers: dict[str, str] = {}
            if actor.endswith("_token"):
                headers["Authorization"] = f"Token {target.staff.tokens[actor.removesuffix('_token')]}"
            else:
                client.force_login(User.objects.get(pk=target.staff.ids[actor]))
            self.clients[key] = (client, headers)
        return self.clients[key]

    @staticmethod
    def _get(client: Client, url: str, headers: dict[str, str], spec: PageSpec, target: Target) -> None:
        try:
            response = client.get(url, headers=headers)
        except Exception as exc:
            exc.add_note(f"bench_pages: {spec.name} ({target.label}) GET {url}")
            raise
        if response.status_code != 200:
            raise BenchError(
                f"{spec.name} ({target.label}): GET {url} as {spec.actor} answered {response.status_code}, not 200"
            )


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


RATIO_TARGET = 1.5
P95_TARGET_MS = 50.0


def compare(name: str, full: dict[str, Any], small: dict[str, Any]) -> dict[str, Any]:
    ratio = full["p95_ms"] / small["p95_ms"] if small["p95_ms"] else math.inf
    return {
        "page": name,
        "full": full,
        "small": small,
        "ratio_p95": round(ratio, 2),
        "same_queries": full["queries"] == small["queries"],
    }


def targets(pages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The issue's three targets, each with the pages that miss it."""
    missed = {
        "ratio_p95": [p["page"] for p in pages if p["ratio_p95"] > RATIO_TARGET],
        "full_p95_ms": [p["page"] for p in pages if p["full"]["p95_ms"] >= P95_TARGET_MS],
        "same_queries": [p["page"] for p in pages if not p["same_queries"]],
    }
    return {
        "ratio_p95": {"at_most": RATIO_TARGET, "missed": missed["ratio_p95"]},
        "full_p95_ms": {"below": P95_TARGET_MS, "missed": missed["full_p95_ms"]},
        "same_queries": {"missed": missed["same_queries"]},
        "all_met": not any(missed.values()),
    }
