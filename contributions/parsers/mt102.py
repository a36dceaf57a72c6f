"""MT102 payment orders (reference.md §3): one file, one or many messages, each one order.

A message is ``{1:...}`` ``{2:...}`` ``{4:`` ... ``-}``. Block 4 holds sequence A (the order:
``:20:``, ``:50:``, ``:52B:``, ``:57B:``, ``:59:``, ``:70:``), sequence B once per individual
(``:21:``, ``:32B:``, ``:70:/OPV/``) and sequence C (``:32A:`` value date, currency and total).

Parsing never raises. Structural problems (a garbled or unknown tag, a missing mandatory field,
an amount that is not a number, a truncated message, ...) become ``ParseError`` entries naming
the 1-based line of the decoded text; values that are present but wrong for the line checks
(an invalid IIN, a non-positive amount, an unreal period, an unparsable birth date) are kept as
text/None for the line checks.

The small helpers at the top (decoding, line splitting, amounts, periods, dates, names) are
shared with the CSV/XLSX and JSON parsers.
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_noop

from contributions.parsers.base import ParsedFile, ParsedLine, ParsedOrder, ParseError, attach_problems
from contributions.problems import storable

__all__ = [
    "KZ1048",
    "UTF8",
    "Decoded",
    "clean_name",
    "decode",
    "decode_text",
    "parse_amount",
    "parse_mt102",
    "parse_period",
    "split_lines",
]

UTF8 = "utf-8"
KZ1048 = "kz1048"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CENT = Decimal("0.01")
# Digits before the decimal point of any amount (under 10 trillion KZT): what the database's
# money columns hold with room to add up an order; a larger amount is an error, never cut.
MAX_AMOUNT_DIGITS = 13
_AMOUNT = re.compile(r"([+-]?)([0-9]+)(?:[.,]([0-9]*))?")


# --- shared helpers ---------------------------------------------------------------------------


# Evidence that text which is not valid UTF-8 throughout was still written as UTF-8: characters
# that only UTF-8 text holds as valid multi-byte sequences - Cyrillic letters (Kazakh ones
# included), "№" and dashes/quotes. KZ-1048 text forms such a sequence only by accident (an
# uppercase Р, С, Т or У followed by a Kazakh letter), while nearly all its other letters are
# bytes that are not UTF-8; so where these characters outnumber the invalid bytes by
# ``_UTF8_EVIDENCE`` to one, the invalid bytes are damage to a UTF-8 file, not another encoding.
_UTF8_LETTERS = re.compile("[\u0400-\u04ff\u2010-\u2027\u2116]")
_UTF8_EVIDENCE = 2
_NOT_DECODED = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8 (surrogateescape)
_MAX_BYTE_PROBLEMS = 20  # bytes named one by one; the rest are counted


@dataclass(frozen=True)
class Decoded:
    """A file's text, its encoding and the bytes that are not characters of that encoding."""

    text: str
    encoding: str
    problems: list[ParseError] = field(default_factory=list)


def decode(raw: bytes) -> Decoded:
    """Decode as UTF-8 (a BOM is dropped) when the bytes are UTF-8, else as KZ-1048, judging by
    the whole file (conventions, "Incoming payment orders": UTF-8, Windows-1251 or KZ-1048).

    Text that is UTF-8 except for a few bytes (a stray byte, a name pasted from a KZ-1048 file,
    a file cut inside its last character) stays UTF-8: those bytes become U+FFFD and each is a
    problem naming its offset in the file and its line, so the order holding it needs review
    instead of every name of the file being garbled into KZ-1048 and its lines returned. A
    KZ-1048 file has no such evidence and decodes as KZ-1048; its one undefined byte (0x98) is
    a problem too.
    """
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    body = raw[bom:]
    cut_after_utf8 = False
    try:
        return Decoded(body.decode(UTF8), UTF8)
    except UnicodeDecodeError as exc:
        truncated_tail = exc.reason == "unexpected end of data" and exc.end == len(body)
        cut_after_utf8 = truncated_tail and any(b >= 0x80 for b in body[: exc.start])
    # Counted at C speed (no list of matches: a large KZ-1048 file has millions of them).
    valid = body.decode(UTF8, errors="ignore")
    escaped = body.decode(UTF8, errors="surrogateescape")
    invalid = len(escaped) - len(valid)
    if bom or cut_after_utf8 or _UTF8_LETTERS.subn("", valid)[1] >= _UTF8_EVIDENCE * invalid:
        problems = _byte_problems(escaped, invalid, bom, UTF8)
        return Decoded(body.decode(UTF8, errors="replace"), UTF8, problems)
    text = raw.decode(KZ1048, errors="replace")
    undefined = text.count("\ufffd")
    return Decoded(text, KZ1048, _byte_problems(text.replace("\ufffd", "\udc98"), undefined, 0, KZ1048))


