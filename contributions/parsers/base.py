"""What every parser produces: messages split from a file, each parsed into an order with lines.

Parsing never raises on bad input: problems become ``ParseError`` entries that name the line of
the file they concern, and the pipeline sends an order with errors to ``needs_review``
(conventions: "Incoming payment orders"). Values that are present but wrong for the line checks
(an invalid IIN, a non-positive amount, an unreal period) are *not* parse errors: they are kept
as text/None so the line check can return that line with its reason.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from contributions.problems import Problem

ParseError = Problem  # a problem found while reading a file: a line and a message template


@dataclass
class ParsedLine:
    """One individual of the list (MT102 sequence B, a CSV/XLSX row, a JSON item)."""

    sequence: int  # the line's position in its order (1-based): unique within the order
    file_line: int  # where the line starts in the file (1-based; 0 for JSON)
    iin: str  # as given, stripped (may be invalid: the line check returns it)
    last_name: str
    first_name: str
    patronymic: str
    birth_date: date | None  # None when missing or not a date
    period: date | None  # first day of the month; None when missing or not a real month
    period_text: str  # as given
    amount: Decimal | None  # None when missing or not a number
    # MT102: the :21: number as written (sequence numbers are checked by the parser, and are not
    # stored as ``sequence``: a repeated number must not clash in the lines' unique index).
    number_text: str = ""
    currency: str = ""  # MT102 :32B: currency; "" where the format has none per line


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
    currency: str = ""  # :32A: currency (CSV/XLSX and JSON: as given, KZT by default)
    currency_line: int = 0  # where the currency is written (MT102: the :32A: line)
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


def attach_problems(parsed: ParsedFile, problems: list[ParseError]) -> None:
    """Give problems of the file's text (e.g. bytes that are not characters of its encoding) to
    the orders whose text holds their lines, so that exactly those orders need review: to the
    order of the nearest order start or list line at or before the problem's line, and one
    before every order (a list's header, text before the first message) to the first order, as
    the MT102 reader does with stray text. A file without orders keeps them as its own errors."""
    if not problems:
        return
    if not parsed.orders:
        parsed.errors.extend(problems)
        parsed.errors.sort(key=lambda problem: problem.line)
        return
    anchors = sorted(
        {(order.first_line, index) for index, order in enumerate(parsed.orders)}
        | {(line.file_line, index) for index, order in enumerate(parsed.orders) for line in order.lines}
    )
    starts = [line for line, _ in anchors]
    for problem in problems:
        at = bisect_right(starts, problem.line) - 1
        parsed.orders[anchors[at][1] if at >= 0 else 0].errors.append(problem)
    for order in parsed.orders:
        order.errors.sort(key=lambda problem: problem.line)
