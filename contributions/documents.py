"""Return documents to the payer as CSV and as an MT102-style message (Rules, paragraph 6:
"in the event of a discrepancy ... the social contributions shall be returned to the payer")."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from contributions.models import LineStatus, OrderLine, ReturnDocument, ReturnReason

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


def return_document_csv(document: ReturnDocument) -> str:
    order = document.order
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for line in returned_lines(document):
        writer.writerow(
            [
                document.number,
                order.reference,
                order.number,
                order.document_date.isoformat() if order.document_date else "",
                order.payer_idn,
                line.sequence,
                line.iin,
                line.last_name,
                line.first_name,
                line.patronymic,
                line.birth_date.isoformat() if line.birth_date else "",
                f"{line.period:%Y-%m}" if line.period else line.period_text,
                _amount(line.amount),
                line.reason,
                str(ReturnReason(line.reason).label) if line.reason else "",
            ]
        )
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


def return_document_mt102(document: ReturnDocument) -> str:
    """An MT102-style message from the State Corporation back to the payer, one sequence B per
    returned line; ``/RSN/`` carries the return reason code."""
    order = document.order
    today = timezone.localdate()
    lines = returned_lines(document)
    parts = [
        f"{{1:F01{settings.STATE_CORPORATION_BIC}XXXX0000000000}}",
        "{2:I102SGROSS000000U3003}",
        "{4:",
        f":20:{mt102_reference(document)}",
        ":50:/D/",
        "/NAME/НАО ГК ПРАВИТЕЛЬСТВО ДЛЯ ГРАЖДАН",
        f"/IDN/{settings.STATE_CORPORATION_BIN}",
        f":52B:{settings.STATE_CORPORATION_BIC}",
        f":57B:{order.payer_bic}",
        f":59:{order.payer_account}",
        f"/NAME/{order.payer_name}",
        f"/IDN/{order.payer_idn}",
        f":70:/NUM/{order.pk}",
        f"/DATE/{today:%y%m%d}",
        f"/KNP/{order.knp}",
        f"/ASSIGN/ВОЗВРАТ ПО П/П {order.number} ОТ {order.document_date:%d.%m.%Y}"
        if order.document_date
        else f"/ASSIGN/ВОЗВРАТ ПО П/П {order.number}",
    ]
    total = Decimal("0")
    for index, line in enumerate(lines, start=1):
        total += line.amount or Decimal("0")
        parts += [
            f":21:{index}",
            f":32B:KZT{_mt_amount(line.amount)}",
            ":70:/OPV/S",
            f"/FM/{line.last_name}",
            f"/NM/{line.first_name}",
            f"/FT/{line.patronymic}",
            f"/DT/{line.birth_date:%Y%m%d}" if line.birth_date else "/DT/",
            f"/IDN/{line.iin}",
            f"/PERIOD/{line.period:%m%Y}" if line.period else f"/PERIOD/{line.period_text}",
            f"/RSN/{line.reason}",
        ]
    parts += [f":32A:{today:%y%m%d}KZT{_mt_amount(document.total if lines else total)}", "-}"]
    return "\r\n".join(parts) + "\r\n"