def _byte_problems(escaped: str, count: int, offset: int, encoding: str) -> list[ParseError]:
    """One problem per undecodable byte (``escaped`` holds byte ``b`` as U+DC00+b), naming the
    byte, its offset in the file (0-based, the BOM counted) and its line; the first
    ``_MAX_BYTE_PROBLEMS`` of them, then one that counts the rest."""
    problems: list[ParseError] = []
    line, done = 1, 0
    for match in _NOT_DECODED.finditer(escaped):
        if len(problems) == _MAX_BYTE_PROBLEMS:
            problems.append(
                ParseError(
                    line,
                    gettext_noop("%(count)s further bytes are not %(encoding)s characters"),
                    count=count - _MAX_BYTE_PROBLEMS,
                    encoding=encoding.upper(),
                )
            )
            break
        chunk = escaped[done : match.start()]
        line += len(_LINE_BREAK.findall(chunk))
        offset += len(chunk.encode(UTF8, errors="surrogateescape")) if encoding == UTF8 else len(chunk)
        done = match.start()
        problems.append(
            ParseError(
                line,
                gettext_noop(
                    "byte 0x%(byte)s at offset %(offset)s is not a %(encoding)s character: the file is damaged"
                ),
                byte=f"{ord(match.group()) - 0xDC00:02X}",
                offset=offset,
                encoding=encoding.upper(),
            )
        )
    return problems


def decode_text(raw: bytes) -> tuple[str, str]:
    """The text and encoding of ``decode`` (without its problems)."""
    decoded = decode(raw)
    return decoded.text, decoded.encoding


def split_lines(text: str) -> list[str]:
    """Lines of the text, split at LF, CRLF or CR; a final line break does not add a line."""
    if not text:
        return []
    lines = _LINE_BREAK.split(text)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return lines


def clean_name(value: str) -> str:
    """Strip and collapse inner whitespace."""
    return " ".join(value.split())


def parse_amount(text: str, *, allow_spaces: bool = False) -> tuple[Decimal | None, ParseError | None]:
    """``7000,00`` / ``7000.00`` / ``7000`` / ``-5,00`` → (Decimal with two decimals, None).

    Returns (None, reason) when the text is empty, not a number, or has more than two decimals;
    the reason is a problem without a line, for the caller to place.
    ``allow_spaces`` drops spaces (thousands separators in spreadsheets) first.
    """
    value = text.strip()
    if allow_spaces:
        value = re.sub(r"[\s\u00a0\u202f]", "", value)
    if not value:
        return None, ParseError(0, gettext_noop("amount is missing"))
    match = _AMOUNT.fullmatch(value)
    if match is None:
        return None, ParseError(0, gettext_noop("amount %(value)s is not a number"), value=repr(text.strip()))
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if len(fraction) > 2:
        return None, ParseError(
            0, gettext_noop("amount %(value)s has more than two decimals"), value=repr(text.strip())
        )
    if len(whole.lstrip("0")) > MAX_AMOUNT_DIGITS:
        return None, ParseError(0, gettext_noop("amount %(value)s is out of range"), value=repr(text.strip()))
    try:
        amount = Decimal(f"{sign}{whole}.{fraction or '0'}").quantize(_CENT)
    except InvalidOperation:  # pragma: no cover - guarded by the length check above
        return None, ParseError(0, gettext_noop("amount %(value)s is out of range"), value=repr(text.strip()))
    return amount, None


def _month(year: int, month: int) -> date | None:
    if 1990 <= year <= 2100 and 1 <= month <= 12:
        return date(year, month, 1)
    return None


_SIX_DIGITS = re.compile(r"[0-9]{6}")
_EIGHT_DIGITS = re.compile(r"[0-9]{8}")
_YEAR_MONTH = re.compile(r"([0-9]{4})[-./]([0-9]{1,2})")
_MONTH_YEAR = re.compile(r"([0-9]{1,2})[-./]([0-9]{4})")


@functools.lru_cache(maxsize=1024)
def parse_period(text: str) -> date | None:
    """A period as the first day of its month, or None when it is not a real month.

    ``MMYYYY`` or ``YYYYMM`` (whichever gives month 1–12 and year 1990–2100; they can never both
    do), also ``YYYY-MM`` and ``MM.YYYY`` (any of ``-./`` as separator).
    """
    value = text.strip()
    if _SIX_DIGITS.fullmatch(value):
        return _month(int(value[2:]), int(value[:2])) or _month(int(value[:4]), int(value[4:]))
    match = _YEAR_MONTH.fullmatch(value)
    if match:
        return _month(int(match.group(1)), int(match.group(2)))
    match = _MONTH_YEAR.fullmatch(value)
    if match:
        return _month(int(match.group(2)), int(match.group(1)))
    return None


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_yymmdd(text: str) -> date | None:
    """``231124`` → 2023-11-24 (00–69 → 20xx, 70–99 → 19xx); None when not a date."""
    value = text.strip()
    if not _SIX_DIGITS.fullmatch(value):
        return None
    year = int(value[:2])
    return _make_date(year + (2000 if year < 70 else 1900), int(value[2:4]), int(value[4:]))


@functools.lru_cache(maxsize=65_536)  # pure; a person's birth date comes back in every order
def parse_yyyymmdd(text: str) -> date | None:
    """``20010204`` → 2001-02-04; None when not a date."""
    value = text.strip()
    if not _EIGHT_DIGITS.fullmatch(value):
        return None
    return _make_date(int(value[:4]), int(value[4:6]), int(value[6:]))


