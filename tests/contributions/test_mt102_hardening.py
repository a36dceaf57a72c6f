"""MT102 reading hardened (issue 15): :21: numbering, currencies, damaged bytes, BOMs between
messages. Line N of the constructed example is ``LINES[N - 1]`` (tests/contributions/test_mt102.py)."""

from __future__ import annotations

import codecs

from contributions.parsers.base import ParsedOrder
from contributions.parsers.mt102 import decode, parse_mt102
from tests.contributions.test_mt102 import LINES, build, only_order, parse

FIRST_ENTRY = LINES[26:35]  # lines 27-35: ":21:1" ... "/PERIOD/112023"
SECOND_ENTRY = LINES[35:44]  # lines 36-44: ":21:2" ...


def messages_of(order: ParsedOrder) -> list[str]:
    return [str(error) for error in order.errors]


# --- :21: sequence numbers --------------------------------------------------------------------


def test_a_repeated_entry_block_is_named_and_its_lines_are_numbered_by_position() -> None:
    """The block of entry 2 sent twice: the copy's :21: is named, and the lines still get
    distinct sequence numbers (the lines' unique index (order, sequence) must never clash)."""
    lines = LINES[:44] + SECOND_ENTRY + LINES[44:]
    order = only_order(parse(lines))
    assert "line 45: duplicate :21: sequence number 2 (first on line 36)" in messages_of(order)
    assert [line.sequence for line in order.lines] == [1, 2, 3]
    assert [line.number_text for line in order.lines] == ["1", "2", "2"]
    assert [line.file_line for line in order.lines] == [27, 36, 45]


def test_a_missing_entry_is_named_at_the_gap() -> None:
    lines = [*LINES[:35], ":21:3", *LINES[36:]]  # entry 2 numbered 3: number 2 is missing
    order = only_order(parse(lines))
    assert messages_of(order) == [
        "line 36: :21: sequence number 3 where 2 was expected: an entry is missing or out of order"
    ]
    assert [line.sequence for line in order.lines] == [1, 2]


def test_entries_out_of_order_are_named() -> None:
    lines = LINES[:26] + SECOND_ENTRY + FIRST_ENTRY + LINES[44:]
    order = only_order(parse(lines))
    assert messages_of(order) == [
        "line 27: :21: sequence number 2 where 1 was expected: an entry is missing or out of order",
        "line 36: :21: sequence number 1 comes after 2: the entries are out of order",
    ]
    assert [(line.sequence, line.number_text) for line in order.lines] == [(1, "2"), (2, "1")]


def test_numbering_must_start_at_one() -> None:
    lines = [*LINES[:26], ":21:0", *LINES[27:35], ":21:1", *LINES[36:]]
    order = only_order(parse(lines))
    assert messages_of(order) == [
        "line 27: :21: sequence number 0 where 1 was expected: an entry is missing or out of order",
    ]


# --- currencies -------------------------------------------------------------------------------


def test_the_currency_of_each_entry_and_of_the_order_is_kept() -> None:
    text = "\n".join(LINES).replace("KZT", "USD")
    order = only_order(parse_mt102(text.encode()))
    assert order.errors == []  # the parser reads it; the order checks refuse it (test_order_checks)
    assert (order.currency, order.currency_line) == ("USD", 45)
    assert [line.currency for line in order.lines] == ["USD", "USD"]


# --- bytes that are not characters of the file's encoding -------------------------------------


def test_one_stray_byte_keeps_a_utf8_file_utf8_and_is_named() -> None:
    raw = build(LINES)
    at = raw.index("ИВАНОВИЧ".encode())  # line 32
    damaged = raw[:at] + b"\xff" + raw[at:]
    order = only_order(parse_mt102(damaged))
    assert parse_mt102(damaged).encoding == "utf-8"
    assert messages_of(order) == [
        f"line 32: byte 0xFF at offset {at} is not a UTF-8 character: the file is damaged",
    ]
    first, second = order.lines
    assert (first.last_name, first.first_name, first.patronymic) == ("ИВАНОВ", "ИВАН", "\ufffdИВАНОВИЧ")
    assert (second.last_name, second.first_name) == ("СЕРИКОВ", "ДАНИЯР")  # not garbled into KZ-1048


def test_the_offset_of_a_damaged_byte_counts_the_bom() -> None:
    raw = codecs.BOM_UTF8 + build(LINES)
    at = raw.index(b"/FM/")
    damaged = raw[:at] + b"\xc0" + raw[at:]
    order = only_order(parse_mt102(damaged))
    assert f"line 30: byte 0xC0 at offset {at} is not a UTF-8 character: the file is damaged" in messages_of(order)


