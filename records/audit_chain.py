"""The tamper-evident audit trail (Rules, paragraph 5: the State Corporation answers for the
confidentiality and integrity of the database).

The domain events (``AuditEvent``) and the access log (``AccessLog``) are each a hash chain:

- **Append-only in the database.** Triggers refuse ``UPDATE``, ``DELETE`` and ``TRUNCATE`` of both
  tables and of their heads, whoever asks (migration ``records.0014``). Only the table owner or a
  superuser can switch the triggers off, and what they then change, the chain shows.
- **Hash-chained and keyed.** When a transaction commits, a deferred trigger gives each of its
  new rows the next place in its chain, the hash of the one before, and its own hash: an
  HMAC-SHA256, under a key the application holds (``AUDIT_CHAIN_KEY``), of the previous hash and
  every column of the row. The key reaches the database only as a setting of the application's
  own connections (``install_key``), never in SQL text, so a session without it (``psql`` as
  the owner) cannot add a row at all, and rows it writes with the triggers off carry no valid
  hash. The head of each chain (``AuditChainHead``) keeps the last place and hash under a MAC,
  so events cut from the end are found too.
- ``verify`` (``manage.py verify_audit_log``) walks each chain in Python, independently of the
  database's functions, and names the first broken link: an edited row, a missing place, a row
  outside the chain, or a head that does not match.

The hash covers the row as the database renders it (``jsonb`` and ``inet`` as text, times in
microseconds since the epoch), so the trigger's text and ``verify``'s are the same by
construction, and the test suite holds them against each other on every committed event.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection as default_connection
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger("records.audit")
SEPARATOR = "\x1f"  # the unit separator: between the fields of one row's text
BLOCK = 64  # SHA-256's block size: HMAC pads its key to it


@dataclass(frozen=True)
class Chain:
    name: str  # the head's key
    table: str
    columns: tuple[str, ...]  # SQL giving each field of the row's text, in order, after its place


CHAINS = (
    Chain(
        name="auditevent",
        table="records_auditevent",
        columns=(
            "id::text",
            "coalesce(actor_id::text, '')",
            "actor_label",
            "action",
            "coalesce(content_type_id::text, '')",
            "object_pk",
            "data::text",
            "((extract(epoch FROM created_at) * 1000000)::bigint)::text",
        ),
    ),
    Chain(
        name="accesslog",
        table="records_accesslog",
        columns=(
            "id::text",
            "coalesce(user_id::text, '')",
            "actor_label",
            "((extract(epoch FROM at) * 1000000)::bigint)::text",
            "kind",
            "coalesce(participant_id::text, '')",
            "view",
            "query::text",
            "coalesce(row_count::text, '')",
            "coalesce(ip_address::text, '')",
        ),
    ),
)


def chain_key() -> bytes:
    """The HMAC key: ``AUDIT_CHAIN_KEY`` (production requires it; elsewhere the secret key
    stands in), as 32 bytes."""
    secret = settings.AUDIT_CHAIN_KEY or settings.SECRET_KEY
    return hashlib.sha256(b"gfss-audit-chain\x00" + secret.encode("utf-8")).digest()


def _pads(key: bytes) -> tuple[str, str]:
    """HMAC's inner and outer keys (RFC 2104), which is all the database needs to compute
    ``sha256(outer || sha256(inner || message))`` with its built-in ``sha256``."""
    padded = key.ljust(BLOCK, b"\x00")
    return bytes(b ^ 0x36 for b in padded).hex(), bytes(b ^ 0x5C for b in padded).hex()


def install_key(sender: Any = None, *, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created``: give a new connection of the application the chain's key, as two
    session settings passed as parameters bound on the server (so the key is in no statement's
    text, ``pg_stat_activity`` included)."""
    if connection.vendor != "postgresql":
        return
    install_key_on(connection.connection)


def install_key_on(raw: psycopg.Connection[Any]) -> None:
    inner, outer = _pads(chain_key())
    with psycopg.Cursor(raw) as cursor:  # a server-binding cursor, whatever the connection's factory
        cursor.execute(
            "SELECT set_config('gfss.audit_ipad', %s, false), set_config('gfss.audit_opad', %s, false)",
            [inner, outer],
        )