# --- splitting a file into messages -----------------------------------------------------------


@dataclass
class _Message:
    first_line: int
    block4_line: int = 0  # line of "{4:" (or of the first tag when "{4:" is missing); 0: none yet
    end_line: int = 0  # line of "-}"; 0 while open / when truncated
    last_line: int = 0  # last non-blank line belonging to the message
    body: list[tuple[int, str]] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


def _clean(line: str) -> str:
    """The line without spaces, NUL/SUB padding and BOMs (U+FEFF) at its edges: files joined
    into one keep the BOM of each, e.g. before the "{1:" of a second message."""
    return line.strip().strip("\x00\x1a\ufeff").strip()


def _check_block2(message: _Message, line_no: int, text: str) -> None:
    pos = text.find("{2:")
    if pos >= 0 and not re.match(r"[IO]102", text[pos + 3 :]):
        message.errors.append(ParseError(line_no, gettext_noop("block 2 does not announce an MT102 message")))


def _close_unfinished(message: _Message) -> None:
    if message.block4_line == 0:
        message.errors.append(ParseError(message.first_line, gettext_noop("message has no block 4 ('{4:')")))
    elif message.end_line == 0:
        message.errors.append(ParseError(message.last_line, gettext_noop("message truncated: no closing '-}'")))


def _has_block4(lines: list[str]) -> bool:
    for line in lines:
        text = _clean(line)
        if text.startswith("{") and "{4:" in text:
            return True
    return False


def _split_messages(lines: list[str]) -> list[_Message]:
    messages: list[_Message] = []
    current: _Message | None = None  # the message being read (None between messages)
    pending: list[tuple[int, str]] = []  # {2:}/{3:} blocks between messages: a message without {1:}
    stray: list[tuple[int, str]] = []
    for line_no, line in enumerate(lines, start=1):
        text = _clean(line)
        if not text:
            continue
        if text.startswith("{"):
            block4 = text.find("{4:")
            if text.startswith("{1:") or (block4 >= 0 and (current is None or current.block4_line > 0)):
                if current is not None:
                    _close_unfinished(current)
                current = _Message(first_line=line_no, last_line=line_no)
                messages.append(current)
                if text.startswith("{1:"):
                    stray.extend((n, gettext_noop("message header without block 4 ('{4:')")) for n, _ in pending)
                else:
                    for pending_no, pending_text in pending:
                        _check_block2(current, pending_no, pending_text)
                pending.clear()
            elif current is None:
                if re.match(r"\{[23]:", text):
                    pending.append((line_no, text))
                elif not text.startswith("{5:"):  # {5:} is the trailer after "-}"
                    stray.append((line_no, gettext_noop("text outside a message")))
                continue
            if current.block4_line == 0:
                current.last_line = line_no
                _check_block2(current, line_no, text)
                if block4 < 0:
                    continue
                current.block4_line = line_no
                text = text[block4 + 3 :].strip()
                if not text:
                    continue
        if current is None:
            stray.append((line_no, gettext_noop("text outside a message")))
            continue
        if current.block4_line == 0:
            current.last_line = line_no
            if not text.startswith(":"):
                current.errors.append(ParseError(line_no, gettext_noop("unexpected text in the message header")))
                continue
            current.block4_line = line_no
            current.errors.append(
                ParseError(line_no, gettext_noop("block 4 ('{4:') is missing before the message text"))
            )
        current.last_line = line_no
        if text.startswith("-}"):
            current.end_line = line_no
            current = None
            continue
        current.body.append((line_no, text))
    if current is not None:
        _close_unfinished(current)
    stray.extend((n, gettext_noop("message header without block 4 ('{4:')")) for n, _ in pending)
    for line_no, message in stray:
        before = [m for m in messages if m.first_line < line_no]
        target = before[-1] if before else messages[0] if messages else None
        if target is not None:
            target.errors.append(ParseError(line_no, message))
    return messages


# --- block 4: fields and sub-fields -----------------------------------------------------------

_TAG = re.compile(r":([0-9]{2}[A-Z]?):(.*)", re.DOTALL)
_SUBFIELD = re.compile(r"/{1,2}([A-Za-z]+)/(.*)", re.DOTALL)
_SEQUENCE_A_TAGS = {"20", "50", "52B", "54B", "57B", "59"}
_KNOWN_TAGS = _SEQUENCE_A_TAGS | {"21", "32A", "32B", "70"}


@dataclass
class _Field:
    tag: str | None  # None when the tag line is garbled (already reported)
    line: int
    value: str  # text after the tag on the tag's line
    more: list[tuple[int, str]] = field(default_factory=list)  # following lines of the field


@dataclass
class _Sub:
    line: int
    value: str


def _fields(body: list[tuple[int, str]], errors: list[ParseError]) -> list[_Field]:
    fields: list[_Field] = []
    for line_no, text in body:
        if text.startswith(":"):
            match = _TAG.fullmatch(text)
            if match is None:
                errors.append(ParseError(line_no, gettext_noop("garbled tag: %(text)s"), text=repr(text[:20])))
                fields.append(_Field(None, line_no, ""))
            elif match.group(1) not in _KNOWN_TAGS:
                errors.append(ParseError(line_no, gettext_noop("unknown tag :%(tag)s:"), tag=match.group(1)))
                fields.append(_Field(None, line_no, ""))
            else:
                fields.append(_Field(match.group(1), line_no, match.group(2).strip()))
        elif fields:
            fields[-1].more.append((line_no, text))
        else:
            errors.append(ParseError(line_no, gettext_noop("expected a tag, found %(text)s"), text=repr(text[:20])))
    return fields


