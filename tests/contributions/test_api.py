"""The API for banks and state systems: submit a file or JSON, read status and return document."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contributions.models import IncomingFile, PaymentOrder
from contributions.parsers.mt102 import parse_mt102
from contributions.services import process_order
from records.services import Actor
from tests.conftest import PAYER, line_for, order_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(make_user):
    user = make_user("api_client", username="bank-halyk")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def upload(client: APIClient, text: str, name: str = "order.mt102", **extra):
    return client.post(
        reverse("api_order_submit"),
        {"file": SimpleUploadedFile(name, text.encode("utf-8")), **extra},
        format="multipart",
    )


def test_submit_a_file_then_a_duplicate(bank, people) -> None:
    text = order_text([line_for(people[1]), line_for(people[2])])
    response = upload(bank, text, received="2023-11-24")
    assert response.status_code == 201, response.content
    (order,) = response.json()["orders"]
    assert (order["status"], order["lines"], order["amount"]) == ("received", 2, "14000.00")
    assert order["received"] == "2023-11-24"
    stored = IncomingFile.objects.get(pk=response.json()["file"])
    assert bytes(stored.raw) == text.encode()
    assert stored.door == "api"
    again = upload(bank, text)
    assert again.status_code == 200
    assert again.json()["orders"][0]["status"] == "duplicate"


def test_submit_json_and_read_the_status(bank, people) -> None:
    person = people[3]
    body = {
        "reference": "API0001",
        "number": "77",
        "document_date": "2023-11-24",
        "payer": {"idn": PAYER, "name": "ТОО ТЕСТ", "account": "KZ699990000000000001"},
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
    response = bank.post(reverse("api_order_submit"), body, format="json")
    assert response.status_code == 201, response.content
    order_id = response.json()["orders"][0]["id"]
    process_order(order_id=order_id, actor=Actor(label="test"))
    status = bank.get(reverse("api_order_detail", args=[order_id]))
    assert status.status_code == 200
    assert status.json()["status"] == "posted"
    assert status.json()["lines_posted"] == 1


def test_malformed_json_is_kept_and_needs_review_naming_the_field(bank) -> None:
    response = bank.post(reverse("api_order_submit"), {"reference": "X", "lines": [{"iin": 5}]}, format="json")
    assert response.status_code == 201
    (order,) = response.json()["orders"]
    assert order["status"] == "needs_review"
    assert any("lines[0]" in e for e in order["errors"]), order["errors"]
    assert IncomingFile.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b'{"reference": "X",\n "lines": [1, 2,,]}', "line 2: not valid JSON (column 17)"),
        (b'{"reference": "\xff"}', "line 1: not valid JSON: the body is not UTF-8 text"),
    ],
)
def test_a_body_that_is_not_json_is_kept_and_its_order_needs_review(bank, body: bytes, where: str) -> None:
    response = bank.post(reverse("api_order_submit"), body, content_type="application/json")
    assert response.status_code == 201
    (order,) = response.json()["orders"]
    assert order["status"] == "needs_review"
    assert any(e.startswith(where) for e in order["errors"]), order["errors"]
    stored = IncomingFile.objects.get()
    assert bytes(stored.raw) == body  # byte for byte, nothing lost
    assert stored.door == "api"


def test_a_body_of_another_media_type_is_refused(bank) -> None:
    response = bank.post(reverse("api_order_submit"), b"x", content_type="text/plain")
    assert response.status_code == 415
    assert not IncomingFile.objects.exists()


def test_return_document_csv_and_mt102(bank, people) -> None:
    text = order_text([line_for(people[4]), line_for(people[5], iin="850615300012")])
    order_id = upload(bank, text, received="2023-11-24").json()["orders"][0]["id"]
    process_order(order_id=order_id, actor=Actor(label="test"))
    csv = bank.get(reverse("api_return_document", args=[order_id, "csv"]))
    assert csv.status_code == 200
    body = csv.content.decode()
    assert body.splitlines()[0].startswith('\ufeff"return_document";"order_reference"')
    assert "850615300012" in body
    assert "unknown_iin" in body
    mt = bank.get(reverse("api_return_document", args=[order_id, "mt102"]))
    assert mt.status_code == 200
    parsed = parse_mt102(mt.content)
    (back,) = parsed.orders
    assert [line.iin for line in back.lines] == ["850615300012"]
    assert back.reference == f"RET{order_id}"  # the whole order id, within 16 characters
    assert back.total is not None
    assert str(back.total) == "7000.00"
    assert bank.get(reverse("api_return_document", args=[order_id, "pdf"])).status_code == 404


def test_a_bank_sees_only_its_own_orders(bank, make_user, people) -> None:
    other = APIClient()
    user = make_user("api_client", username="bank-other")
    other.force_authenticate(user)
    order_id = upload(bank, order_text([line_for(people[6])])).json()["orders"][0]["id"]
    assert other.get(reverse("api_order_detail", args=[order_id])).status_code == 404
    staff = APIClient()
    staff.force_authenticate(make_user("specialist"))
    assert staff.get(reverse("api_order_detail", args=[order_id])).status_code == 200


def test_submission_needs_the_permission(make_user, people) -> None:
    client = APIClient()
    client.force_authenticate(make_user("auditor"))
    assert upload(client, order_text([line_for(people[7])])).status_code == 403
    assert not PaymentOrder.objects.exists()
    anonymous = APIClient()
    assert upload(anonymous, order_text([line_for(people[7])])).status_code in (401, 403)


def test_a_bad_received_date_is_refused_and_nothing_stored(bank, people) -> None:
    response = upload(bank, order_text([line_for(people[8])]), received="24.11.2023x")
    assert response.status_code == 400
    assert "received" in response.json()
    assert not IncomingFile.objects.exists()


def test_the_schema_and_docs_are_served() -> None:
    client = APIClient()
    schema = client.get(reverse("api_schema"))
    assert schema.status_code == 200
    assert b"/api/v1/orders/" in schema.content
    docs = client.get(reverse("api_docs"))
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_return_references_are_unique_and_at_most_16_characters() -> None:
    from contributions.documents import mt102_reference
    from contributions.models import ReturnDocument

    references = {mt102_reference(ReturnDocument(order_id=n)) for n in (1234, 1235, 10**12, 10**13, 2**63 - 1)}
    assert len(references) == 5
    assert max(len(r) for r in references) <= 16
    assert mt102_reference(ReturnDocument(order_id=1234)) == "RET1234"


def test_the_api_documentation_describes_the_upload_the_json_order_and_the_errors(client) -> None:
    """/api/docs/ reads /api/schema/: a file upload as multipart (a file picker in Swagger UI),
    the JSON order with its lines, and every error answer with its JSON."""
    import yaml

    schema = yaml.safe_load(client.get(reverse("api_schema")).content)
    submit = schema["paths"]["/api/v1/orders/"]["post"]
    components = schema["components"]["schemas"]

    def resolve(ref: dict[str, Any]) -> Any:
        return components[ref["$ref"].rsplit("/", 1)[-1]]

    upload_form = resolve(submit["requestBody"]["content"]["multipart/form-data"]["schema"])
    file_field = upload_form["properties"]["file"]
    assert (file_field["type"], file_field["format"], upload_form["required"]) == ("string", "binary", ["file"])
    json_body = submit["requestBody"]["content"]["application/json"]
    envelope = resolve(json_body["schema"])
    order = resolve(envelope["properties"]["order"])
    assert {"reference", "number", "document_date", "payer", "payee", "knp", "total", "value_date", "lines"} <= set(
        order["required"]
    )
    line = resolve(order["properties"]["lines"]["items"])
    assert {"iin", "last_name", "first_name", "period", "amount"} <= set(line["required"])
    assert json_body["examples"]  # an example order to start from
    for path, method, statuses in [
        ("/api/v1/orders/", "post", {"400", "401", "403", "413", "415", "429"}),
        ("/api/v1/orders/{id}/", "get", {"401", "403", "404", "429"}),
        ("/api/v1/orders/{id}/return-document.{fmt}", "get", {"401", "403", "404", "409", "429"}),
    ]:
        responses = schema["paths"][path][method]["responses"]
        assert statuses <= set(responses), (path, statuses - set(responses))
        for status in statuses:
            content = responses[status]["content"]["application/json"]
            assert resolve(content["schema"])["properties"], (path, status)
            assert responses[status]["description"]


def test_the_documented_error_shapes_are_what_the_api_answers(bank, people) -> None:
    missing = bank.get(reverse("api_order_detail", args=[99_999_999]))
    assert (missing.status_code, set(missing.json())) == (404, {"detail"})
    huge = bank.get(reverse("api_order_detail", args=[10**30]))
    assert huge.status_code == 404
    assert bank.get(reverse("api_return_document", args=[99_999_999, "csv"])).status_code == 404
    refused = bank.post(reverse("api_order_submit"), {"received": "2023-11-24"}, format="multipart")
    assert (refused.status_code, set(refused.json())) == (400, {"file"})
    bad_date = upload(bank, order_text([line_for(people[1])]), received="24.11.2023")
    assert (bad_date.status_code, set(bad_date.json())) == (400, {"received"})
    anonymous = APIClient().get(reverse("api_order_detail", args=[1]))
    assert (anonymous.status_code, set(anonymous.json())) == (401, {"detail"})
    assert anonymous["WWW-Authenticate"] == "Token"
