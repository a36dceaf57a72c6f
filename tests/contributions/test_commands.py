"""``manage.py ingest`` and ``manage.py account``."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from contributions.models import LedgerEntry, OrderStatus, PaymentOrder
from records.models import AccessLog
from tests.conftest import PAYER, line_for, order_text

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
FIELDS = {
    "id", "reference", "number", "document_date", "payer", "knp", "received", "deadline", "status", "lines",
    "lines_posted", "lines_returned", "amount", "amount_posted", "amount_returned", "return_reasons", "errors",
}  # fmt: skip


def run_ingest(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ingest", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_ingest_wait_json_processes_in_process_without_a_worker(people, tmp_path: Path) -> None:
    path = tmp_path / "a.mt102"
    path.write_text(order_text([line_for(people[1]), line_for(people[2], iin="850615300012")]), encoding="utf-8")
    out, err = run_ingest(str(path), "--received", "2023-11-24", "--wait", "--json")
    assert "No Celery worker is running: processing the orders in this process." in err
    (order,) = json.loads(out)
    assert set(order) == FIELDS
    assert order["status"] == "partially_returned"
    assert (order["reference"], order["number"], order["document_date"], order["payer"], order["knp"]) == (
        "SO231124000009",
        "501",
        "2023-11-24",
        PAYER,
        "012",
    )
    # Asia/Almaty was UTC+6 until 1 March 2024.
    assert (order["received"], order["deadline"]) == ("2023-11-24", "2023-11-27T23:59:59+06:00")
    assert (order["lines"], order["lines_posted"], order["lines_returned"]) == (2, 1, 1)
    assert (order["amount"], order["amount_posted"], order["amount_returned"]) == ("14000.00", "7000.00", "7000.00")
    assert order["return_reasons"] == {"unknown_iin": 1}
    assert order["errors"] == []


def test_without_a_worker_an_order_that_fails_is_reported_and_the_others_still_run(
    people, tmp_path: Path, monkeypatch
) -> None:
    from contributions import tasks
    from contributions.services import process_order

    first, second = tmp_path / "a.mt102", tmp_path / "b.mt102"
    first.write_text(order_text([line_for(people[1])], reference="FAILS1", number="1"), encoding="utf-8")
    second.write_text(order_text([line_for(people[2])], reference="WORKS2", number="2"), encoding="utf-8")
    failing = set()

    def process_or_fail(*, order_id: int, actor):  # the database refusing one order, say
        if PaymentOrder.objects.get(pk=order_id).reference == "FAILS1":
            failing.add(order_id)
            raise RuntimeError("the database refused it")
        return process_order(order_id=order_id, actor=actor)

    monkeypatch.setattr(tasks, "process_order", process_or_fail)
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="did not reach a final status"):
        call_command("ingest", str(first), str(second), "--wait", "--json", stdout=out, stderr=err)
    (order_id,) = failing
    assert f"payment order {order_id} could not be processed: the database refused it" in err.getvalue()
    by_reference = {o["reference"]: o for o in json.loads(out.getvalue())}
    assert by_reference["FAILS1"]["status"] == "received"  # open: the sweeper takes it up again
    assert by_reference["WORKS2"]["status"] == "posted"
    assert PaymentOrder.objects.get(pk=order_id).attempts == 1  # counted, as a worker would


def test_ingest_without_wait_leaves_orders_received(people, tmp_path: Path) -> None:
    path = tmp_path / "a.mt102"
    path.write_text(order_text([line_for(people[3])]), encoding="utf-8")
    out, _ = run_ingest(str(path), "--json")
    assert json.loads(out)[0]["status"] == OrderStatus.RECEIVED
    assert not LedgerEntry.objects.exists()


def test_ingest_a_file_that_cannot_be_split_yields_one_needs_review_object(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_bytes(b"hello\nworld\n")
    out, _ = run_ingest(str(path), "--wait", "--json")
    (order,) = json.loads(out)
    assert order["status"] == "needs_review"
    assert order["errors"]
    assert all("line" in e for e in order["errors"])


def test_ingest_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"missing\.mt102"):
        run_ingest(str(tmp_path / "missing.mt102"))
    assert not PaymentOrder.objects.exists()


def test_ingest_the_shared_samples(tmp_path: Path) -> None:
    if not SAMPLES.exists():
        pytest.skip("the shared samples are not beside this checkout")
    call_command("load_registry", str(SAMPLES / "registry.csv"), stdout=StringIO())
    files = sorted(str(p) for p in SAMPLES.glob("*.mt102"))
    out, _ = run_ingest(*files, "--received", "2023-11-27", "--wait", "--json")
    orders = {o["reference"]: o for o in json.loads(out)}
    assert len(orders) == 3
    assert all(o["status"] in {"posted", "partially_returned", "returned"} for o in orders.values())
    penalty = orders["PE231127000003"]
    assert (penalty["knp"], penalty["status"], penalty["amount"]) == ("017", "posted", "37.11")
    returns = orders["SO231124000002"]["return_reasons"]
    assert {"invalid_iin", "unknown_iin", "birth_date_mismatch", "deceased"} <= set(returns)
    # Again: every order is a duplicate, nothing is posted twice.
    entries = LedgerEntry.objects.count()
    out, _ = run_ingest(*files, "--received", "2023-11-27", "--wait", "--json")
    assert {o["status"] for o in json.loads(out)} == {"duplicate"}
    assert LedgerEntry.objects.count() == entries


def test_account_prints_entries_and_totals_and_logs_the_read(people, tmp_path: Path) -> None:
    person = people[4]
    path = tmp_path / "a.mt102"
    path.write_text(
        order_text([line_for(person), line_for(person, period="112023", amount="3500,00")]), encoding="utf-8"
    )
    run_ingest(str(path), "--received", "2023-11-24", "--wait")
    out = StringIO()
    call_command("account", person.iin, "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["iin"] == person.iin
    assert [(e["period"], e["kind"], e["amount"]) for e in data["entries"]] == [
        ("2023-10", "contribution", "7000.00"),
        ("2023-11", "contribution", "3500.00"),
    ]
    assert data["entries"][0]["order_reference"] == "SO231124000009"
    assert data["entries"][0]["payer"] == PAYER
    assert data["totals"] == {"contribution": "10500.00", "penalty": "0.00", "refund": "0.00"}
    assert AccessLog.objects.filter(view="command:account", participant__iin=person.iin).exists()
    text = StringIO()
    call_command("account", person.iin, stdout=text)
    assert "total contribution: 10500.00" in text.getvalue()


def test_account_refuses_unknown_and_invalid_iins() -> None:
    with pytest.raises(CommandError, match="not a valid IIN"):
        call_command("account", "791028302727")
    with pytest.raises(CommandError, match="no participant"):
        call_command("account", "791028302728")