def _single_value(fld: _Field, errors: list[ParseError]) -> str:
    """A field whose whole content is the text on the tag's line."""
    for line_no, text in fld.more:
        errors.append(
            ParseError(
                line_no, gettext_noop("unexpected text in :%(tag)s: %(text)s"), tag=fld.tag, text=repr(text[:20])
            )
        )
    return fld.value


def _subfields(
    fld: _Field,
    allowed: set[str],
    errors: list[ParseError],
    *,
    ignored: frozenset[str] = frozenset(),
    continued: str = "",
) -> dict[str, _Sub]:
    """Sub-fields ``/X/value`` or ``//X/value`` of a field, each on its own line.

    Unknown sub-fields and text that is not a sub-field are errors, except that lines following
    the sub-field ``continued`` (``ASSIGN``) continue its text (joined with a space).
    """
    found: dict[str, _Sub] = {}
    last = ""
    items = ([(fld.line, fld.value)] if fld.value else []) + fld.more
    for line_no, text in items:
        match = _SUBFIELD.fullmatch(text)
        if match is None:
            if continued and last == continued:
                found[last].value = f"{found[last].value} {text.strip()}".strip()
            else:
                errors.append(
                    ParseError(
                        line_no,
                        gettext_noop("unexpected text in :%(tag)s: %(text)s"),
                        tag=fld.tag,
                        text=repr(text[:20]),
                    )
                )
            continue
        name, value = match.group(1).upper(), match.group(2).strip()
        last = name
        if name in ignored:
            continue
        if name not in allowed:
            errors.append(
                ParseError(line_no, gettext_noop("unknown sub-field /%(name)s/ in :%(tag)s:"), name=name, tag=fld.tag)
            )
            last = ""
            continue
        if name in found:
            errors.append(
                ParseError(
                    line_no,
                    gettext_noop("duplicate sub-field /%(name)s/ in :%(tag)s: (first on line %(first)s)"),
                    name=name,
                    tag=fld.tag,
                    first=found[name].line,
                )
            )
            last = ""
            continue
        found[name] = _Sub(line_no, value)
    return found


@functools.lru_cache(maxsize=65_536)  # pure; names repeat across the lines of every file
def _first_segment(value: str) -> str:
    """``//FM/<current>/<name on the card>``: the current name."""
    return clean_name(value.split("/", 1)[0])


def _account_and_subfields(
    fld: _Field, allowed: set[str], errors: list[ParseError], *, ignored: frozenset[str] = frozenset()
) -> tuple[str, dict[str, _Sub]]:
    """``:50:/D/<IBAN>`` or ``:59:<IBAN>`` followed by sub-field lines."""
    account = ""
    first = fld.value
    match = _SUBFIELD.fullmatch(first)
    if match is not None and match.group(1).upper() == "D":
        account = match.group(2).strip()
        first = ""
    elif match is None:
        account = first.strip()
        first = ""
    subs = _subfields(_Field(fld.tag, fld.line, first, fld.more), allowed, errors, ignored=ignored)
    return account, subs


# --- one message → one order ------------------------------------------------------------------


@dataclass
class _Entry:
    """A sequence-B entry while it is being read."""

    line: int  # of its :21:
    number_text: str
    fields: dict[str, _Field] = field(default_factory=dict)  # its :32B: and :70:


_PAYER_SUBFIELDS = {"NAME", "IDN"}
_PAYER_IGNORED = frozenset({"CHIEF", "MAINBNK", "IRS", "SECO"})
_PAYEE_SUBFIELDS = {"NAME", "IDN"}
_PAYEE_IGNORED = frozenset({"IRS", "SECO"})
_ORDER_SUBFIELDS = {"NUM", "DATE", "KNP", "PERIOD", "ASSIGN"}
_ORDER_IGNORED = frozenset({"SEND", "VO", "PSO", "PRT"})
_PERSON_SUBFIELDS = {"OPV", "FM", "NM", "FT", "DT", "IDN", "PERIOD"}


def _require(order: ParsedOrder, present: bool, line: int, message: str, **params: Any) -> None:
    if not present:
        order.errors.append(ParseError(line, message, **params))


