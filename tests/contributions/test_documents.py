"""Return documents (Rules, paragraph 6): the money paid back is what the document says, the MT102
adds up (``:32A:`` = Σ ``:32B:``), and it is paid from the account the order paid into."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from contributions.apps import check_return_account
from contributions.documents import (
    NO_DEBIT_ACCOUNT,
    NOTHING_TO_PAY_BACK,
    PAYER_ACCOUNT_UNKNOWN,
    PAYER_UNKNOWN,
    NoReturnMessage,
    return_document_csv,
    return_document_mt102,
)
from contributions.models import OrderStatus, PaymentOrder, ReturnDocument
from contributions.parsers.mt102 import parse_mt102
from contributions.parsers.tabular import COLUMNS
from contributions.services import intake_file, order_resolve_review
from records.identifiers import is_kz_iban
from records.services import Actor
from tests.conftest import PAYER, line_for, order_text, take_in

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")
INCOMING_PAYEE_ACCOUNT = "KZ429990000000000002"  # the :59: of contributions.synthetic's orders


def take_in_one(raw: str | bytes, name: str = "o.mt102") -> PaymentOrder:
    (order,) = take_in(raw, name=name)
    return order


def mt102_lines(text: str, tag: str) -> list[str]:
    return [line for line in text.split("\r\n") if line.startswith(tag)]


def test_returned_lines_go_back_line_by_line_from_the_account_paid_into(people) -> None:
    order = take_in_one(
        order_text([line_for(people[1]), line_for(people[2], iin="123"), line_for(people[3], amount="0")])
    )
    assert order.status == OrderStatus.PARTIALLY_RETURNED
    assert order.payee_account == INCOMING_PAYEE_ACCOUNT
    document = order.return_document
    assert (document.lines_count, document.total) == (2, Decimal("7000.00"))
    text = return_document_mt102(document)
    assert mt102_lines(text, ":50:/D/") == [f":50:/D/{INCOMING_PAYEE_ACCOUNT}"]
    (back,) = parse_mt102(text.encode()).orders
    # The zero-amount line carries no money: it is in the CSV, not in the payment.
    assert [line.iin for line in back.lines] == ["123"]
    assert back.total == sum(line.amount for line in back.lines if line.amount is not None) == Decimal("7000.00")
    assert mt102_lines(text, "/RSN/") == ["/RSN/invalid_iin"]
    csv = return_document_csv(document)
    assert ';"0.00";"invalid_amount";' in csv
    assert csv.splitlines()[-1].endswith(';"total";"7000.00";"";""')


def test_an_order_whose_lines_do_not_add_up_is_paid_back_whole_in_one_entry(make_user, people) -> None:
    order = take_in_one(order_text([line_for(people[4]), line_for(people[5])], total="1,00"))
    assert order.status == OrderStatus.NEEDS_REVIEW
    order = order_resolve_review(order_id=order.pk, actor=make_user("senior_specialist"), note="Сумма")
    document = order.return_document
    assert document.total == Decimal("1.00")  # the money that arrived, not what the lines claim
    text = return_document_mt102(document)
    (back,) = parse_mt102(text.encode()).orders
    # Our own reader knows all but the /RSN/ sub-field, which payers' lists do not have.
    assert [error.message for error in back.errors] == ["unknown sub-field /RSN/ in :70:"]
    assert mt102_lines(text, "/PERIOD/") == ["/PERIOD/102023"]  # the banks want a period somewhere
    assert mt102_lines(text, "/FM/") == ['/FM/ТОО "СИНТЕТИКА"']  # the payer
    assert [(line.iin, line.amount) for line in back.lines] == [(PAYER, Decimal("1.00"))]
    assert back.total == Decimal("1.00")
    assert mt102_lines(text, "/RSN/") == ["/RSN/order_returned"]
    csv = return_document_csv(document).splitlines()
    assert csv[-2].endswith(';"lines";"14000.00";"";""')
    assert csv[-1].endswith(';"total";"1.00";"";""')


def test_a_returned_negative_line_is_not_paid_back_on_its_own(people) -> None:
    order = take_in_one(order_text([line_for(people[6], amount="-5,00"), line_for(people[7], iin="123")]))
    assert order.status == OrderStatus.RETURNED
    document = order.return_document
    assert document.total == Decimal("6995.00")
    (back,) = parse_mt102(return_document_mt102(document).encode()).orders
    assert [line.amount for line in back.lines] == [Decimal("6995.00")]
    assert back.total == Decimal("6995.00")


def test_returned_lines_without_money_have_no_mt102(make_user, people) -> None:
    order = take_in_one(order_text([line_for(people[8]), line_for(people[9], amount="0")]))
    document = order.return_document
    assert document.total == Decimal("0.00")
    with pytest.raises(NoReturnMessage) as refused:
        return_document_mt102(document)
    assert refused.value.reason == NOTHING_TO_PAY_BACK
    client = Client()
    client.force_login(make_user("head_of_service"))
    response = client.get(reverse("return_document_download", args=[document.pk, "mt102"]), HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 409
    assert "В возвращенных строках нет денег" in response.content.decode()
    assert client.get(reverse("return_document_download", args=[document.pk, "csv"])).status_code == 200
    page = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert reverse("return_document_download", args=[document.pk, "csv"]) in page
    assert reverse("return_document_download", args=[document.pk, "mt102"]) not in page
    api = client.get(reverse("api_return_document", args=[order.pk, "mt102"]))
    assert (api.status_code, api.json()["detail"]) == (409, NOTHING_TO_PAY_BACK)


def csv_list(person, **extra: str) -> str:
    values = {
        **dict.fromkeys(COLUMNS, ""),
        **{"reference": "L1", "number": "7", "document_date": "2023-11-24", "payer_idn": PAYER},
        **{"payer_name": "ТОО ПРИМЕР", "knp": "012", "total": "100.00", "value_date": "2023-11-24"},
        **{"iin": "123", "last_name": person.last_name, "first_name": person.first_name},
        **{"birth_date": f"{person.birth_date:%Y-%m-%d}", "period": "2023-10", "amount": "100.00"},
        **extra,
    }
    return ",".join(values) + "\n" + ",".join(values.values()) + "\n"


def test_a_list_that_names_no_payer_account_has_no_mt102(people) -> None:
    order = take_in_one(csv_list(people[10]), name="list.csv")
    assert order.status == OrderStatus.RETURNED
    with pytest.raises(NoReturnMessage) as refused:
        return_document_mt102(order.return_document)
    assert refused.value.reason == PAYER_ACCOUNT_UNKNOWN
    assert "123" in return_document_csv(order.return_document)


def test_a_list_that_names_the_payer_account_is_paid_back_from_the_configured_account(settings, people) -> None:
    settings.STATE_CORPORATION_ACCOUNT = "KZ67009SS00368609110"  # a list does not say where it paid
    raw = csv_list(people[10], payer_account="KZ699990000000000001", payer_bic="XXXXKZKA")
    order = take_in_one(raw, name="list.csv")
    text = return_document_mt102(order.return_document)
    assert mt102_lines(text, ":50:/D/") == [":50:/D/KZ67009SS00368609110"]
    assert mt102_lines(text, ":57B:") == [":57B:XXXXKZKA"]
    assert mt102_lines(text, ":59:") == [":59:KZ699990000000000001"]


def test_an_order_not_paid_to_the_state_corporation_is_paid_back_from_the_configured_account(
    settings, make_user, people
) -> None:
    order = take_in_one(order_text([line_for(people[11])], payee_idn="990140004654"))
    assert order.status == OrderStatus.NEEDS_REVIEW
    order = order_resolve_review(order_id=order.pk, actor=make_user("senior_specialist"), note="Не нам")
    settings.STATE_CORPORATION_ACCOUNT = ""
    with pytest.raises(NoReturnMessage) as refused:  # its :59: is not ours to pay from
        return_document_mt102(order.return_document)
    assert refused.value.reason == NO_DEBIT_ACCOUNT
    settings.STATE_CORPORATION_ACCOUNT = "KZ67009SS00368609110"
    text = return_document_mt102(order.return_document)
    assert mt102_lines(text, ":50:/D/") == [":50:/D/KZ67009SS00368609110"]


def test_the_payers_data_cannot_add_lines_to_the_return_message(settings, people, head_of_service) -> None:
    settings.STATE_CORPORATION_ACCOUNT = "KZ67009SS00368609110"
    person = people[12]
    forged = "\r\n:21:9\r\n:32B:KZT999999,00"
    body = {
        "reference": "INJ1",
        "number": "1",
        "document_date": "2023-11-24",
        "payer": {"idn": PAYER, "name": f"ТОО{forged}", "account": "KZ699990000000000001", "bic": "XXXXKZKA"},
        "payee": {"idn": "160440007161", "bic": "GCVPKZ2A", "account": f"KZ42{forged}"},  # fits the column
        "knp": "012",
        "total": "7000.00",
        "value_date": "2023-11-24",
        "lines": [
            {
                "iin": f"123{forged}",
                "last_name": f"{person.last_name}{forged}",
                "first_name": person.first_name,
                "birth_date": person.birth_date.isoformat(),
                "period": f"2023-10{forged}",
                "amount": "7000.00",
            }
        ],
    }
    raw = json.dumps(body).encode()
    (order,) = intake_file(raw=raw, file_name="api.json", door="api", actor=ACTOR).orders
    assert order.status == OrderStatus.NEEDS_REVIEW  # a period too long for its column is never cut
    order = order_resolve_review(order_id=order.pk, actor=head_of_service, note="Не читается")
    assert order.status == OrderStatus.RETURNED
    text = return_document_mt102(order.return_document)
    assert mt102_lines(text, ":21:") == [":21:1"]
    assert mt102_lines(text, ":32B:") == [":32B:KZT7000,00"]
    assert mt102_lines(text, ":50:/D/") == [":50:/D/KZ67009SS00368609110"]  # the forged one is no IBAN
    assert mt102_lines(text, "/IDN/")[-1] == "/IDN/123 :21:9 :32B:KZT999999,00"  # one line of text


def test_check_deploy_warns_while_the_account_is_not_configured(settings) -> None:
    settings.STATE_CORPORATION_ACCOUNT = ""
    assert [message.id for message in check_return_account()] == ["contributions.W001"]
    settings.STATE_CORPORATION_ACCOUNT = "change-me-the-state-corporation-iban"
    assert [message.id for message in check_return_account()] == ["contributions.W002"]
    settings.STATE_CORPORATION_ACCOUNT = "KZ429990000000000003"  # one check digit off
    assert [message.id for message in check_return_account()] == ["contributions.W002"]
    settings.STATE_CORPORATION_ACCOUNT = "KZ67009SS00368609110"
    assert check_return_account() == []


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("KZ429990000000000002", True),
        ("KZ699990000000000001", True),
        ("KZ67009SS00368609110", True),
        ("KZ12009NPS0413609816", True),
        ("KZ429990000000000001", False),
        ("KZ42999000000000000", False),
        ("DE89370400440532013000", False),
        ("KZ4299900000000000٠2", False),
        ("KZ42AB90000000000002", False),  # the bank code is digits
        ("kz429990000000000002", False),
    ],
)
def test_kz_iban(value: str, valid: bool) -> None:
    assert is_kz_iban(value) is valid


def test_an_order_without_a_payer_returned_in_full_is_listed(make_user, people) -> None:
    (order,) = intake_file(
        raw=order_text([line_for(people[13])], payer_idn="").encode(), file_name="o.mt102", door="upload", actor=ACTOR
    ).orders
    head = make_user("head_of_service")
    order = order_resolve_review(order_id=order.pk, actor=head, note="Нет плательщика")
    client = Client()
    client.force_login(head)
    listing = client.get(reverse("return_document_list"))
    assert listing.status_code == 200
    assert order.return_document.number in listing.content.decode()
    with pytest.raises(NoReturnMessage) as refused:  # nobody known to pay back to
        return_document_mt102(order.return_document)
    assert refused.value.reason == PAYER_UNKNOWN


def test_a_file_nothing_could_be_read_from_is_returned_without_a_document(make_user) -> None:
    (order,) = intake_file(raw=b"\x00junk", file_name="junk.bin", door="upload", actor=ACTOR).orders
    order = order_resolve_review(order_id=order.pk, actor=make_user("head_of_service"), note="Не читается")
    assert order.status == OrderStatus.RETURNED
    assert not ReturnDocument.objects.filter(order=order).exists()


def test_the_return_csv_opens_in_excel_in_kazakh_and_russian_locales(make_user, people) -> None:
    """UTF-8 with a byte order mark (Excel otherwise reads Windows-1251 and garbles the names),
    ';' between fields (the list separator where ',' is the decimal mark), every field quoted."""
    import csv
    import io

    order = take_in_one(order_text([line_for(people[14], last_name="ӘБІЛ; ҚАСЫМ", iin="123")]))
    client = Client()
    client.force_login(make_user("specialist"))
    response = client.get(reverse("return_document_download", args=[order.return_document.pk, "csv"]))
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = raw.decode("utf-8-sig")
    assert text.startswith('"return_document";"order_reference";')
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, line, total = rows
    assert len(header) == len(line) == len(total)
    assert dict(zip(header, line, strict=True))["last_name"] == "ӘБІЛ; ҚАСЫМ"  # one field, intact
    assert all(row.startswith('"') and row.endswith('"') for row in text.splitlines())  # every field quoted
