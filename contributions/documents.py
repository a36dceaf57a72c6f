"""Return documents to the payer as CSV and as an MT102-style message (Rules, paragraph 6:
"in the event of a discrepancy ... the social contributions shall be returned to the payer")."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from contributions.models import LineStatus, OrderLine, ReturnDocument, ReturnReason
from records.identifiers import is_kz_iban, is_valid_iin_bin

CSV_HEADER = [
    "return_document",
    "order_reference",
    "order_number",
    "document_date",
    "payer",
    "sequence",
    "iin",
    "last_name",
    "first_name",
    "patronymic",
    "birth_date",
    "period",
    "amount",
    "reason",
    "reason_text",
]


def returned_lines(document: ReturnDocument) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=document.order, status=LineStatus.RETURNED).order_by("sequence"))


def _amount(value: Decimal | None) -> str:
    return f"{(value or Decimal('0')):.2f}"


def _cell(value: str) -> str:
    """A payer's text as a CSV cell that a spreadsheet shows as text: one line, and a leading
    ``=``, ``+``, ``-`` or ``@`` (a formula to Excel) quoted with an apostrophe (OWASP: CSV
    injection)."""
    text = _text(value)
    return f"'{text}" if text.startswith(("=", "+", "-", "@")) else text


CSV_BOM = "\ufeff"
CSV_DELIMITER = ";"


def return_document_csv(document: ReturnDocument) -> str:
    """The returned lines, as the payer sent them, with their reasons and the total paid back.

    Written for Excel as the State Corporation's staff and payers open it (Kazakh and Russian
    locales): UTF-8 with a byte order mark (without it Excel reads Windows-1251 and garbles the
    names), ``;`` between fields (the list separator there, where ``,`` is the decimal mark),
    every field quoted, and a payer's text that could start a formula shown as text (``_cell``)."""
    order = document.order
    out = io.StringIO()
    out.write(CSV_BOM)
    writer = csv.writer(out, delimiter=CSV_DELIMITER, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    lines = returned_lines(document)
    for line in lines:
        writer.writerow(
            [
                document.number,
                _cell(order.reference),
                _cell(order.number),
                order.document_date.isoformat() if order.document_date else "",
                _cell(order.payer_idn),
                line.sequence,
                _cell(line.iin),
                _cell(line.last_name),
                _cell(line.first_name),
                _cell(line.patronymic),
                line.birth_date.isoformat() if line.birth_date else "",
                f"{line.period:%Y-%m}" if line.period else _cell(line.period_text),
                _amount(line.amount),
                line.reason,
                str(ReturnReason(line.reason).label) if line.reason else "",
            ]
        )
    lines_sum = _lines_sum(lines)
    if lines_sum != document.total:  # an order returned in full whose lines did not add up
        writer.writerow([document.number, "", "", "", "", "", "", "", "", "", "", "lines", _amount(lines_sum), "", ""])
    writer.writerow([document.number, "", "", "", "", "", "", "", "", "", "", "total", _amount(document.total), "", ""])
    return out.getvalue()


def _mt_amount(value: Decimal | None) -> str:
    return _amount(value).replace(".", ",")


def mt102_reference(document: ReturnDocument) -> str:
    """The ``:20:`` reference of a return message: at most 16 characters (reference.md §3) and
    unique, so it carries the whole order id (the document number, ``RET-YYYYMMDD-<order id>``,
    is longer; cutting it made returns of orders 1234 and 1235 of one day share a reference)."""
    reference = f"RET{document.order_id}"
    if len(reference) <= 16:
        return reference
    digits, value = "", document.order_id
    while value:
        value, rest = divmod(value, 36)
        digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rest] + digits
    return f"RET{digits}"


NOTHING_TO_PAY_BACK = gettext_noop(
    "The returned lines carry no money, so there is no payment to make; the CSV lists them."
)
PAYER_ACCOUNT_UNKNOWN = gettext_noop(
    "The order does not name the payer's account and bank (a CSV or XLSX list does not), so the "
    "payment back cannot be addressed; the CSV lists the lines."
)
PAYER_UNKNOWN = gettext_noop(
    "The order does not name a valid payer IIN/BIN, so the payment back cannot be addressed; the CSV lists the lines."
)
NO_DEBIT_ACCOUNT = gettext_noop(
    "The State Corporation account to pay back from is not known: the order did not pay into one, "
    "and STATE_CORPORATION_ACCOUNT is not set to an IBAN."
)
_BIC = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")


