"""Whole entries mutated (duplicated, dropped, swapped, renumbered, another currency) and sent
through every door: the staff upload page, the API as a file, the API as JSON and ``manage.py
ingest``. Whatever the variant, the raw bytes are stored as sent, a broken order needs review
with a problem naming its place, nothing of a broken order is posted, and the clean orders of
the same file post. Each example runs in a savepoint rolled back afterwards, so examples never
see each other's orders."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contributions.models import IncomingFile, LedgerEntry, OrderStatus, PaymentOrder
from contributions.services import process_order
from records.registry import registry_load_snapshot
from records.services import Actor
from records.synthetic import registry_csv
from tests.conftest import RECEIVED
from tests.contributions.mt102_mutations import DOCUMENT_DATE, PAYER, PEOPLE, Variant, variants

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")
EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture
def registry(db) -> None:
    registry_load_snapshot(raw=registry_csv(PEOPLE), file_name="people.csv", actor=ACTOR)


@pytest.fixture
def doors(make_user, registry, tmp_path: Path) -> dict[str, Callable[[bytes, str], list[int]]]:
    """Each door takes the bytes and a file name and answers the ids of the orders taken in,
    in file order (as the door itself reports them)."""
    staff = Client()
    staff.force_login(make_user("specialist"))
    bank = APIClient()
    bank.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user('api_client')).key}")

    def upload(raw: bytes, name: str) -> list[int]:
        page = staff.post(
            reverse("order_upload"),
            {"order_files": SimpleUploadedFile(name, raw), "received": "24.11.2023"},
        )
        assert page.status_code == 302, page.content[:500]
        return [int(i) for i in page["Location"].split("ids=")[1].split(",")]

    def api_file(raw: bytes, name: str) -> list[int]:
        answer = bank.post(
            reverse("api_order_submit"),
            {"file": SimpleUploadedFile(name, raw), "received": RECEIVED},
            format="multipart",
        )
        assert answer.status_code in (200, 201), answer.content[:500]
        return [o["id"] for o in answer.json()["orders"]]

    def api_json(raw: bytes, name: str) -> list[int]:
        answer = bank.generic("POST", reverse("api_order_submit"), raw.decode(), content_type="application/json")
        assert answer.status_code in (200, 201), answer.content[:500]
        return [o["id"] for o in answer.json()["orders"]]

    def ingest(raw: bytes, name: str) -> list[int]:
        path = tmp_path / name
        path.write_bytes(raw)
        out = StringIO()
        call_command("ingest", str(path), "--received", RECEIVED, "--json", stdout=out, stderr=StringIO())
        return [o["id"] for o in json.loads(out.getvalue())]

    return {"upload": upload, "api_file": api_file, "api_json": api_json, "ingest": ingest}


def check(raw: bytes, order_ids: list[int], expectations: list[tuple[bool, frozenset[int]]]) -> None:
    """``expectations``: per order in file order, (broken, the file lines a problem must name)."""
    stored = IncomingFile.objects.get(sha256=hashlib.sha256(raw).hexdigest())
    assert bytes(stored.raw) == raw
    orders = list(PaymentOrder.objects.filter(pk__in=order_ids).order_by("position"))
    assert [o.file_id for o in orders] == [stored.pk] * len(expectations)
    for order in orders:
        if order.status == OrderStatus.RECEIVED:
            process_order(order_id=order.pk, actor=ACTOR)
    for order, (broken, lines) in zip(orders, expectations, strict=True):
        order.refresh_from_db()
        if broken:
            assert order.status == OrderStatus.NEEDS_REVIEW, order.errors
            named = {problem.get("line") for problem in order.errors if isinstance(problem, dict)}
            assert not lines or named & lines, (order.errors, sorted(lines))
            assert not LedgerEntry.objects.filter(order=order).exists()
        else:
            assert order.status == OrderStatus.POSTED, order.errors


_EXAMPLE = itertools.count(1)


def own_references(raw: bytes) -> bytes:
    """The variant with a reference prefix no other example uses (same length: lines unmoved)."""
    return raw.replace(b":20:SO231124", b":20:" + f"T{next(_EXAMPLE):07d}".encode())


@pytest.mark.parametrize("door", ["upload", "api_file", "ingest"])
@given(variant=variants())
@EXAMPLES
def test_mutated_mt102_through_every_file_door(doors, door: str, variant: Variant) -> None:
    raw = own_references(variant.raw)
    ids = doors[door](raw, "orders.mt102")
    expectations = [
        (variant.broken and k == variant.message, variant.lines if k == variant.message else frozenset())
        for k in range(variant.messages)
    ]
    check(raw, ids, expectations)


def json_order(kind: str, *, reference: int, entry: int, currency: str) -> tuple[bytes, bool]:
    """A JSON order of three lines changed by ``kind``; whether it must need review (a JSON
    line has no sequence number: swapping two lines changes nothing)."""
    lines = [
        {
            "iin": p.iin,
            "last_name": p.last_name,
            "first_name": p.first_name,
            "patronymic": p.patronymic,
            "birth_date": p.birth_date.isoformat(),
            "period": "2023-10",
            "amount": amount,
        }
        for p, amount in zip(PEOPLE[:3], ("7000.00", "2450.00", "1.00"), strict=True)
    ]
    total = sum(Decimal(line["amount"]) for line in lines)
    body: dict[str, object] = {
        "reference": f"JS{reference:08d}",
        "number": str(reference),
        "document_date": DOCUMENT_DATE.isoformat(),
        "payer": {"idn": PAYER, "name": "ТОО Тест", "account": "KZ699990000000000001"},
        "payee": {"idn": "160440007161", "bic": "GCVPKZ2A", "account": "KZ429990000000000002"},
        "knp": "012",
        "value_date": DOCUMENT_DATE.isoformat(),
    }
    broken = kind in ("duplicate_entry", "drop_entry", "order_currency")
    if kind == "duplicate_entry":
        lines.insert(entry + 1, dict(lines[entry]))
    elif kind == "drop_entry":
        del lines[entry]
    elif kind == "swap_entries":
        lines[0], lines[entry] = lines[entry], lines[0]
    elif kind == "order_currency":
        body["currency"] = currency
    body["total"] = str(total)
    body["lines"] = lines
    envelope = {"received": RECEIVED, "order": body}
    return json.dumps(envelope, ensure_ascii=False).encode(), broken


@given(
    kind=st.sampled_from(["untouched", "duplicate_entry", "drop_entry", "swap_entries", "order_currency"]),
    reference=st.integers(1, 99_999),
    entry=st.integers(0, 2),
    currency=st.sampled_from(["USD", "EUR", "RUB", "XXX"]),
)
@EXAMPLES
def test_mutated_json_orders_through_the_api(doors, kind: str, reference: int, entry: int, currency: str) -> None:
    raw, broken = json_order(kind, reference=reference * 1000 + next(_EXAMPLE) % 1000, entry=entry, currency=currency)
    ids = doors["api_json"](raw, "order.json")
    check(raw, ids, [(broken, frozenset())])
