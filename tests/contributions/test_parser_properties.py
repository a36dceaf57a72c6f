"""Properties of the parsers: they never raise, a broken MT102 order never looks clean, and an
MT102 file with whole entries duplicated, dropped, swapped, renumbered or in another currency
always gives its order a problem naming a line, while the untouched orders stay clean.

"Looks clean" means no ParseError, Σ line amounts = total and every line field the line checks
need (IIN, surname, first name, birth date, period, amount) present. The patronymic is left out:
an empty patronymic is valid (conventions, "Incoming payment orders").
"""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from contributions.checks import order_problems
from contributions.parsers.base import ParsedFile
from contributions.parsers.detect import parse_file
from contributions.parsers.jsonorder import parse_json_order
from contributions.parsers.mt102 import parse_mt102
from contributions.parsers.tabular import parse_csv, parse_xlsx
from tests.contributions.mt102_mutations import Variant, clean_messages, mutate, variants

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
SAMPLE_NAMES = ["order_clean.mt102", "order_penalty_cp1251.mt102", "order_with_returns.mt102"]
ENCODINGS = {"order_penalty_cp1251.mt102": "kz1048"}

needs_samples = pytest.mark.skipif(
    not all((SAMPLES / name).exists() for name in SAMPLE_NAMES), reason=f"samples absent from {SAMPLES}"
)

ORDER_FIELDS = (
    "reference",
    "number",
    "document_date",
    "payer_idn",
    "payer_name",
    "payer_account",
    "payer_bic",
    "payee_bic",
    "payee_account",
    "payee_idn",
    "payee_name",
    "knp",
    "value_date",
    "currency",
    "total",
)
LINE_FIELDS = ("iin", "last_name", "first_name", "birth_date", "period", "amount")

# Replacement characters: ASCII, line breaks, Cyrillic and Kazakh letters (all encodable in KZ-1048).
ALPHABET = string.printable + "\r\n" + "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ" + "ӘІҢҒҮҰҚӨҺәіңғүұқөһ"

EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def samples() -> dict[str, tuple[bytes, str]]:
    """Each sample (and a file of two messages) with its encoding."""
    result = {name: ((SAMPLES / name).read_bytes(), ENCODINGS.get(name, "utf-8")) for name in SAMPLE_NAMES}
    clean, returns = result["order_clean.mt102"][0], result["order_with_returns.mt102"][0]
    result["two_messages"] = (clean + returns, "utf-8")
    return result


def line_count(raw: bytes) -> int:
    """Lines of the text, counted on the bytes (line breaks are ASCII in every accepted encoding)."""
    return len(re.split(rb"\r\n|\r|\n", raw))


def filled(value: object) -> bool:
    return value is not None and value != ""


def all_errors(parsed: ParsedFile) -> list[int]:
    return [error.line for error in parsed.errors] + [e.line for order in parsed.orders for e in order.errors]


def differs_structurally(original: ParsedFile, mutated: ParsedFile) -> bool:
    """Another number of orders or lines, or a field of the original that is now missing."""
    if len(original.orders) != len(mutated.orders):
        return True
    for before, after in zip(original.orders, mutated.orders, strict=True):
        if len(before.lines) != len(after.lines):
            return True
        if any(filled(getattr(before, f)) and not filled(getattr(after, f)) for f in ORDER_FIELDS):
            return True
        for line_before, line_after in zip(before.lines, after.lines, strict=True):
            if any(filled(getattr(line_before, f)) and not filled(getattr(line_after, f)) for f in LINE_FIELDS):
                return True
    return False


def raises_an_alarm(parsed: ParsedFile) -> bool:
    """At least one ParseError, Σ amounts ≠ total, or a line field None/empty."""
    if parsed.errors or not parsed.orders:
        return True
    for order in parsed.orders:
        if order.errors or order.total is None:
            return True
        if any(not filled(getattr(line, f)) for line in order.lines for f in LINE_FIELDS):
            return True
        if sum((line.amount or Decimal(0) for line in order.lines), Decimal(0)) != order.total:
            return True
    return False


def check_invariants(raw: bytes, parsed: ParsedFile) -> None:
    assert isinstance(parsed, ParsedFile)
    lines = line_count(raw)
    for line in all_errors(parsed):
        assert 0 <= line <= lines + 1, (line, lines)
    for order in parsed.orders:
        assert 0 <= order.first_line <= lines
        for parsed_line in order.lines:
            assert order.first_line <= parsed_line.file_line <= lines


def check_mutation(original_raw: bytes, mutated_raw: bytes) -> ParsedFile:
    original = parse_mt102(original_raw)
    assert not raises_an_alarm(original)
    mutated = parse_mt102(mutated_raw)
    check_invariants(mutated_raw, mutated)
    if differs_structurally(original, mutated):
        assert raises_an_alarm(mutated), mutated
    return mutated