def _parse_message(message: _Message, fast_entries: list[_FastEntry] | None = None) -> ParsedOrder:
    """One message → one order. ``fast_entries``: sequence B already read by the canonical-layout
    reader (then ``message.body`` holds only sequences A and C)."""
    order = ParsedOrder(first_line=message.first_line)
    errors = order.errors
    errors.extend(message.errors)
    start = message.block4_line or message.first_line
    end = message.end_line or message.last_line
    fields = _fields(message.body, errors)

    seen: dict[str, _Field] = {}
    entries: list[_Entry] = []
    period_a: _Sub | None = None  # a /PERIOD/ of sequence A: for entries without their own
    state = "A"
    for fld in fields:
        tag = fld.tag
        if tag is None:
            continue
        if tag == "21":
            if state == "C":
                errors.append(ParseError(fld.line, gettext_noop("sequence B entry after :32A:")))
            entries.append(_Entry(fld.line, _single_value(fld, errors)))
            state = "B" if state == "A" else state
            continue
        if tag == "32A":
            if "32A" in seen:
                errors.append(
                    ParseError(
                        fld.line,
                        gettext_noop("duplicate :%(tag)s: (first on line %(first)s)"),
                        tag="32A",
                        first=seen["32A"].line,
                    )
                )
                continue
            seen["32A"] = fld
            state = "C"
            _parse_32a(order, fld)
            continue
        if state == "C":
            errors.append(ParseError(fld.line, gettext_noop("unexpected :%(tag)s: after :32A:"), tag=tag))
            continue
        if tag == "32B" or (tag == "70" and state == "B"):
            if not entries:
                errors.append(ParseError(fld.line, gettext_noop(":%(tag)s: before the first :21:"), tag=tag))
                continue
            entry = entries[-1]
            if tag in entry.fields:
                errors.append(
                    ParseError(
                        fld.line,
                        gettext_noop("duplicate :%(tag)s: in entry :21:%(number)s"),
                        tag=tag,
                        number=entry.number_text,
                    )
                )
                continue
            entry.fields[tag] = fld
            continue
        if state == "B":  # a sequence A tag inside sequence B (e.g. a bank batch of transfers)
            errors.append(ParseError(fld.line, gettext_noop(":%(tag)s: is not allowed in sequence B"), tag=tag))
            continue
        if tag in seen:
            errors.append(
                ParseError(
                    fld.line,
                    gettext_noop("duplicate :%(tag)s: (first on line %(first)s)"),
                    tag=tag,
                    first=seen[tag].line,
                )
            )
            continue
        seen[tag] = fld
        if tag == "20":
            order.reference = _single_value(fld, errors)
        elif tag == "52B":
            order.payer_bic = _single_value(fld, errors)
        elif tag == "54B":
            _single_value(fld, errors)
        elif tag == "57B":
            order.payee_bic = _single_value(fld, errors)
        elif tag == "50":
            account, subs = _account_and_subfields(fld, _PAYER_SUBFIELDS, errors, ignored=_PAYER_IGNORED)
            order.payer_account = account
            order.payer_name = clean_name(subs["NAME"].value) if "NAME" in subs else ""
            order.payer_idn = subs["IDN"].value if "IDN" in subs else ""
            _require(order, bool(account), fld.line, gettext_noop(":50: has no payer account"))
            _require(order, bool(order.payer_name), fld.line, gettext_noop(":50: has no /NAME/ (payer name)"))
            _require(order, bool(order.payer_idn), fld.line, gettext_noop(":50: has no /IDN/ (payer IIN/BIN)"))
        elif tag == "59":
            account, subs = _account_and_subfields(fld, _PAYEE_SUBFIELDS, errors, ignored=_PAYEE_IGNORED)
            order.payee_account = account
            order.payee_name = clean_name(subs["NAME"].value) if "NAME" in subs else ""
            order.payee_idn = subs["IDN"].value if "IDN" in subs else ""
            _require(order, bool(account), fld.line, gettext_noop(":59: has no payee account"))
            _require(order, bool(order.payee_name), fld.line, gettext_noop(":59: has no /NAME/ (payee name)"))
            _require(order, bool(order.payee_idn), fld.line, gettext_noop(":59: has no /IDN/ (payee BIN)"))
        elif tag == "70":
            details = _subfields(fld, _ORDER_SUBFIELDS, errors, ignored=_ORDER_IGNORED, continued="ASSIGN")
            _read_order_details(order, fld, details)
            period_a = details.get("PERIOD")

    _require(
        order,
        bool(order.reference),
        seen["20"].line if "20" in seen else start,
        gettext_noop("missing :20: (reference)"),
    )
    _require(order, "50" in seen, start, gettext_noop("missing :50: (payer)"))
    _require(
        order,
        bool(order.payer_bic),
        seen["52B"].line if "52B" in seen else start,
        gettext_noop("missing :52B: (payer BIC)"),
    )
    _require(
        order,
        bool(order.payee_bic),
        seen["57B"].line if "57B" in seen else start,
        gettext_noop("missing :57B: (payee BIC)"),
    )
    _require(order, "59" in seen, start, gettext_noop("missing :59: (payee)"))
    _require(order, "70" in seen, start, gettext_noop("missing :70: of sequence A (/NUM/, /DATE/, /KNP/)"))
    _require(order, "32A" in seen, end, gettext_noop("missing :32A: (value date and total)"))

    numbers = _Numbering()
    for entry in entries:
        line = _parse_entry(order, entry, len(order.lines) + 1, period_a)
        numbers.note(line, errors)
        order.lines.append(line)
    for fast in fast_entries or ():
        line = _fast_line(order, fast, len(order.lines) + 1, period_a)
        numbers.note(line, errors)
        order.lines.append(line)
    errors.sort(key=lambda error: error.line)
    return order


