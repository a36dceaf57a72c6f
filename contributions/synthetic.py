"""Synthetic MT102 payment orders for tests, demos and ``manage.py bench_ingest``: valid
layout (reference.md §3), valid IINs from ``records.synthetic``, no real data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings


@dataclass(frozen=True)
class LineSpec:
    iin: str
    last_name: str
    first_name: str
    patronymic: str
    birth_date: date | None
    period: str  # as written in /PERIOD/ (MMYYYY)
    amount: str  # as written in :32B: after KZT ("7000,00")


def mt_amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def mt102_message(
    *,
    reference: str,
    number: str,
    document_date: date,
    payer_idn: str,
    lines: list[LineSpec],
    knp: str = "012",
    payer_name: str = 'ТОО "СИНТЕТИКА"',
    payee_idn: str | None = None,
    payee_bic: str | None = None,
    total: str | None = None,
    value_date: date | None = None,
    double_slash: bool = False,
) -> str:
    """One MT102 message. ``total`` defaults to the sum of the lines' amounts."""
    sub = "//" if double_slash else "/"
    if total is None:
        total = mt_amount(sum((Decimal(line.amount.replace(",", ".")) for line in lines), Decimal("0")))
    out = [
        "{1:F01XXXXKZKAXXXX0000000000}",
        "{2:I102SGROSS000000U3003}",
        "{4:",
        f":20:{reference}",
        ":50:/D/KZ699990000000000001",
        f"/NAME/{payer_name}",
        f"/IDN/{payer_idn}",
        "/IRS/1",
        "/SECO/7",
        ":52B:XXXXKZKA",
        f":57B:{payee_bic or settings.STATE_CORPORATION_BIC}",
        ":59:KZ429990000000000002",
        "/NAME/НАО ГК ПРАВИТЕЛЬСТВО ДЛЯ ГРАЖДАН",
        f"/IDN/{payee_idn or settings.STATE_CORPORATION_BIN}",
        "/IRS/1",
        "/SECO/1",
        f":70:/NUM/{number}",
        f"/DATE/{document_date:%y%m%d}",
        "/SEND/07",
        "/VO/01",
        f"/KNP/{knp}",
        "/PSO/01",
        "/PRT/05",
        "/ASSIGN/СОЦИАЛЬНЫЕ ОТЧИСЛЕНИЯ",
    ]
    for index, line in enumerate(lines, start=1):
        out += [
            f":21:{index}",
            f":32B:KZT{line.amount}",
            ":70:/OPV/S",
            f"{sub}FM/{line.last_name}",
            f"{sub}NM/{line.first_name}",
            f"{sub}FT/{line.patronymic}",
            f"{sub}DT/{line.birth_date:%Y%m%d}" if line.birth_date else f"{sub}DT/",
            f"{sub}IDN/{line.iin}",
            f"{sub}PERIOD/{line.period}",
        ]
    out += [f":32A:{(value_date or document_date):%y%m%d}KZT{total}", "-}"]
    return "\n".join(out) + "\n"
