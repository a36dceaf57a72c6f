"""Bad input at the doors (found by an exploratory run against the API and ``ingest``): every
submission is stored byte for byte and answered with an error that names the place, never a
server error, and nothing is posted from an order that is wrong as a whole."""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DataError
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contributions.documents import return_document_csv
from contributions.models import IncomingFile, LedgerEntry, OrderStatus, PaymentOrder
from contributions.problems import word
from contributions.services import intake_file
from records.services import Actor
from tests.conftest import PAYER, line_for, order_text, take_in

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")


@pytest.fixture
def bank(make_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user('api_client')).key}")
    return client


def json_order(person, **changes) -> dict[str, Any]:
    body = {
        "reference": "H1",
        "number": "1",
        "document_date": "2023-11-24",
        "payer": {"idn": PAYER, "name": "ТОО ТЕСТ", "account": "KZ699990000000000001", "bic": "XXXXKZKA"},
        "payee": {"idn": "160440007161", "bic": "GCVPKZ2A", "account": "KZ429990000000000002"},
        "knp": "012",
        "total": "7000.00",
        "value_date": "2023-11-24",
        "lines": [
            {
                "iin": person.iin,
                "last_name": person.last_name,
                "first_name": person.first_name,
                "patronymic": person.patronymic,
                "birth_date": person.birth_date.isoformat(),
                "period": "2023-10",
                "amount": "7000.00",
            }
        ],
    }
    body.update(changes)
    return body


def problems(order: PaymentOrder) -> list[str]:
    return [word(entry, translate=False) for entry in order.errors]


def test_an_over_long_reference_needs_review_each_time_it_is_sent(people) -> None:
    text = order_text([line_for(people[1])], reference="Z" * 40)
    first, again = take_in(text)[0], take_in(text)[0]
    assert (first.status, again.status) == (OrderStatus.NEEDS_REVIEW, OrderStatus.NEEDS_REVIEW)
    assert "line 1: the reference is longer than 35 characters" in problems(again)
    assert IncomingFile.objects.count() == 2
    assert not LedgerEntry.objects.exists()


def test_a_payer_idn_that_is_not_an_iin_or_bin_is_never_cut_into_another_payer(people) -> None:
    (order,) = take_in(order_text([line_for(people[2])], payer_idn=PAYER + "1234"))
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert f"line 1: the payer IIN/BIN '{PAYER}1234' is not valid" in problems(order)
    assert not LedgerEntry.objects.exists()


def test_an_amount_too_large_to_hold_is_an_error_naming_its_line(people) -> None:
    (order,) = take_in(order_text([line_for(people[3], amount="50000000000000,00")]))
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert any(":32B: amount '50000000000000,00' is out of range" in p for p in problems(order))
    assert not LedgerEntry.objects.exists()


def test_a_negative_total_is_wrong_as_a_whole(people) -> None:
    (order,) = take_in(order_text([line_for(people[4], amount="-10,00")]))
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert "line 1: the order total -10.00 is not positive" in problems(order)


def test_nul_characters_in_a_file_are_kept_and_the_order_goes_on(people) -> None:
    raw = order_text([line_for(people[5]), line_for(people[6])]).replace(people[6].last_name, "AB\x00C").encode()
    (order,) = take_in(raw)
    assert bytes(order.file.raw) == raw
    assert order.status == OrderStatus.PARTIALLY_RETURNED
    assert dict(order.lines.values_list("sequence", "reason")) == {1: "", 2: "name_mismatch"}
    assert order.lines.get(sequence=2).last_name == "AB\ufffdC"


def test_nul_and_lone_surrogates_in_json_are_stored(bank, people) -> None:
    person = people[7]
    body = json.dumps(json_order(person, reference="H\u0000", payer={**json_order(person)["payer"], "name": "\ud800"}))
    response = bank.post(reverse("api_order_submit"), body, content_type="application/json")
    assert response.status_code == 201, response.content
    stored = IncomingFile.objects.get(pk=response.json()["file"])
    assert bytes(stored.raw) == body.encode()
    order = PaymentOrder.objects.get(file=stored)
    assert (order.reference, order.payer_name) == ("H\ufffd", "?")


@pytest.mark.parametrize(
    ("body", "error"),
    [("[" * 5000 + "]" * 5000, "RecursionError"), ('{"total": ' + "9" * 5000 + "}", "ValueError")],
)
def test_json_too_deep_or_with_too_long_a_number_is_kept_for_review(bank, body: str, error: str) -> None:
    response = bank.post(reverse("api_order_submit"), body, content_type="application/json")
    assert response.status_code == 201, response.content
    (order,) = response.json()["orders"]
    assert order["status"] == "needs_review"
    assert order["errors"] == [f"not valid JSON: {error}"]
    assert bytes(IncomingFile.objects.get().raw) == body.encode()