# --- any input --------------------------------------------------------------------------------


@EXAMPLES
@given(st.binary(max_size=3000))
def test_mt102_never_raises_on_any_bytes(raw: bytes) -> None:
    check_invariants(raw, parse_mt102(raw))


FRAGMENTS = [
    "{1:F01XXXXKZKAXXXX0000000000}",
    "{2:I102SGROSS000000U3003}",
    "{4:",
    "-}",
    ":20:REF",
    ":50:/D/KZ699990000000000001",
    "/NAME/ТОО",
    "//IDN/150540152026",
    ":52B:XXXXKZKA",
    ":57B:GCVPKZ2A",
    ":59:KZ429990000000000002",
    ":70:/NUM/1",
    "/DATE/231124",
    "/KNP/012",
    "/ASSIGN/ТЕКСТ",
    "ПРОДОЛЖЕНИЕ",
    "/PERIOD/102023",
    ":21:1",
    ":21:x",
    ":32B:KZT10,00",
    ":32B:KZTabc",
    ":70:/OPV/S",
    "//FM/А/Б",
    "/NM/Б",
    "/DT/20010204",
    "/IDN/010204597412",
    ":32A:231124KZT10,00",
    ":32A:",
    ":99:",
    ":",
    "/",
    "//",
    "{",
    "",
]


@EXAMPLES
@given(
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=80),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.sampled_from(["utf-8", "kz1048"]),
)
def test_mt102_never_raises_on_mt102_like_text(lines: list[str], newline: str, encoding: str) -> None:
    raw = newline.join(lines).encode(encoding, errors="replace")
    check_invariants(raw, parse_mt102(raw))


@EXAMPLES
@given(st.binary(max_size=2000), st.sampled_from(["a.csv", "a.xlsx", "a.mt102", "", "a.txt"]))
def test_csv_xlsx_and_detection_never_raise(raw: bytes, name: str) -> None:
    for parsed in (parse_csv(raw), parse_xlsx(raw), parse_xlsx(b"PK\x03\x04" + raw), parse_file(raw, name)):
        assert isinstance(parsed, ParsedFile)
        for line in all_errors(parsed):
            assert 0 <= line <= line_count(raw) + 1


@EXAMPLES
@given(st.lists(st.lists(st.sampled_from(["", "x", "2023-10", "0,5", "abc", '"', ";", ","]), max_size=16), max_size=8))
def test_csv_never_raises_on_csv_like_text(rows: list[list[str]]) -> None:
    header = "reference,number,document_date,payer_idn,payer_name,knp,total,value_date,iin,last_name,"
    header += "first_name,patronymic,birth_date,period,amount"
    raw = "\n".join([header, *(",".join(row) for row in rows)]).encode()
    parsed = parse_csv(raw)
    assert isinstance(parsed, ParsedFile)
    for line in all_errors(parsed):
        assert 0 <= line <= line_count(raw) + 1


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
LINE_KEYS = ("iin", "last_name", "first_name", "patronymic", "birth_date", "period", "amount")
JSON_ORDER = st.fixed_dictionaries(
    {},
    optional={
        "reference": JSON,
        "number": JSON,
        "document_date": JSON,
        "payer": st.fixed_dictionaries({}, optional={"idn": JSON, "name": JSON, "account": JSON}) | JSON,
        "payee": st.fixed_dictionaries({}, optional={"idn": JSON, "bic": JSON, "account": JSON}) | JSON,
        "knp": JSON,
        "total": JSON,
        "value_date": JSON,
        "lines": st.lists(
            st.fixed_dictionaries(
                {},
                optional=dict.fromkeys(LINE_KEYS, JSON),
            )
            | JSON,
            max_size=4,
        )
        | JSON,
    },
)


@EXAMPLES
@given(JSON_ORDER | JSON)
def test_json_never_raises(data: object) -> None:
    order = parse_json_order(data)
    assert all(error.line == 0 for error in order.errors)
    assert all(line.file_line == 0 for line in order.lines)


# --- mutated samples --------------------------------------------------------------------------


@needs_samples
def test_samples_look_clean() -> None:
    for raw, _ in samples().values():
        assert not raises_an_alarm(parse_mt102(raw))


@needs_samples
@EXAMPLES
@given(st.sampled_from(sorted(["two_messages", *SAMPLE_NAMES])), st.data())
def test_deleting_a_line_never_yields_a_clean_broken_order(name: str, data: st.DataObject) -> None:
    raw, encoding = samples()[name]
    lines = raw.decode(encoding).splitlines(keepends=True)
    index = data.draw(st.integers(0, len(lines) - 1), label="deleted line (0-based)")
    mutated = "".join(lines[:index] + lines[index + 1 :]).encode(encoding)
    check_mutation(raw, mutated)