def test_a_name_pasted_from_a_kz1048_file_is_named_byte_by_byte() -> None:
    raw = build(LINES)
    at = raw.index("СЕРИКОВ".encode())
    damaged = raw[:at] + "ӘБІЛ".encode("kz1048") + raw[at + len("СЕРИКОВ".encode()) :]
    decoded = decode(damaged)
    assert decoded.encoding == "utf-8"
    assert [problem.line for problem in decoded.problems] == [39, 39, 39, 39]
    assert [problem.params["offset"] for problem in decoded.problems] == [at, at + 1, at + 2, at + 3]


def test_damaged_bytes_are_named_up_to_a_limit_and_counted_after_it() -> None:
    text = "\n".join(LINES) + "\n"
    damaged = text.encode().replace("ИВАНОВИЧ".encode(), "ИВАНОВИЧ".encode() + b"\xff" * 25)
    padded = damaged.replace("ТОО".encode(), "ТОО ТОВАРИЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ".encode())
    problems = decode(padded).problems
    assert len(problems) == 21
    assert str(problems[-1]) == "line 32: 5 further bytes are not UTF-8 characters"


def test_a_damaged_byte_sends_only_its_own_order_to_review() -> None:
    first = build(LINES)
    second = build(LINES).replace(b":20:SO231222000001", b":20:SO231222000002")
    at = second.index("СЕРИКОВ".encode())
    damaged = first + second[:at] + b"\xfe" + second[at:]
    parsed = parse_mt102(damaged)
    assert parsed.encoding == "utf-8"
    one, two = parsed.orders
    assert one.errors == []
    assert messages_of(two) == [
        f"line {46 + 39}: byte 0xFE at offset {len(first) + at} is not a UTF-8 character: the file is damaged"
    ]


def test_a_kz1048_file_with_letters_that_look_like_utf8_stays_kz1048() -> None:
    """ "ТӘ", "СҰ", "ТӨ" in KZ-1048 are byte pairs that are valid UTF-8 Cyrillic letters; the other
    letters are not UTF-8, so the file is KZ-1048 and nothing is reported."""
    lines = list(LINES)
    lines[29] = "/FM/ТӘЖІБАЕВ"
    lines[30] = "/NM/СҰЛТАН"
    lines[31] = "/FT/ТӨЛЕГЕНҰЛЫ"
    parsed = parse_mt102(build(lines, encoding="kz1048"))
    assert parsed.encoding == "kz1048"
    line = only_order(parsed).lines[0]
    assert (line.last_name, line.first_name, line.patronymic) == ("ТӘЖІБАЕВ", "СҰЛТАН", "ТӨЛЕГЕНҰЛЫ")
    assert only_order(parsed).errors == []


def test_the_byte_kz1048_does_not_define_is_named() -> None:
    raw = build(LINES, encoding="kz1048")
    at = raw.index("ИВАНОВИЧ".encode("kz1048"))
    parsed = parse_mt102(raw[:at] + b"\x98" + raw[at:])
    assert parsed.encoding == "kz1048"
    assert messages_of(only_order(parsed)) == [
        f"line 32: byte 0x98 at offset {at} is not a KZ1048 character: the file is damaged"
    ]


# --- files joined into one --------------------------------------------------------------------


def test_a_bom_before_the_second_message_is_ignored() -> None:
    """Two UTF-8 files with BOMs joined: the second BOM stands before "{1:"."""
    one = codecs.BOM_UTF8 + build(LINES)
    two = codecs.BOM_UTF8 + build(LINES).replace(b":20:SO231222000001", b":20:SO231222000002")
    parsed = parse_mt102(one + two)
    assert parsed.errors == []
    first, second = parsed.orders
    assert (first.errors, second.errors) == ([], [])
    assert (first.reference, second.reference) == ("SO231222000001", "SO231222000002")
    assert second.first_line == 47


def test_a_bom_inside_a_value_is_not_read_by_the_shortcut() -> None:
    """The canonical-layout reader steps aside for a BOM, so the general reader (which drops it
    at the edge of a line) gives the answer."""
    lines = list(LINES)
    lines[29] = "/FM/ИВАНОВ\ufeff"
    order = only_order(parse(lines))
    assert order.lines[0].last_name == "ИВАНОВ"
    assert order.errors == []