def link_hash(key: bytes, previous: str, fields: list[str]) -> str:
    """The hash of one link: HMAC-SHA256 of the previous hash and the row's fields."""
    message = previous + SEPARATOR + SEPARATOR.join(fields)
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def head_mac(key: bytes, chain: str, seq: int, last_hash: str) -> str:
    return hmac.new(key, SEPARATOR.join([chain, str(seq), last_hash]).encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass
class ChainReport:
    chain: str
    table: str
    events: int = 0
    head_seq: int | None = None
    head_hash: str = ""
    broken: list[dict[str, Any]] = field(default_factory=list)  # the first broken link, if any

    @property
    def intact(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "table": self.table,
            "events": self.events,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "intact": self.intact,
            "broken": self.broken,
        }


def _rows(chain: Chain, using: BaseDatabaseWrapper) -> Iterator[tuple[Any, ...]]:
    columns = ", ".join(("chain_seq", "prev_hash", "hash", *chain.columns))
    sql = f"SELECT {columns} FROM {chain.table} WHERE chain_seq IS NOT NULL ORDER BY chain_seq"
    with using.chunked_cursor() as cursor:
        cursor.execute(sql)
        while batch := cursor.fetchmany(5000):
            yield from batch


def verify_chain(chain: Chain, *, using: BaseDatabaseWrapper | None = None) -> ChainReport:
    """Walk one chain from its first link, in one snapshot, and stop at the first broken one."""
    db = using or default_connection
    with transaction.atomic(using=db.alias):
        if not db.savepoint_ids:
            with db.cursor() as cursor:  # the walk sees no event committed after it began
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _walk(chain, db, ChainReport(chain=chain.name, table=chain.table))


def _walk(chain: Chain, db: BaseDatabaseWrapper, report: ChainReport) -> ChainReport:
    key = chain_key()

    def broken(seq: int | None, row_id: Any, problem: str) -> ChainReport:
        report.broken.append({"seq": seq, "id": row_id, "problem": problem})
        return report

    with db.cursor() as cursor:
        cursor.execute("SELECT seq, hash, mac FROM records_auditchainhead WHERE chain = %s", [chain.name])
        head = cursor.fetchone()
        cursor.execute(f"SELECT min(id) FROM {chain.table} WHERE chain_seq IS NULL")
        outside = cursor.fetchone()[0]
    expected, previous = 1, ""
    for seq, prev_hash, stored_hash, *fields in _rows(chain, db):
        row_id = int(fields[0])
        if seq != expected:
            return broken(expected, None, f"place {expected} is missing: the event there was deleted")
        if prev_hash != previous:
            return broken(seq, row_id, "the hash of the one before does not match: the chain was cut here")
        if not hmac.compare_digest(stored_hash, link_hash(key, previous, [str(seq), *fields])):
            return broken(seq, row_id, "its content does not match its hash: the event was changed")
        report.events, expected, previous = seq, seq + 1, stored_hash
    if outside is not None:
        return broken(None, outside, "the event is outside the chain: it was written around the trigger")
    if head is None:
        return broken(None, None, "the chain's head is missing") if report.events else report
    head_seq, head_hash, mac = head
    report.head_seq, report.head_hash = head_seq, head_hash
    if not hmac.compare_digest(mac, head_mac(key, chain.name, head_seq, head_hash)):
        return broken(head_seq, None, "the chain's head was changed")
    if (head_seq, head_hash) != (report.events, previous):
        problem = f"the head is at place {head_seq} but the chain ends at {report.events}: events were deleted"
        return broken(report.events + 1, None, problem)
    return report


def verify(*, using: BaseDatabaseWrapper | None = None) -> list[ChainReport]:
    """Check both chains; the heads go to the log (a copy outside the database that shows a cut
    made later together with the head), a broken link as an error."""
    reports = [verify_chain(chain, using=using) for chain in CHAINS]
    for report in reports:
        if report.intact:
            logger.info("audit chain %s intact: head %s %s", report.chain, report.head_seq, report.head_hash)
        else:
            logger.error("audit chain %s broken: %s", report.chain, report.broken[0])
    return reports
