"""The files of a released list (CSV, XLSX, MT102-style) and the banks' confirmations (Rules,
paragraph 12 item 25): raw bytes kept first, duplicates answered, damaged files refused with the
place, lines matched to payments, returns paid again once the account is corrected."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from payments.lists import ListMismatch, list_csv, list_mt102, list_xlsx
from payments.models import ConfirmationFile, ConfirmationLine, Payment, PaymentReturn
from payments.services.confirmations import confirmation_take_in
from records.identifiers import make_kz_iban
from records.models import AuditEvent
from tests.payments.conftest import HALYK, account, build, release
from tests.payments.test_runs import FEB, JAN, MAR


@pytest.fixture
def released(paid_to, staff):
    """January released: one payment of 61 284.27 net on list 202401-01."""
    return release(build(JAN, staff), staff)


def confirmation(*lines: str, header: str = "list;line;iin;amount;status;reason") -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


def test_the_list_files_carry_every_payment_and_the_checksum(released, paid_to):
    payment_list = released.lists.get()
    with translation.override("ru"):
        text = list_csv(payment_list).decode("utf-8")
    assert text.startswith("\ufeff")
    assert f'"{paid_to.participant.iin}"' in text
    assert ";68093,64;6809,37;61284,27\r\n" in text  # the reader's decimal comma
    assert payment_list.checksum in text
    sheet = load_workbook(io.BytesIO(list_xlsx(payment_list))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == paid_to.participant.iin
    assert rows[1][-1] == pytest.approx(61284.27)  # a number cell
    message = list_mt102(payment_list, value_date=date(2024, 1, 25)).decode("utf-8")
    assert ":20:202401-01" in message
    assert ":57B:HSBKKZKX" in message
    assert ":21:1\r\n:32B:KZT61284,27\r\n" in message
    assert f"/IDN/{paid_to.participant.iin}" in message
    assert "/PERIOD/012024" in message
    assert ":32A:240125KZT61284,27" in message
    assert f":72:/SHA256/{payment_list.checksum}" in message


def test_a_list_whose_rows_changed_is_never_handed_out(released):
    import pgtrigger

    payment_list = released.lists.get()
    # A released run cannot change (a trigger refuses); someone who turned the trigger off:
    with pgtrigger.ignore("payments.Payment:payment_released_frozen"):
        Payment.objects.filter(payment_list=payment_list).update(iban=make_kz_iban("601", "9999999999999"))
    with pytest.raises(ListMismatch, match=r"^202401-01$"):
        list_csv(payment_list)


def test_credited_and_not_credited_lines(released, paid_to, staff):
    iin = paid_to.participant.iin
    result = confirmation_take_in(
        raw=confirmation(f"202401-01;1;{iin};61284,27;not_credited;account closed"),
        file_name="halyk.csv",
        actor=staff["drafter"],
    )
    assert (result.duplicate, result.problems, result.file.state) == (False, [], "taken")
    assert (result.file.credited, result.file.not_credited) == (0, 1)
    returned = PaymentReturn.objects.get()
    assert (returned.reason, returned.payment.run_id) == ("account closed", released.pk)


def test_the_same_file_again_is_a_duplicate(released, paid_to, staff):
    raw = confirmation(f"202401-01;1;{paid_to.participant.iin};61284.27;credited;")
    first = confirmation_take_in(raw=raw, file_name="a.csv", actor=staff["drafter"])
    again = confirmation_take_in(raw=raw, file_name="a-copy.csv", actor=staff["drafter"])
    assert again.duplicate
    assert again.file.pk == first.file.pk
    assert ConfirmationFile.objects.count() == 1
    assert ConfirmationLine.objects.count() == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("list;line;iin;amount;status;reason\r\n202401-01;1;x;1;credited;\r\n".encode("cp1251") + b"\xff", "UTF-8"),
        (b"a;b;c\r\n1;2;3\r\n", "Line 1: the header"),
        (b"list;line;iin;amount;status;reason\r\n", "no lines"),
        (b"list;line;iin;amount;status;reason\r\n209901-01;1;1;1;credited;\r\n", "Unknown payment list"),
    ],
)
def test_a_damaged_file_is_refused_with_the_place_and_kept(released, staff, raw, message):
    result = confirmation_take_in(raw=raw, file_name="bad.csv", actor=staff["drafter"])
    stored = ConfirmationFile.objects.get()
    assert (result.file.state, stored.state) == ("refused", "refused")
    assert message in result.problems[0]["message"]
    assert stored.problems == result.problems
    refused = AuditEvent.objects.get(action="payments.confirmation_refused")
    assert (refused.object_pk, refused.actor, refused.data) == (
        str(stored.pk),
        staff["drafter"],
        {"problems": result.problems},
    )
    assert bytes(ConfirmationFile.objects.get().raw) == raw  # kept as received
    assert not ConfirmationLine.objects.exists()


def test_bad_lines_are_reported_with_their_place_and_the_good_ones_taken(released, paid_to, staff, people):
    iin = paid_to.participant.iin
    result = confirmation_take_in(
        raw=confirmation(
            f"202401-01;7;{iin};61284,27;credited;",  # no such line
            f"202401-01;1;{people[9].iin};61284,27;credited;",  # another person
            f"202401-01;1;{iin};61284,28;credited;",  # another amount
            f"202401-01;1;{iin};61284,27;paid;",  # unknown status
            f"202401-01;1;{iin};61284,27;not_credited;",  # no reason
            f"202401-01;1;{iin};61284,27;credited;",  # good
            f"202401-01;1;{iin};61284,27;credited;",  # repeated
        ),
        file_name="mixed.csv",
        actor=staff["drafter"],
    )
    assert [(p["line"], p["message"]) for p in result.problems] == [
        (2, "List 202401-01 has no line 7."),
        (3, "The IIN is not the one of line 1."),
        (4, "The amount is not the 61284.27 of line 1."),
        (5, "Status must be credited or not_credited: paid."),
        (6, "A payment not credited needs its reason."),
        (8, "Line 1 of the list was already confirmed."),
    ]
    assert result.file.credited == 1
    assert ConfirmationLine.objects.get().line_no == 7
    again = confirmation_take_in(
        raw=confirmation(f"202401-01;1;{iin};61284,27;not_credited;late"), file_name="late.csv", actor=staff["drafter"]
    )
    assert again.problems == [{"line": 2, "message": "Line 1 of the list was already confirmed."}]
    assert not PaymentReturn.objects.exists()


def test_a_list_not_released_is_not_confirmed(paid_to, staff):
    build(JAN, staff)
    result = confirmation_take_in(
        raw=confirmation(f"202401-01;1;{paid_to.participant.iin};61284,27;credited;"),
        file_name="early.csv",
        actor=staff["drafter"],
    )
    assert result.file.state == "refused"
    assert "not released" in result.problems[0]["message"]


def test_a_return_is_paid_again_once_the_account_is_corrected(released, paid_to, staff):
    iin = paid_to.participant.iin
    confirmation_take_in(
        raw=confirmation(f"202401-01;1;{iin};61284,27;not_credited;account closed"),
        file_name="r.csv",
        actor=staff["drafter"],
    )
    returned = PaymentReturn.objects.get()
    feb = release(build(FEB, staff), staff)
    assert not Payment.objects.get(run=feb).items.exists()  # the account was not corrected
    account(paid_to, staff, iban=make_kz_iban("722", "0000000000077"), bic="CASPKZKA", valid_from=MAR)
    payment = Payment.objects.get(run=build(MAR, staff))
    again = payment.items.get()
    assert (again.kind, again.repays_id, again.for_month) == ("repayment", returned.payment_id, JAN)
    # The contributions were withheld and transferred with the first payment: the net again.
    assert (again.gross, again.withheld) == (returned.payment.net, Decimal("0.00"))
    assert payment.bank_id == "CASPKZKA"


def test_no_mt102_without_the_account_payments_are_paid_from(released, settings):
    from payments.apps import check_payer_account
    from payments.lists import PayerNotConfigured

    settings.PAYMENTS_PAYER_ACCOUNT = ""
    assert [message.id for message in check_payer_account()] == ["payments.W001"]
    with pytest.raises(PayerNotConfigured):
        list_mt102(released.lists.get(), value_date=date(2024, 1, 25))
    settings.PAYMENTS_PAYER_ACCOUNT = "KZ429990000000000003"  # one check digit off
    assert [message.id for message in check_payer_account()] == ["payments.W001"]
    settings.PAYMENTS_PAYER_ACCOUNT = "KZ429990000000000002"
    assert check_payer_account() == []
    assert ":50:/D/KZ429990000000000002" in list_mt102(released.lists.get(), value_date=date(2024, 1, 25)).decode()


def test_the_mt102_message_word_for_word(released, paid_to, settings):
    settings.PAYMENTS_PAYOUT_KNP = "059"
    person = paid_to.participant
    message = list_mt102(released.lists.get(), value_date=date(2024, 1, 25)).decode("utf-8")
    checksum = released.lists.get().checksum
    assert message == "\r\n".join(
        [
            "{1:F01GCVPKZ2AXXXX0000000000}",
            "{2:I102HSBKKZKXXXXXN}",
            "{4:",
            ":20:202401-01",
            ":50:/D/KZ429990000000000002",
            "/NAME/НАО ГК ПРАВИТЕЛЬСТВО ДЛЯ ГРАЖДАН",
            "/IDN/160440007161",
            "/IRS/1",
            "/SECO/1",
            ":52B:GCVPKZ2A",
            ":57B:HSBKKZKX",
            ":70:/NUM/20240101",
            "/DATE/240125",
            "/KNP/059",
            "/ASSIGN/СОЦИАЛЬНЫЕ ВЫПЛАТЫ ИЗ ГФСС ЗА ЯНВАРЬ 2024 Г.",
            f":72:/SHA256/{checksum}",
            ":21:1",
            ":32B:KZT61284,27",
            f":59:{HALYK}",
            f":70:/FM/{person.last_name.upper()}",
            f"/NM/{person.first_name.upper()}",
            f"/FT/{person.patronymic.upper()}",
            f"/DT/{person.birth_date:%Y%m%d}",
            f"/IDN/{person.iin}",
            "/PERIOD/012024",
            ":32A:240125KZT61284,27",
            "-}",
            "",
        ]
    )
    settings.PAYMENTS_PAYOUT_KNP = ""
    assert "/KNP/" not in list_mt102(released.lists.get(), value_date=date(2024, 1, 25)).decode()


def test_the_spreadsheets_columns_and_footer_word_for_word(released, paid_to):
    payment_list = released.lists.get()
    columns = [
        "Line", "IIN", "Surname", "First name", "Patronymic", "Date of birth", "Account (IBAN)",
        "Payment type", "Month", "Gross", "Pension contributions withheld", "Net",
    ]  # fmt: skip
    footer = f"List 202401-01, bank HSBKKZKX: 1 payments, net 61284.27, checksum SHA-256 {payment_list.checksum}"
    with translation.override("en"):
        lines = list_csv(payment_list).decode("utf-8-sig").split("\r\n")
        sheet = load_workbook(io.BytesIO(list_xlsx(payment_list))).active
    assert lines[0] == ";".join(f'"{c}"' for c in columns)
    assert lines[2] == f'"{footer}"'
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "202401-01"
    assert list(rows[0]) == columns
    assert rows[1][:3] == (1, paid_to.participant.iin, paid_to.participant.last_name)
    assert rows[2][0] == footer


def test_two_payments_on_one_list_give_the_checksum_the_run_computed(released, staff, people):
    """The checksum joins the lines with a newline, in SQL at the build and in Python at each
    download: with two lines the two must agree."""
    import hashlib

    from payments.services import decision_draft, recipient_register
    from tests.payments.conftest import approve_through, months, pay

    person = people[6]
    pay(person, months((2022, 2), 24), reference="TWO")
    other = recipient_register(
        iin=person.iin, payment_type="0702", application_date=date(2024, 1, 20), risk_date=date(2024, 1, 10),
        loss_degree=40, actor=staff["drafter"],
    )  # fmt: skip
    approve_through(decision_draft(recipient_id=other.pk, kind="assign", actor=staff["drafter"]), staff)
    account(other, staff, iban=make_kz_iban("601", "0000000000002"), valid_from=date(2024, 1, 1))
    feb = build(date(2024, 2, 1), staff)
    payment_list = feb.lists.get()
    assert payment_list.count == 2
    rows = list(
        Payment.objects.filter(payment_list=payment_list).order_by("line").select_related("recipient__participant")
    )
    text = "\n".join(f"{p.line};{p.recipient.participant.iin};{p.iban};{p.net:.2f}" for p in rows)
    assert payment_list.checksum == hashlib.sha256(text.encode()).hexdigest()
    assert len(list_csv(payment_list).decode("utf-8-sig").split("\r\n")) == 5  # header, 2 lines, footer, end


def test_a_line_too_wide_is_reported_and_the_lines_after_it_are_taken(released, paid_to, staff):
    iin = paid_to.participant.iin
    result = confirmation_take_in(
        raw=confirmation(
            "202401-01;1;x;1;credited;;extra",
            f"202401-01;1;{iin};61 284,27;credited;",  # spaces in an amount, as a spreadsheet writes it
        ),
        file_name="wide.csv",
        actor=staff["drafter"],
    )
    assert result.problems == [{"line": 2, "message": "7 cells, the header has 6."}]
    assert result.file.credited == 1
    taken = AuditEvent.objects.get(action="payments.confirmation_taken")
    assert (taken.object_pk, taken.actor) == (str(result.file.pk), staff["drafter"])
    assert taken.data == {"list": "202401-01", "credited": 1, "returned": 0, "problems": 1}


def test_an_amount_that_is_no_number_is_not_the_payments(released, paid_to, staff):
    iin = paid_to.participant.iin
    result = confirmation_take_in(
        raw=confirmation(
            f"202401-01;1;{iin};Infinity;credited;",
            f"202401-01;1;{iin};sNaN;credited;",  # a signalling NaN cannot even be compared
            f"202401-01;1;{iin};61284,27 KZT;credited;",
        ),
        file_name="odd.csv",
        actor=staff["drafter"],
    )
    assert [p["message"] for p in result.problems] == ["The amount is not the 61284.27 of line 1."] * 3
    assert not ConfirmationLine.objects.exists()
