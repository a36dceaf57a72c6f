"""What every parser produces: messages split from a file, each parsed into an order with lines.

Parsing never raises on bad input: problems become ``ParseError`` entries that name the line of
the file they concern, and the pipeline sends an order with errors to ``needs_review``
(conventions: "Incoming payment orders"). Values that are present but wrong for the line checks
(an invalid IIN, a non-positive amount, an unreal period) are *not* parse errors: they are kept
as text/None so the line check can return that line with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from contributions.problems import Problem

ParseError = Problem  # a problem found while reading a file: a line and a message template


@dataclass
class ParsedLine:
    """One individual of the list (MT102 sequence B, a CSV/XLSX row, a JSON item)."""

    sequence: int  # :21: number, or the row's position (1-based)
    file_line: int  # where the line starts in the file (1-based; 0 for JSON)
    iin: str  # as given, stripped (may be invalid: the line check returns it)
    last_name: str
    first_name: str
    patronymic: str
    birth_date: date | None  # None when missing or not a date
    period: date | None  # first day of the month; None when missing or not a real month
    period_text: str  # as given
    amount: Decimal | None  # None when missing or not a number


@dataclass
class ParsedOrder:
    """One payment order: MT102 sequence A and C plus its lines."""

    first_line: int  # where the message starts in the file (1-based)
    reference: str = ""  # :20:
    number: str = ""  # /NUM/
    document_date: date | None = None  # /DATE/ (YYMMDD)
    payer_idn: str = ""  # :50: /IDN/
    payer_name: str = ""  # :50: /NAME/
    payer_account: str = ""  # :50:/D/ IBAN
    payer_bic: str = ""  # :52B:
    payee_bic: str = ""  # :57B:
    payee_account: str = ""  # :59:
    payee_idn: str = ""  # :59: /IDN/
    payee_name: str = ""
    knp: str = ""  # /KNP/
    assign: str = ""  # /ASSIGN/ purpose text
    value_date: date | None = None  # :32A: date (YYMMDD)
    currency: str = ""  # :32A: currency
    total: Decimal | None = None  # :32A: amount
    lines: list[ParsedLine] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)

    @property
    def duplicate_key(self) -> tuple[str, str, str, date] | None:
        """Payer IIN/BIN, reference, number and document date: the conventions' duplicate key."""
        if self.payer_idn and self.reference and self.number and self.document_date:
            return (self.payer_idn, self.reference, self.number, self.document_date)
        return None


@dataclass
class ParsedFile:
    """A file split into messages. ``errors`` holds problems of the file as a whole (e.g. it
    cannot be split into messages at all); then ``orders`` is empty."""

    encoding: str
    orders: list[ParsedOrder] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