class NoReturnMessage(Exception):
    """Why a return document has no MT102 (its CSV always lists the lines): ``reason`` is an
    English message template, worded by ``worded()`` in the reader's language."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def worded(self) -> str:
        return gettext(self.reason)


def is_itemised(document: ReturnDocument, lines: list[OrderLine]) -> bool:
    """Whether the money goes back line by line: the returned lines that carry money add up to
    what is paid back. Otherwise the list itself was what was wrong (an order returned in full
    after review because its lines did not add up to its total, or could not be read), and the
    payer gets the whole amount back in one entry."""
    return _lines_sum(lines) == document.total


def _lines_sum(lines: list[OrderLine]) -> Decimal:
    return sum((line.amount or Decimal("0") for line in lines), Decimal("0"))


def debit_account(document: ReturnDocument) -> str:
    """The State Corporation account the money is paid back from: the one the order paid into
    (its ``:59:``) when the order was paid to the State Corporation and names an IBAN, else the
    configured account; "" when neither is an IBAN."""
    order = document.order
    paid_to_us = order.payee_idn in ("", settings.STATE_CORPORATION_BIN) and order.payee_bic in (
        "",
        settings.STATE_CORPORATION_BIC,
    )
    if paid_to_us and is_kz_iban(order.payee_account):
        return order.payee_account
    return settings.STATE_CORPORATION_ACCOUNT if is_kz_iban(settings.STATE_CORPORATION_ACCOUNT) else ""


def mt102_problem(document: ReturnDocument) -> str | None:
    """Why the document cannot be paid back as an MT102 (a message template), or None."""
    if document.total <= 0:
        return NOTHING_TO_PAY_BACK
    order = document.order
    if not is_valid_iin_bin(order.payer_idn):
        return PAYER_UNKNOWN
    if not is_kz_iban(order.payer_account) or not _BIC.fullmatch(order.payer_bic):
        return PAYER_ACCOUNT_UNKNOWN
    if not debit_account(document):
        return NO_DEBIT_ACCOUNT
    return None


def _text(value: object) -> str:
    """A value as one line of field text: the payers' own data (names, numbers, periods) must not
    break the message into lines of its own (a forged ``:21:`` or ``:32B:``)."""
    text = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in str(value))
    return " ".join(text.split())


def return_document_mt102(document: ReturnDocument) -> str:
    """An MT102-style message from the State Corporation back to the payer.

    The money paid back is the document's total, and ``:32A:`` always equals the sum of the
    ``:32B:`` entries (reference.md §3.2: the banks' validator requires it). Normally there is one
    sequence B per returned line that carries money, with ``/RSN/`` its return reason code; when
    the lines do not add up to the total (``is_itemised``) there is one entry for the whole
    amount, naming the payer, with the latest period of the lines and ``/RSN/order_returned``.
    Every value from the order is written as one line of text (``_text``). Raises
    ``NoReturnMessage`` when the document cannot be paid back this way (``mt102_problem``)."""
    problem = mt102_problem(document)
    if problem is not None:
        raise NoReturnMessage(problem)
    order = document.order
    today = timezone.localdate()
    returned = returned_lines(document)
    lines = [line for line in returned if line.amount is not None and line.amount > 0]
    parts = [
        f"{{1:F01{settings.STATE_CORPORATION_BIC}XXXX0000000000}}",
        "{2:I102SGROSS000000U3003}",
        "{4:",
        f":20:{mt102_reference(document)}",
        f":50:/D/{debit_account(document)}",
        "/NAME/НАО ГК ПРАВИТЕЛЬСТВО ДЛЯ ГРАЖДАН",
        f"/IDN/{settings.STATE_CORPORATION_BIN}",
        f":52B:{settings.STATE_CORPORATION_BIC}",
        f":57B:{order.payer_bic}",
        f":59:{order.payer_account}",
        f"/NAME/{_text(order.payer_name)[:60]}",
        f"/IDN/{_text(order.payer_idn)}",
        f":70:/NUM/{order.pk}",
        f"/DATE/{today:%y%m%d}",
        f"/KNP/{_text(order.knp)}",
        f"/ASSIGN/ВОЗВРАТ ПО П/П {_text(order.number)} ОТ {order.document_date:%d.%m.%Y}"
        if order.document_date
        else f"/ASSIGN/ВОЗВРАТ ПО П/П {_text(order.number)}",
    ]
    if is_itemised(document, lines):
        for index, line in enumerate(lines, start=1):
            parts += [
                f":21:{index}",
                f":32B:KZT{_mt_amount(line.amount)}",
                ":70:/OPV/S",
                f"/FM/{_text(line.last_name)}",
                f"/NM/{_text(line.first_name)}",
                f"/FT/{_text(line.patronymic)}",
                f"/DT/{line.birth_date:%Y%m%d}" if line.birth_date else "/DT/",
                f"/IDN/{_text(line.iin)}",
                f"/PERIOD/{line.period:%m%Y}" if line.period else f"/PERIOD/{_text(line.period_text)}",
                f"/RSN/{line.reason}",
            ]
    else:
        periods = [line.period for line in returned if line.period is not None]
        period = max(periods) if periods else (order.document_date or order.received)
        parts += [
            ":21:1",
            f":32B:KZT{_mt_amount(document.total)}",
            ":70:/OPV/S",
            f"/FM/{_text(order.payer_name)[:60]}",
            f"/IDN/{_text(order.payer_idn)}",
            f"/PERIOD/{period:%m%Y}",
            f"/RSN/{ReturnReason.ORDER_RETURNED}",
        ]
    parts += [f":32A:{today:%y%m%d}KZT{_mt_amount(document.total)}", "-}"]
    return "\r\n".join(parts) + "\r\n"