def test_a_json_body_over_the_limit_is_refused_with_a_json_answer(bank, people, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps(json_order(people[8], lines=[json_order(people[8])["lines"][0]] * 20))
    response = bank.post(reverse("api_order_submit"), body, content_type="application/json")
    assert response.status_code == 413
    assert "send a larger order as a file" in response.json()["detail"]
    assert not IncomingFile.objects.exists()


def test_only_application_json_is_read_as_json(bank, people) -> None:
    body = json.dumps(json_order(people[9]))
    response = bank.post(reverse("api_order_submit"), body, content_type="application/jsonp")
    assert response.status_code == 415
    assert not IncomingFile.objects.exists()


def test_an_order_that_needs_review_does_not_claim_its_key(people) -> None:
    """A near-empty order with someone's key must not make the real order a duplicate; a payer's
    corrected order is not a duplicate of the one that needed review."""
    junk = order_text([line_for(people[10])], total="1,00")
    good = order_text([line_for(people[10])])
    (first,) = take_in(junk)
    (second,) = take_in(good)
    assert (first.status, first.is_original) == (OrderStatus.NEEDS_REVIEW, False)
    assert (second.status, second.is_original) == (OrderStatus.POSTED, True)
    (third,) = take_in(good)
    assert (third.status, third.duplicate_of_id) == (OrderStatus.DUPLICATE, second.pk)


def test_the_return_csv_shows_a_payers_formula_as_text(people) -> None:
    (order,) = take_in(order_text([line_for(people[11], last_name='=HYPERLINK("x";"y")', iin="123")]))
    csv = return_document_csv(order.return_document)
    assert ';"\'=HYPERLINK(""x"";""y"")";' in csv  # quoted as text (and CSV-escaped)
    assert "=HYPERLINK" not in csv.replace("'=HYPERLINK", "")


@pytest.mark.parametrize("value", ["2099-12-31", "20231124", "2023-W47-5", "1900-01-01"])
def test_the_api_refuses_a_receipt_date_it_cannot_take(bank, people, value: str) -> None:
    response = bank.post(reverse("api_order_submit"), {**json_order(people[12]), "received": value}, format="json")
    assert response.status_code == 400
    assert "received" in response.json()
    assert not IncomingFile.objects.exists()


def test_ingest_refuses_a_receipt_date_in_the_future(tmp_path: Path, people) -> None:
    path = tmp_path / "a.mt102"
    path.write_text(order_text([line_for(people[13])]))
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    with pytest.raises(CommandError, match="cannot be in the future"):
        call_command("ingest", str(path), "--received", tomorrow, stdout=StringIO(), stderr=StringIO())
    assert not IncomingFile.objects.exists()


def test_ingest_goes_on_after_a_file_that_fails_and_says_so(tmp_path: Path, people, monkeypatch) -> None:
    import contributions.management.commands.ingest as ingest
    from contributions.services import intake_file as real

    def failing(**kwargs):
        if kwargs["file_name"] == "bad.mt102":
            raise RuntimeError("boom")
        return real(**kwargs)

    monkeypatch.setattr(ingest, "intake_file", failing)
    paths = []
    for n, name in enumerate(("a.mt102", "bad.mt102", "c.mt102")):
        path = tmp_path / name
        path.write_text(order_text([line_for(people[14 + n])], reference=f"G{n}", number=str(n)))
        paths.append(str(path))
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("ingest", *paths, "--received", "2023-11-24", "--json", stdout=out, stderr=err)
    assert [o["reference"] for o in json.loads(out.getvalue())] == ["G0", "G2"]
    assert "bad.mt102: could not be taken in (RuntimeError: boom)" in err.getvalue()


def test_a_value_the_database_refuses_still_keeps_the_bytes(people, monkeypatch) -> None:
    import contributions.services.intake as intake

    def refused(rows) -> None:
        raise DataError("invalid byte sequence")

    monkeypatch.setattr(intake, "_copy_lines", refused)
    raw = order_text([line_for(people[17])]).encode()
    result = intake_file(raw=raw, file_name="o.mt102", door="upload", actor=ACTOR, received=date(2023, 11, 24))
    (order,) = result.orders
    assert bytes(result.file.raw) == raw
    assert order.status == OrderStatus.NEEDS_REVIEW
    assert problems(order) == [
        "line 1: the order could not be stored as read (DataError): a staff member must review it"
    ]
