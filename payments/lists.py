"""The files of a released payment list (Rules, paragraph 13): CSV and XLSX for the staff and
an MT102-style message for the bank (reference.md §3: the same tags and formats as the incoming
lists, here from the State Corporation to the recipients' accounts).

Each carries the list's number, count, totals and checksum; the checksum is the SHA-256 of the
lines as ``line;IIN;IBAN;net`` joined by newlines, which the run computed in SQL and
``list_checksum`` computes again from the rows written, so a file that does not match the list
is never handed out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from payments.models import Payment, PaymentList
from records.identifiers import is_kz_iban
from records.spreadsheets import table_csv, table_xlsx

PAYER_NAME = "НАО ГК ПРАВИТЕЛЬСТВО ДЛЯ ГРАЖДАН"
MONTHS_RU = (
    "ЯНВАРЬ", "ФЕВРАЛЬ", "МАРТ", "АПРЕЛЬ", "МАЙ", "ИЮНЬ",
    "ИЮЛЬ", "АВГУСТ", "СЕНТЯБРЬ", "ОКТЯБРЬ", "НОЯБРЬ", "ДЕКАБРЬ",
)  # fmt: skip


class ListMismatch(Exception):
    """The rows read do not give the list's checksum: never handed out."""


class PayerNotConfigured(Exception):
    """``PAYMENTS_PAYER_ACCOUNT`` is not set: a message without the account it is paid from is
    never handed out."""


@dataclass(frozen=True)
class ListRow:
    line: int | None
    iin: str
    last_name: str
    first_name: str
    patronymic: str
    birth_date: date
    iban: str
    payment_type: str
    month: date
    gross: Decimal
    withheld: Decimal
    net: Decimal


def list_rows(payment_list: PaymentList) -> Iterator[ListRow]:
    payments = (
        Payment.objects.filter(payment_list=payment_list)
        .order_by("line")
        .values_list(
            "line",
            "recipient__participant__iin",
            "recipient__participant__last_name",
            "recipient__participant__first_name",
            "recipient__participant__patronymic",
            "recipient__participant__birth_date",
            "iban",
            "recipient__payment_type",
            "month",
            "gross",
            "withheld",
            "net",
        )
    )
    for row in payments.iterator(chunk_size=5000):
        yield ListRow(*row)


def list_checksum(rows: list[ListRow]) -> str:
    text = "\n".join(f"{row.line};{row.iin};{row.iban};{row.net:.2f}" for row in rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def checked_rows(payment_list: PaymentList) -> list[ListRow]:
    rows = list(list_rows(payment_list))
    if list_checksum(rows) != payment_list.checksum or len(rows) != payment_list.count:
        raise ListMismatch(payment_list.number)
    return rows


def _columns() -> list[str]:
    return [
        _("Line"),
        _("IIN"),
        _("Surname"),
        _("First name"),
        _("Patronymic"),
        _("Date of birth"),
        _("Account (IBAN)"),
        _("Payment type"),
        _("Month"),
        _("Gross"),
        _("Pension contributions withheld"),
        _("Net"),
    ]


def _cells(row: ListRow) -> list[object]:
    return [
        row.line,
        row.iin,
        row.last_name,
        row.first_name,
        row.patronymic,
        row.birth_date,
        row.iban,
        row.payment_type,
        f"{row.month:%m.%Y}",
        row.gross,
        row.withheld,
        row.net,
    ]


def _footer(payment_list: PaymentList) -> str:
    return _("List %(number)s, bank %(bank)s: %(count)s payments, net %(net)s, checksum SHA-256 %(checksum)s") % {
        "number": payment_list.number,
        "bank": payment_list.bank_id,
        "count": payment_list.count,
        "net": f"{payment_list.net:.2f}",
        "checksum": payment_list.checksum,
    }


def list_csv(payment_list: PaymentList) -> bytes:
    rows = checked_rows(payment_list)
    return table_csv(_columns(), [_cells(row) for row in rows], cut=_footer(payment_list))


def list_xlsx(payment_list: PaymentList) -> bytes:
    rows = checked_rows(payment_list)
    return table_xlsx(payment_list.number, _columns(), [_cells(row) for row in rows], cut=_footer(payment_list))


def _one_line(text: str) -> str:
    """A name as one line of the message: a line break in it would start a field of its own
    (``:32B:`` with another amount); every run of white space becomes one space."""
    return " ".join(text.split()).upper()


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def list_mt102(payment_list: PaymentList, *, value_date: date) -> bytes:
    """The list as an MT102-style message to its bank: sequence A the State Corporation as the
    payer, one sequence B per recipient (amount net of the contributions withheld, the
    recipient's account, name, birth date, IIN and the month), sequence C the total; the
    checksum travels in ``:72:``. Upper-case Cyrillic, UTF-8."""
    account = settings.PAYMENTS_PAYER_ACCOUNT
    if not is_kz_iban(account):
        raise PayerNotConfigured(account)
    rows = checked_rows(payment_list)
    run_month = payment_list.run.month
    bic, knp = settings.STATE_CORPORATION_BIC, settings.PAYMENTS_PAYOUT_KNP
    period = f"{run_month:%m%Y}"
    lines = [
        f"{{1:F01{bic}XXXX0000000000}}",
        f"{{2:I102{payment_list.bank_id}XXXXN}}",
        "{4:",
        f":20:{payment_list.number}",
        f":50:/D/{account}",
        f"/NAME/{PAYER_NAME}",
        f"/IDN/{settings.STATE_CORPORATION_BIN}",
        "/IRS/1",
        "/SECO/1",
        f":52B:{bic}",
        f":57B:{payment_list.bank_id}",
        f":70:/NUM/{payment_list.number.replace('-', '')}",
        f"/DATE/{value_date:%y%m%d}",
    ]
    if knp:
        lines.append(f"/KNP/{knp}")
    lines += [
        f"/ASSIGN/СОЦИАЛЬНЫЕ ВЫПЛАТЫ ИЗ ГФСС ЗА {MONTHS_RU[run_month.month - 1]} {run_month.year} Г.",
        f":72:/SHA256/{payment_list.checksum}",
    ]
    for row in rows:
        lines += [
            f":21:{row.line}",
            f":32B:KZT{_amount(row.net)}",
            f":59:{row.iban}",
            f":70:/FM/{_one_line(row.last_name)}",
            f"/NM/{_one_line(row.first_name)}",
            f"/FT/{_one_line(row.patronymic)}",
            f"/DT/{row.birth_date:%Y%m%d}",
            f"/IDN/{row.iin}",
            f"/PERIOD/{period}",
        ]
    lines += [f":32A:{value_date:%y%m%d}KZT{_amount(payment_list.net)}", "-}"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