class _Numbering:
    """The :21: numbers of a message must run 1, 2, 3, ... (reference.md §3.2). A repeated
    number (an entry block sent twice, or two entries numbered alike), a gap (an entry lost) or
    a number out of order is a problem naming the entry's line, so the order needs review. The
    lines are numbered by position all the same (``ParsedLine.sequence``), so a repeated number
    never clashes in the lines' unique index; the number as written is kept in ``number_text``."""

    def __init__(self) -> None:
        self.first_seen: dict[int, int] = {}  # number -> line of its first :21:
        self.highest = 0

    def note(self, line: ParsedLine, errors: list[ParseError]) -> None:
        number = _sequence_number(line.number_text)
        if number is None:  # not a number: reported where it is read
            return
        if number == self.highest + 1 and number not in self.first_seen:  # the usual case
            self.first_seen[number] = line.file_line
            self.highest = number
            return
        first = self.first_seen.setdefault(number, line.file_line)
        if first != line.file_line:
            errors.append(
                ParseError(
                    line.file_line,
                    gettext_noop("duplicate :21: sequence number %(number)s (first on line %(first)s)"),
                    number=number,
                    first=first,
                )
            )
        elif number < self.highest:
            errors.append(
                ParseError(
                    line.file_line,
                    gettext_noop(
                        ":21: sequence number %(number)s comes after %(previous)s: the entries are out of order"
                    ),
                    number=number,
                    previous=self.highest,
                )
            )
        elif number != self.highest + 1:  # a gap (or a first number that is not 1)
            errors.append(
                ParseError(
                    line.file_line,
                    gettext_noop(
                        ":21: sequence number %(number)s where %(expected)s was expected: an entry is missing"
                        " or out of order"
                    ),
                    number=number,
                    expected=self.highest + 1,
                )
            )
        self.highest = max(self.highest, number)


def _read_order_details(order: ParsedOrder, fld: _Field, subs: dict[str, _Sub]) -> None:
    order.number = subs["NUM"].value if "NUM" in subs else ""
    order.knp = subs["KNP"].value if "KNP" in subs else ""
    order.assign = clean_name(subs["ASSIGN"].value) if "ASSIGN" in subs else ""
    _require(order, bool(order.number), fld.line, gettext_noop(":70: has no /NUM/ (order number)"))
    _require(order, bool(order.knp), fld.line, gettext_noop(":70: has no /KNP/"))
    if "DATE" not in subs or not subs["DATE"].value:
        order.errors.append(ParseError(fld.line, gettext_noop(":70: has no /DATE/ (document date)")))
    else:
        order.document_date = parse_yymmdd(subs["DATE"].value)
        _require(
            order,
            order.document_date is not None,
            subs["DATE"].line,
            gettext_noop("/DATE/ %(value)s is not a date (YYMMDD)"),
            value=repr(subs["DATE"].value),
        )


def _parse_32a(order: ParsedOrder, fld: _Field) -> None:
    value = _single_value(fld, order.errors)
    match = re.fullmatch(r"([0-9]{6})([A-Za-z]{3})(.*)", value)
    if match is None:
        order.errors.append(
            ParseError(
                fld.line,
                gettext_noop("malformed :32A: %(value)s (expected YYMMDD, currency, total)"),
                value=repr(value[:30]),
            )
        )
        return
    order.value_date = parse_yymmdd(match.group(1))
    _require(
        order,
        order.value_date is not None,
        fld.line,
        gettext_noop(":32A: value date %(value)s is not a date"),
        value=repr(match.group(1)),
    )
    order.currency = match.group(2).upper()
    order.currency_line = fld.line
    order.total, reason = parse_amount(match.group(3))
    _require(order, order.total is not None, fld.line, gettext_noop(":32A: total: %(reason)s"), reason=reason)


_SEQUENCE_NUMBER = re.compile(r"[0-9]{1,9}")


def _sequence_number(text: str) -> int | None:
    return int(text) if _SEQUENCE_NUMBER.fullmatch(text) else None