@needs_samples
@EXAMPLES
@given(st.sampled_from(sorted(["two_messages", *SAMPLE_NAMES])), st.data())
def test_truncating_never_yields_a_clean_broken_order(name: str, data: st.DataObject) -> None:
    """A cut between two messages leaves a valid file of the messages before it (nothing in MT102
    says how many messages a file holds): those must come out exactly as before. Any other cut
    before the last "-}" falls inside a message and must be reported."""
    raw, _ = samples()[name]
    offset = data.draw(st.integers(0, len(raw)), label="offset")
    mutated = raw[:offset]
    ends = [m.end() for m in re.finditer(rb"-\}", raw)]
    complete = [end for end in ends if end <= offset]
    if complete and complete[-1] < ends[-1] and not mutated[complete[-1] :].strip():
        original = parse_mt102(raw)
        parsed = parse_mt102(mutated)
        assert parsed.errors == []
        assert parsed.orders == original.orders[: len(complete)]
        return
    parsed = check_mutation(raw, mutated)
    if offset < ends[-1]:  # cut strictly inside a message, before its closing "-}"
        assert all_errors(parsed), parsed


@needs_samples
@EXAMPLES
@given(st.sampled_from(sorted(["two_messages", *SAMPLE_NAMES])), st.data())
def test_replacing_a_character_never_yields_a_clean_broken_order(name: str, data: st.DataObject) -> None:
    raw, encoding = samples()[name]
    text = raw.decode(encoding)
    index = data.draw(st.integers(0, len(text) - 1), label="position")
    character = data.draw(st.sampled_from(ALPHABET), label="replacement")
    assume(character != text[index])
    mutated = (text[:index] + character + text[index + 1 :]).encode(encoding)
    check_mutation(raw, mutated)


@needs_samples
@EXAMPLES
@given(st.data())
def test_truncating_the_first_of_two_messages_is_reported(data: st.DataObject) -> None:
    """The first message is cut anywhere after its "{4:" (before its "-}"); the second follows on
    a new line: the first order is reported truncated, the second is intact."""
    raw, _ = samples()["two_messages"]
    first_end = raw.index(b"-}")
    offset = data.draw(st.integers(raw.index(b"{4:") + 3, first_end), label="offset")
    second = raw[raw.index(b"{1:", first_end) :]
    mutated = raw[:offset] + b"\n" + second
    parsed = parse_mt102(mutated)
    check_invariants(mutated, parsed)
    first, last = parsed.orders
    assert any("truncated" in error.message for error in first.errors)
    assert last.errors == []
    assert last.first_line == raw[:offset].count(b"\n") + 2


# --- whole entries mutated (tests/contributions/mt102_mutations.py) -----------------------------

KNOWN_KNP = {"012", "017"}
RECEIVED = date(2023, 11, 24)


def check_variant(variant: Variant) -> None:
    """The mutated message's order needs review with a problem naming one of the variant's lines;
    every other order (and the whole file of a clean variant) has no problem at all; lines are
    numbered 1, 2, 3, ... within each order whatever their :21: says."""
    parsed = parse_mt102(variant.raw)
    check_invariants(variant.raw, parsed)
    assert parsed.errors == []
    assert len(parsed.orders) == variant.messages
    for index, order in enumerate(parsed.orders):
        assert [line.sequence for line in order.lines] == list(range(1, len(order.lines) + 1))
        problems = order_problems(order, known_knp=KNOWN_KNP, received=RECEIVED)
        if variant.broken and index == variant.message:
            assert {problem.line for problem in problems} & variant.lines, (variant.describe(), problems)
        else:
            assert problems == [], (variant.describe(), index, problems)


@EXAMPLES
@given(variants())
def test_whole_entry_mutations_are_found_and_nothing_else(variant: Variant) -> None:
    event(variant.kind)
    check_variant(variant)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("untouched", {}),
        ("renumbered_after_drop", {"entry": 1}),
        ("duplicate_entry", {"entry": 2}),
        ("drop_entry", {"entry": 0}),
        ("drop_entry", {"entry": 3}),
        ("swap_entries", {"entry": 0, "other": 3}),
        ("renumber", {"entry": 1, "number": 1}),
        ("renumber", {"entry": 3, "number": 0}),
        ("entry_currency", {"entry": 2, "currency": "USD"}),
        ("order_currency", {"currency": "USD"}),
        ("order_currency", {"currency": "RUB"}),
    ],
)
def test_each_kind_of_entry_mutation(kind: str, params: dict[str, object]) -> None:
    """Each kind once, in the second of three messages."""
    check_variant(mutate(clean_messages([2, 4, 3]), kind, message=1, **params))  # type: ignore[arg-type]


def test_a_mutation_that_changes_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="another number"):
        mutate(clean_messages([2]), "renumber", entry=0, number=1)
    with pytest.raises(ValueError, match="another currency"):
        mutate(clean_messages([2]), "order_currency", currency="kzt")
