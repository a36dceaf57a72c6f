"""The state registry ("state information systems", Rules paragraph 6) behind one interface.

``get_registry()`` returns the configured implementation (``STATE_REGISTRY_BACKEND``). The
default, ``SnapshotRegistry``, answers from a local snapshot table loaded from CSV files with
``manage.py load_registry``; a client of a real registry service is another class with the
same ``lookup_many``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from records.db import bound_cursor, number_array
from records.identifiers import identifier_error
from records.models import Participant, RegistryLoad, RegistryPerson
from records.services import Actor, audit_record, with_history_context
from records.signals import registry_loaded

REGISTRY_HEADER = ("iin", "last_name", "first_name", "patronymic", "birth_date", "gender", "death_date")
MAX_STORED_ERRORS = 1000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegistryRecord:
    iin: str
    last_name: str
    first_name: str
    patronymic: str
    birth_date: date
    gender: str
    death_date: date | None


class StateRegistry(Protocol):
    def lookup_many(self, iins: Iterable[str]) -> dict[str, RegistryRecord]:
        """Answer every IIN in one call; IINs the registry does not know are absent."""
        ...


# One index probe per IIN. A plain ``iin = ANY(...)`` lets the planner scan and hash the whole
# table when it is small or its statistics lag behind a load, which costs far more than a
# hundred probes; the LIMIT keeps the lateral subquery from being flattened into such a join.
LOOKUP_BY_IIN = """
SELECT {columns} FROM unnest(%s::text[]) AS wanted(iin)
CROSS JOIN LATERAL (SELECT * FROM {table} t WHERE t.iin = wanted.iin LIMIT 1) AS found
"""


class SnapshotRegistry:
    """The registry as of the last loaded snapshot: one query for any number of IINs."""

    _query = LOOKUP_BY_IIN.format(
        columns="found.iin, last_name, first_name, patronymic, birth_date, gender, death_date",
        table="records_registryperson",
    )

    def lookup_many(self, iins: Iterable[str]) -> dict[str, RegistryRecord]:
        wanted = sorted(set(iins))
        if not wanted:
            return {}
        with bound_cursor() as cursor:  # a hundred IINs travel as one array parameter
            cursor.execute(self._query, [number_array(wanted) or wanted])
            return {row[0]: RegistryRecord(*row) for row in cursor.fetchall()}


@lru_cache(maxsize=1)
def _registry_class(path: str) -> type[StateRegistry]:
    return import_string(path)  # type: ignore[no-any-return]


def get_registry() -> StateRegistry:
    return _registry_class(settings.STATE_REGISTRY_BACKEND)()


# --- Loading a snapshot -------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def as_json(self) -> dict[str, object]:
        return {"line": self.line, "reason": self.reason}


SnapshotRow = tuple[str, str, str, str, date, str, date | None]


@dataclass
class ParsedSnapshot:
    rows: list[SnapshotRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: RowError | None = None

    @property
    def rows_total(self) -> int:
        return len(self.rows) + len(self.errors)


def _parse_date(value: str, column: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{column} {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _name(value: str) -> str:
    return " ".join(value.split())


# The widest name each table the snapshot writes can hold (the registry copy and the
# participants it updates): read from the models, so a narrower column is never overrun.
NAME_COLUMNS = ("last_name", "first_name", "patronymic")


def _width(column: str) -> int:
    fields = [model._meta.get_field(column) for model in (RegistryPerson, Participant)]
    return min(field.max_length or 0 for field in fields if isinstance(field, models.CharField))


NAME_WIDTHS = {column: _width(column) for column in NAME_COLUMNS}


def _text_problem(column: str, value: str) -> str | None:
    """Why PostgreSQL would refuse the value of a column: a NUL character (text cannot hold it)
    or a name longer than its column. Caught here, it refuses the row, not the whole load."""
    if "\x00" in value:
        return f"{column} contains a NUL character"
    width = NAME_WIDTHS.get(column)
    if width is not None and len(value) > width:
        return f"{column} is longer than {width} characters ({len(value)})"
    return None


def _check_row(cells: list[str]) -> SnapshotRow:
    if len(cells) != len(REGISTRY_HEADER):
        raise ValueError(f"expected {len(REGISTRY_HEADER)} columns, found {len(cells)}")
    iin, last_name, first_name, patronymic, birth, gender, death = (c.strip() for c in cells)
    last_name, first_name, patronymic = _name(last_name), _name(first_name), _name(patronymic)
    for column, value in zip(
        REGISTRY_HEADER, (iin, last_name, first_name, patronymic, birth, gender, death), strict=True
    ):
        problem = _text_problem(column, value)
        if problem is not None:
            raise ValueError(problem)
    error = identifier_error(iin)
    if error is not None:
        raise ValueError(f"iin {iin!r} is not a valid IIN ({error.value})")
    if not last_name:
        raise ValueError("last_name is empty")
    if not first_name:
        raise ValueError("first_name is empty")
    birth_date = _parse_date(birth, "birth_date")
    if gender not in ("M", "F"):
        raise ValueError(f"gender {gender!r} is not M or F")
    death_date = _parse_date(death, "death_date") if death else None
    if death_date is not None and death_date < birth_date:
        raise ValueError("death_date is before birth_date")
    return iin, last_name, first_name, patronymic, birth_date, gender, death_date


def _lines(text: str) -> Iterator[str]:
    return iter(io.StringIO(text, newline=""))


def parse_snapshot(raw: bytes) -> ParsedSnapshot:
    """Check a snapshot file row by row: bad rows are reported with their line and skipped."""
    result = ParsedSnapshot()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        result.file_error = RowError(line, f"not UTF-8 text (byte {exc.start})")
        return result
    reader = csv.reader(_lines(text))
    try:
        header = next(reader)
    except StopIteration:
        result.file_error = RowError(1, "the file is empty")
        return result
    if tuple(h.strip() for h in header) != REGISTRY_HEADER:
        result.file_error = RowError(1, f"the header must be {','.join(REGISTRY_HEADER)}")
        return result
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue
            try:
                row = _check_row(cells)
            except ValueError as exc:
                result.errors.append(RowError(line, str(exc)))
                continue
            if row[0] in seen:
                result.errors.append(RowError(line, f"iin {row[0]} repeats line {seen[row[0]]}"))
                continue
            seen[row[0]] = line
            result.rows.append(row)
    except csv.Error as exc:
        result.file_error = RowError(reader.line_num, f"malformed CSV: {exc}")
    return result


_UPSERT = """
WITH up AS (
    INSERT INTO records_registryperson
        (iin, last_name, first_name, patronymic, birth_date, gender, death_date, load_id, updated_at)
    SELECT iin, last_name, first_name, patronymic, birth_date, gender, death_date, %(load)s, %(now)s
    FROM tmp_registry
    ON CONFLICT (iin) DO UPDATE SET
        last_name = EXCLUDED.last_name, first_name = EXCLUDED.first_name,
        patronymic = EXCLUDED.patronymic, birth_date = EXCLUDED.birth_date,
        gender = EXCLUDED.gender, death_date = EXCLUDED.death_date,
        load_id = EXCLUDED.load_id, updated_at = EXCLUDED.updated_at
    WHERE (records_registryperson.last_name, records_registryperson.first_name,
           records_registryperson.patronymic, records_registryperson.birth_date,
           records_registryperson.gender, records_registryperson.death_date)
        IS DISTINCT FROM
          (EXCLUDED.last_name, EXCLUDED.first_name, EXCLUDED.patronymic,
           EXCLUDED.birth_date, EXCLUDED.gender, EXCLUDED.death_date)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
"""

# Paragraph 9: one change record per changed field of each known participant, then the update.
_CHANGES = """
INSERT INTO records_personaldatachange
    (participant_id, field, old_value, new_value, changed_on, source, registry_load_id, actor_id, recorded_at)
SELECT p.id, c.field, c.old, c.new, %(today)s, %(source)s, %(load)s, %(actor)s, %(now)s
FROM records_participant p
JOIN tmp_registry t ON t.iin = p.iin
CROSS JOIN LATERAL (VALUES
    ('last_name', p.last_name, t.last_name),
    ('first_name', p.first_name, t.first_name),
    ('patronymic', p.patronymic, t.patronymic),
    ('birth_date', p.birth_date::text, t.birth_date::text),
    ('gender', p.gender, t.gender),
    ('death_date', coalesce(p.death_date::text, ''), coalesce(t.death_date::text, ''))
) AS c(field, old, new)
WHERE c.old IS DISTINCT FROM c.new
"""

_UPDATE_PARTICIPANTS = """
UPDATE records_participant p SET
    last_name = t.last_name, first_name = t.first_name, patronymic = t.patronymic,
    birth_date = t.birth_date, gender = t.gender, death_date = t.death_date, updated_at = %(now)s
FROM tmp_registry t
WHERE t.iin = p.iin
  AND (p.last_name, p.first_name, p.patronymic, p.birth_date, p.gender, p.death_date)
      IS DISTINCT FROM (t.last_name, t.first_name, t.patronymic, t.birth_date, t.gender, t.death_date)
"""


@with_history_context
def registry_load_snapshot(*, raw: bytes, file_name: str, actor: Actor) -> RegistryLoad:
    """Load a registry snapshot CSV (every door: the staff page, the admin, ``manage.py
    load_registry``): upsert by IIN (idempotent), set-based (COPY into a temporary table, then one
    INSERT ... ON CONFLICT), and record every change of a known participant's personal data
    (Rules, paragraph 9).

    Two transactions, as payment-order intake does (``contributions.services.intake``): the raw
    file is committed first (``registry_store_snapshot``), so it is kept whatever happens to it;
    then its rows are applied (``registry_apply_snapshot``). A failure of the second leaves the
    load stored, status ``failed`` with the error named, and nothing of its rows written.
    """
    load = registry_store_snapshot(raw=raw, file_name=file_name, actor=actor)
    return registry_apply_snapshot(load_id=load.pk, actor=actor, raw=raw)


def registry_store_snapshot(*, raw: bytes, file_name: str, actor: Actor) -> RegistryLoad:
    """Commit the file as sent, byte for byte with its checksum, in a transaction of its own."""
    with transaction.atomic():
        load = RegistryLoad.objects.create(
            status=RegistryLoad.Status.RECEIVED,
            # A name is the sender's text: PostgreSQL cannot store a NUL in it.
            file_name=file_name.replace("\x00", "\ufffd")[:255],
            sha256=hashlib.sha256(raw).hexdigest(),
            raw=raw,
            loaded_by=actor.label,
        )
        audit_record(actor=actor, action="registry.store", obj=load, data={"sha256": load.sha256, "size": len(raw)})
    return load


@with_history_context
def registry_apply_snapshot(*, load_id: int, actor: Actor, raw: bytes | None = None) -> RegistryLoad:
    """Read a stored load and apply its rows in one transaction; a load already applied (or
    refused, or failed) is returned as it is. Should applying fail for any reason, that
    transaction is rolled back and the load is marked ``failed`` with the error's name and first
    line (PostgreSQL's DETAIL, which may quote a whole row, is left out), so staff see it and no
    request answers 500. ``raw`` spares reading back the bytes the caller has just stored."""
    try:
        return _apply(load_id, actor, raw)
    except Exception as exc:
        logger.exception("registry load %s could not be applied; the file is kept", load_id)
        first_line = next(iter(str(exc).strip().splitlines()), "")
        error = f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
        with transaction.atomic():
            load = RegistryLoad.objects.select_for_update().defer("raw").get(pk=load_id)
            load.status = RegistryLoad.Status.FAILED
            load.error = error.replace("\x00", "\ufffd")[:500]
            load.save(update_fields=["status", "error"])
            audit_record(actor=actor, action="registry.fail", obj=load, data={"error": load.error})
        return load


def registry_sweep_loads(*, actor: Actor, older_than: timedelta = timedelta(minutes=5)) -> int:
    """Apply loads left stored but not applied (the process or the database went away between
    the two transactions); run by beat. One that fails is marked failed by
    ``registry_apply_snapshot`` and never stops the others. Returns how many were applied."""
    cutoff = timezone.now() - older_than
    waiting = RegistryLoad.objects.filter(status=RegistryLoad.Status.RECEIVED, loaded_at__lt=cutoff)
    applied = 0
    for load_id in waiting.order_by("pk").values_list("pk", flat=True)[:10]:
        try:
            registry_apply_snapshot(load_id=load_id, actor=actor)
            applied += 1
        except Exception:
            logger.exception("registry load %s could not be applied by the sweeper", load_id)
    return applied


def _apply(load_id: int, actor: Actor, raw: bytes | None) -> RegistryLoad:
    with transaction.atomic():
        load = RegistryLoad.objects.select_for_update().defer("raw").get(pk=load_id)
        if load.status != RegistryLoad.Status.RECEIVED:
            return load
        parsed = parse_snapshot(
            bytes(RegistryLoad.objects.values_list("raw", flat=True).get(pk=load_id)) if raw is None else raw
        )
        load.rows_total = parsed.rows_total
        load.rows_rejected = len(parsed.errors)
        load.errors = [e.as_json() for e in parsed.errors[:MAX_STORED_ERRORS]]
        if parsed.file_error is not None:
            load.status = RegistryLoad.Status.REJECTED
            load.errors = [parsed.file_error.as_json()]
            load.save(update_fields=["status", "rows_total", "rows_rejected", "errors"])
            audit_record(actor=actor, action="registry.reject", obj=load, data=parsed.file_error.as_json())
            return load  # the raw file was committed before: nothing a sender gave us is lost
        inserted, updated, participants_changed = _upsert(load, parsed.rows, actor)
        if participants_changed:
            transaction.on_commit(lambda: registry_loaded.send(sender=RegistryLoad, participant_ids=None), robust=True)
        load.status = RegistryLoad.Status.LOADED
        load.rows_inserted = inserted
        load.rows_updated = updated
        load.rows_unchanged = len(parsed.rows) - inserted - updated
        load.participants_changed = participants_changed
        load.save(
            update_fields=[
                "status",
                "rows_total",
                "rows_rejected",
                "errors",
                "rows_inserted",
                "rows_updated",
                "rows_unchanged",
                "participants_changed",
            ]
        )
        audit_record(
            actor=actor,
            action="registry.load",
            obj=load,
            data={
                "sha256": load.sha256,
                "rows_total": load.rows_total,
                "inserted": inserted,
                "updated": updated,
                "unchanged": load.rows_unchanged,
                "rejected": load.rows_rejected,
                "participants_changed": participants_changed,
            },
        )
    return load


def _upsert(load: RegistryLoad, rows: list[SnapshotRow], actor: Actor) -> tuple[int, int, int]:
    """Write the checked rows: (registry rows inserted, updated, participants changed)."""
    params: dict[str, Any] = {
        "load": load.pk,
        "now": timezone.now(),
        "today": timezone.localdate(),
        "source": f"registry snapshot {load.file_name[:200]} (load {load.pk})",
        "actor": actor.user.pk if actor.user is not None else None,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE tmp_registry ("
            " iin char(12) PRIMARY KEY, last_name text, first_name text, patronymic text,"
            " birth_date date, gender char(1), death_date date) ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY tmp_registry (iin, last_name, first_name, patronymic, birth_date, gender, death_date) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(_UPSERT, params)
        inserted, updated = cursor.fetchone()
        cursor.execute(_CHANGES, params)
        cursor.execute(_UPDATE_PARTICIPANTS, params)
        participants_changed = cursor.rowcount
        cursor.execute("DROP TABLE tmp_registry")
    return inserted, updated, participants_changed