def _parse_entry(order: ParsedOrder, entry: _Entry, position: int, period_a: _Sub | None) -> ParsedLine:
    errors = order.errors
    number = entry.number_text
    if _sequence_number(number) is None:
        errors.append(
            ParseError(
                entry.line, gettext_noop(":21: sequence number %(value)s is not a number"), value=repr(number[:20])
            )
        )
    currency = ""

    amount: Decimal | None = None
    amount_field = entry.fields.get("32B")
    if amount_field is None:
        errors.append(ParseError(entry.line, gettext_noop("entry :21:%(number)s has no :32B: (amount)"), number=number))
    else:
        value = _single_value(amount_field, errors)
        match = re.fullmatch(r"([A-Za-z]{3})(.*)", value)
        if match is None:
            errors.append(
                ParseError(
                    amount_field.line,
                    gettext_noop("malformed :32B: %(value)s (expected currency and amount)"),
                    value=repr(value[:30]),
                )
            )
            text = value
        else:
            text = match.group(2)
            currency = match.group(1).upper()
            if order.currency and currency != order.currency:
                errors.append(
                    ParseError(
                        amount_field.line,
                        gettext_noop(":32B: currency %(currency)s differs from :32A: %(order_currency)s"),
                        currency=currency,
                        order_currency=order.currency,
                    )
                )
        amount, reason = parse_amount(text)
        if amount is None:
            errors.append(ParseError(amount_field.line, gettext_noop(":32B: %(reason)s"), reason=reason))

    subs: dict[str, _Sub] = {}
    details = entry.fields.get("70")
    if details is None:
        errors.append(
            ParseError(entry.line, gettext_noop("entry :21:%(number)s has no :70: (person details)"), number=number)
        )
    else:
        subs = _subfields(details, _PERSON_SUBFIELDS, errors)
        _require(
            order, "IDN" in subs, details.line, gettext_noop("entry :21:%(number)s has no /IDN/ (IIN)"), number=number
        )

    period_sub = subs.get("PERIOD")
    if (period_sub is None or not period_sub.value) and period_a is not None:
        period_sub = period_a
    period_text = period_sub.value if period_sub is not None else ""
    return ParsedLine(
        sequence=position,
        number_text=number,
        currency=currency,
        file_line=entry.line,
        iin=subs["IDN"].value if "IDN" in subs else "",
        last_name=_first_segment(subs["FM"].value) if "FM" in subs else "",
        first_name=_first_segment(subs["NM"].value) if "NM" in subs else "",
        patronymic=_first_segment(subs["FT"].value) if "FT" in subs else "",
        birth_date=parse_yyyymmdd(subs["DT"].value) if "DT" in subs else None,
        period=parse_period(period_text),
        period_text=period_text,
        amount=amount,
    )


# --- the canonical layout, read without going line by line ----------------------------------
#
# Nearly every file a bank sends is laid out the same way: a header of three lines ("{1:...}",
# "{2:I102...}", "{4:"), sequence A, entries of ":21:", ":32B:" and ":70:" with one sub-field per
# line, one ":32A:" line, "-}". Reading such a file line by line in Python costs about four times
# what matching each entry with one regular expression does, and the entries are the bulk of the
# file. ``_parse_canonical`` reads files of exactly that layout and gives up (returns None) at
# the first thing it was not written for - blank lines, whitespace or control characters at the
# edge of a line, a lone CR, unusual sub-fields, a missing or repeated sub-field, ... - and the
# general reader above then reads the file. Sequences A and C still go through the general
# reader, so every check of the order is the same code. Tests compare the two readers on
# generated and mutated files: wherever the canonical reader answers, its answer is the general
# reader's.

_EDGE_SPACE = re.compile(r"[^\S\n]\n|\n[^\S\n]")  # whitespace at the end or start of a line
_HEAD = re.compile(r"\{1:[^\n{}]*\}\n\{2:[IO]102[^\n{}]*\}\n\{4:\n")
_TRAILER_LINE = re.compile(r"\{5:(?:(?!\{4:)[^\n])*\n")
_FAST_ENTRY = re.compile(
    r":21:([0-9]{1,9})\n:32B:([A-Z]{3})([0-9]{1,13})(?:[.,]([0-9]{0,2}))?\n:70:(/{1,2}[A-Z]+/[^\n]*\n(?:/{1,2}[A-Z]+/[^\n]*\n)*)"
)
_FAST_SUBFIELD = re.compile(r"^/{1,2}([A-Z]+)/(.*)$", re.MULTILINE)
_SEQUENCE_A_LINE_TAGS = _SEQUENCE_A_TAGS | {"70"}


# An entry read in one match: (line of its :21:, the match, its sub-fields by name).
_FastEntry = tuple[int, re.Match[str], dict[str, str]]


def _parse_canonical(text: str) -> list[ParsedOrder] | None:
    """The orders of a file in the canonical layout, or None when it is not (see above)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")  # one line break as much as LF is (split_lines)
    if not text.endswith("\n"):
        text += "\n"  # a final line break does not add a line (split_lines)
    if (
        "\r" in text
        or "\n\n" in text
        or "\x00" in text
        or "\x1a" in text
        or "\ufeff" in text
        or text[0].isspace()
        or text[-2].isspace()
        or _EDGE_SPACE.search(text)
    ):
        return None
    orders: list[ParsedOrder] = []
    pos, line = 0, 1
    while pos < len(text):
        head = _HEAD.match(text, pos)
        if head is None:
            trailer = _TRAILER_LINE.match(text, pos)
            if trailer is None or not orders:
                return None
            pos, line = trailer.end(), line + 1
            continue
        first_line, body = line, head.end()
        end = text.find("\n-}", body - 1)  # the "\n" of "{4:\n" itself: a message with no text
        entries_at = text.find("\n:21:", body - 1, end) + 1
        trailer_at = text.rfind("\n:32A:", entries_at, end) + 1
        if end < 0 or entries_at <= body or trailer_at <= entries_at or text.find("\n", trailer_at) != end:
            return None
        header = text[body : entries_at - 1].split("\n")
        for item in header:
            tag = _TAG.fullmatch(item) if item.startswith(":") else None
            if item.startswith("{") or (tag is not None and tag.group(1) not in _SEQUENCE_A_LINE_TAGS):
                return None
        line += 3
        message_body = [(line + offset, item) for offset, item in enumerate(header)]
        line += len(header)
        entries: list[_FastEntry] = []
        at = entries_at
        while at < trailer_at:
            match = _FAST_ENTRY.match(text, at)
            if match is None or match.end() > trailer_at:
                return None
            subs = dict(_FAST_SUBFIELD.findall(match.group(5)))
            if subs.keys() - _PERSON_SUBFIELDS or "IDN" not in subs:
                return None
            sub_lines = match.group(5).count("\n")
            if len(subs) != sub_lines:  # a sub-field given twice
                return None
            entries.append((line, match, subs))
            line += 2 + sub_lines  # :21:, :32B: and the sub-field lines of :70:
            at = match.end()
        message_body.append((line, text[trailer_at:end]))
        end_line = line + 1
        closing_end = text.find("\n", end + 1)
        pos, line = closing_end + 1, end_line + 1
        message = _Message(first_line=first_line, block4_line=first_line + 2, end_line=end_line, last_line=end_line)
        message.body = message_body
        orders.append(_parse_message(message, entries))
    return orders or None


def _fast_line(order: ParsedOrder, entry: _FastEntry, position: int, period_a: _Sub | None) -> ParsedLine:
    """A canonical entry as ``_parse_entry`` reads it (with the same errors)."""
    line, match, subs = entry
    number, currency, whole, fraction = match.group(1, 2, 3, 4)
    if order.currency and currency != order.currency:
        order.errors.append(
            ParseError(
                line + 1,
                gettext_noop(":32B: currency %(currency)s differs from :32A: %(order_currency)s"),
                currency=currency,
                order_currency=order.currency,
            )
        )
    # Two decimals as sent need no rounding (the usual case); quantize pads the others.
    amount = (
        Decimal(f"{whole}.{fraction}")
        if len(fraction or "") == 2
        else Decimal(f"{whole}.{fraction or '0'}").quantize(_CENT)
    )
    period_text = subs.get("PERIOD", "").strip()
    if not period_text and period_a is not None:
        period_text = period_a.value
    birth = subs.get("DT")
    return ParsedLine(
        sequence=position,
        number_text=number,
        currency=currency,
        file_line=line,
        iin=subs["IDN"].strip(),
        last_name=_first_segment(subs["FM"]) if "FM" in subs else "",
        first_name=_first_segment(subs["NM"]) if "NM" in subs else "",
        patronymic=_first_segment(subs["FT"]) if "FT" in subs else "",
        birth_date=parse_yyyymmdd(birth) if birth is not None else None,
        period=parse_period(period_text),
        period_text=period_text,
        amount=amount,
    )


# --- entry point ------------------------------------------------------------------------------


def _parse_text(text: str, encoding: str) -> ParsedFile:
    try:
        canonical = _parse_canonical(text)  # None for any text with NUL
    except Exception:  # noqa: BLE001 - a bug of the shortcut must not lose the file: read it in full
        canonical = None
    if canonical is not None:
        return ParsedFile(encoding=encoding, orders=canonical)
    parsed = _parse_general(text, encoding)
    # NUL padding at line ends is dropped; one inside a value is replaced.
    return _without_nul(parsed) if "\x00" in text else parsed


def _without_nul(parsed: ParsedFile) -> ParsedFile:
    """NUL is no character of these encodings and cannot be stored as text: inside a value it
    becomes U+FFFD (the value then fails its checks; the file's bytes are kept as sent)."""
    for item in [*parsed.orders, *(line for order in parsed.orders for line in order.lines)]:
        for name, value in vars(item).items():
            if isinstance(value, str) and "\x00" in value:
                setattr(item, name, storable(value))
    return parsed


def _parse_general(text: str, encoding: str) -> ParsedFile:
    result = ParsedFile(encoding=encoding)
    lines = split_lines(text)
    if not any(_clean(line) for line in lines):
        result.errors.append(ParseError(1, gettext_noop("empty file: no MT102 message")))
        return result
    if not _has_block4(lines):
        first_block1 = next((n for n, line in enumerate(lines, 1) if _clean(line).startswith("{1:")), 1)
        result.errors.append(ParseError(first_block1, gettext_noop("no MT102 message: no block 4 ('{4:') found")))
        return result
    for message in _split_messages(lines):
        try:
            result.orders.append(_parse_message(message))
        except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the message
            order = ParsedOrder(first_line=message.first_line)
            order.errors.append(
                ParseError(
                    message.first_line,
                    gettext_noop("message could not be parsed (%(error)s)"),
                    error=f"{type(exc).__name__}: {exc}",
                )
            )
            result.orders.append(order)
    return result


def parse_mt102(raw: bytes) -> ParsedFile:
    """Parse a file of one or many MT102 messages. Never raises."""
    encoding = ""
    try:
        decoded = decode(bytes(raw))
        encoding = decoded.encoding
        parsed = _parse_text(decoded.text, encoding)
        attach_problems(parsed, decoded.problems)
        return parsed
    except Exception as exc:  # noqa: BLE001 - never raise on any input
        return ParsedFile(
            encoding=encoding,
            errors=[ParseError(0, gettext_noop("file could not be parsed (%(error)s)"), error=type(exc).__name__)],
        )
