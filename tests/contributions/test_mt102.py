"""MT102 parser: the shared samples, encodings, message splitting and every structural error."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from contributions.parsers import mt102
from contributions.parsers.base import ParsedFile, ParsedOrder
from contributions.parsers.mt102 import decode_text, parse_mt102, parse_period, split_lines

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"

# The constructed example of reference.md §3.3, one entry per file line (line N is LINES[N - 1]).
LINES = [
    "{1:F01XXXXKZKAXXXX0000000000}",  # 1
    "{2:I102SGROSS000000U3003}",  # 2
    "{4:",  # 3
    ":20:SO231222000001",  # 4
    ":50:/D/KZ699990000000000001",  # 5
    '/NAME/ТОО "ПРИМЕР"',  # 6
    "/IDN/150540012348",  # 7
    "/CHIEF/АХМЕТОВ АЛИБЕК",  # 8
    "/MAINBNK/СЕРГЕЕВА АННА",  # 9
    "/IRS/1",  # 10
    "/SECO/7",  # 11
    ":52B:XXXXKZKA",  # 12
    ":57B:GCVPKZ2A",  # 13
    ":59:KZ429990000000000002",  # 14
    "/NAME/НАО ГК ПРАВИТЕЛЬСТВО ДЛЯ ГРАЖДАН",  # 15
    "/IDN/160440007161",  # 16
    "/IRS/1",  # 17
    "/SECO/1",  # 18
    ":70:/NUM/123",  # 19
    "/DATE/231222",  # 20
    "/SEND/07",  # 21
    "/VO/01",  # 22
    "/KNP/012",  # 23
    "/PSO/01",  # 24
    "/PRT/05",  # 25
    "/ASSIGN/СОЦИАЛЬНЫЕ ОТЧИСЛЕНИЯ ЗА НОЯБРЬ 2023 Г.",  # 26
    ":21:1",  # 27
    ":32B:KZT7000,00",  # 28
    ":70:/OPV/S",  # 29
    "/FM/ИВАНОВ",  # 30
    "/NM/ИВАН",  # 31
    "/FT/ИВАНОВИЧ",  # 32
    "/DT/19791028",  # 33
    "/IDN/791028302728",  # 34
    "/PERIOD/112023",  # 35
    ":21:2",  # 36
    ":32B:KZT2450,00",  # 37
    ":70:/OPV/S",  # 38
    "/FM/СЕРИКОВ",  # 39
    "/NM/ДАНИЯР",  # 40
    "/FT/",  # 41
    "/DT/19850615",  # 42
    "/IDN/850615300012",  # 43
    "/PERIOD/112023",  # 44
    ":32A:231222KZT9450,00",  # 45
    "-}",  # 46
]


def build(lines: list[str], *, newline: str = "\n", encoding: str = "utf-8") -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


def parse(lines: list[str]) -> ParsedFile:
    return parse_mt102(build(lines))


def with_line(number: int, text: str) -> list[str]:
    lines = list(LINES)
    lines[number - 1] = text
    return lines


def without_line(number: int) -> list[str]:
    return LINES[: number - 1] + LINES[number:]


def only_order(result: ParsedFile) -> ParsedOrder:
    assert result.errors == []
    assert len(result.orders) == 1
    return result.orders[0]


def error_lines(order: ParsedOrder, pattern: str) -> list[int]:
    """Lines of the order's errors whose message matches ``pattern``."""
    return [error.line for error in order.errors if re.search(pattern, error.message, re.IGNORECASE)]


def sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"sample {path} is absent")
    return path.read_bytes()


# --- the constructed example ------------------------------------------------------------------


def test_reference_example_parses_cleanly() -> None:
    order = only_order(parse(LINES))
    assert order.errors == []
    assert order.first_line == 1
    assert order.reference == "SO231222000001"
    assert order.payer_account == "KZ699990000000000001"
    assert order.payer_name == 'ТОО "ПРИМЕР"'
    assert order.payer_idn == "150540012348"
    assert order.payer_bic == "XXXXKZKA"
    assert order.payee_bic == "GCVPKZ2A"
    assert order.payee_account == "KZ429990000000000002"
    assert order.payee_idn == "160440007161"
    assert order.payee_name == "НАО ГК ПРАВИТЕЛЬСТВО ДЛЯ ГРАЖДАН"
    assert order.number == "123"
    assert order.document_date == date(2023, 12, 22)
    assert order.knp == "012"
    assert order.assign == "СОЦИАЛЬНЫЕ ОТЧИСЛЕНИЯ ЗА НОЯБРЬ 2023 Г."
    assert order.value_date == date(2023, 12, 22)
    assert order.currency == "KZT"
    assert order.total == Decimal("9450.00")
    assert order.duplicate_key == ("150540012348", "SO231222000001", "123", date(2023, 12, 22))
    first, second = order.lines
    assert (first.sequence, first.file_line, first.iin) == (1, 27, "791028302728")
    assert (first.last_name, first.first_name, first.patronymic) == ("ИВАНОВ", "ИВАН", "ИВАНОВИЧ")
    assert first.birth_date == date(1979, 10, 28)
    assert (first.period, first.period_text) == (date(2023, 11, 1), "112023")
    assert first.amount == Decimal("7000.00")
    assert (second.sequence, second.file_line, second.patronymic) == (2, 36, "")
    assert second.amount == Decimal("2450.00")


def test_assign_continues_on_following_lines() -> None:
    lines = [*LINES[:26], "ЗА НОЯБРЬ", "  2023 ГОДА  ", *LINES[26:]]
    order = only_order(parse(lines))
    assert order.errors == []
    assert order.assign == "СОЦИАЛЬНЫЕ ОТЧИСЛЕНИЯ ЗА НОЯБРЬ 2023 Г. ЗА НОЯБРЬ 2023 ГОДА"
    assert order.lines[0].file_line == 29


def test_double_slash_subfields_and_name_on_the_card() -> None:
    lines = with_line(30, "//FM/ИВАНОВ/ИВАНОВА")
    lines[30] = "//NM/  ИВАН   АЛЕКСАНДР "
    lines[32] = "//DT/19791028"
    lines[33] = "//IDN/791028302728"
    lines[34] = "//PERIOD/112023"
    order = only_order(parse(lines))
    assert order.errors == []
    line = order.lines[0]
    assert (line.last_name, line.first_name) == ("ИВАНОВ", "ИВАН АЛЕКСАНДР")
    assert (line.iin, line.birth_date, line.period) == ("791028302728", date(1979, 10, 28), date(2023, 11, 1))


def test_double_slash_in_sequence_a() -> None:
    lines = with_line(23, "//KNP/017")
    lines[19] = "//DATE/231222"
    order = only_order(parse(lines))
    assert order.errors == []
    assert (order.knp, order.document_date) == ("017", date(2023, 12, 22))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("112023", date(2023, 11, 1)),  # MMYYYY
        ("202311", date(2023, 11, 1)),  # YYYYMM
        ("012024", date(2024, 1, 1)),
        ("202401", date(2024, 1, 1)),
        ("2023-11", date(2023, 11, 1)),
        ("11.2023", date(2023, 11, 1)),
        ("132023", None),  # neither a month nor a year
        ("202313", None),
        ("001990", None),
        ("121989", None),  # year out of range
        ("", None),
        ("НОЯБРЬ", None),
    ],
)
def test_period_formats(text: str, expected: date | None) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("period", "expected"),
    [("112023", date(2023, 11, 1)), ("202311", date(2023, 11, 1)), ("132023", None), ("", None)],
)
def test_period_in_sequence_b_is_mmyyyy_or_yyyymm(period: str, expected: date | None) -> None:
    order = only_order(parse(with_line(35, f"/PERIOD/{period}")))
    assert order.errors == []  # an unreal or empty period is for the line check, not a parse error
    assert order.lines[0].period == expected
    assert order.lines[0].period_text == period


def test_period_of_sequence_a_applies_to_lines_without_one() -> None:
    lines = [*LINES[:25], "/PERIOD/202310", *LINES[25:]]  # after /PRT/, line 26
    del lines[35]  # the first entry's /PERIOD/ (was line 35, now 36)
    order = only_order(parse(lines))
    assert order.errors == []
    first, second = order.lines
    assert (first.period, first.period_text) == (date(2023, 10, 1), "202310")
    assert (second.period, second.period_text) == (date(2023, 11, 1), "112023")


def test_line_values_invalid_for_the_line_checks_are_not_parse_errors() -> None:
    lines = with_line(34, "/IDN/79102830272X")
    lines[32] = "/DT/19791332"
    lines[27] = ":32B:KZT0,00"
    lines[36] = ":32B:KZT-2450,00"
    lines[38] = "/FM/"
    order = only_order(parse(lines))
    assert order.errors == []
    first, second = order.lines
    assert first.iin == "79102830272X"
    assert first.birth_date is None
    assert first.amount == Decimal("0.00")
    assert second.amount == Decimal("-2450.00")
    assert second.last_name == ""


def test_amounts_with_a_dot_or_without_decimals() -> None:
    lines = with_line(28, ":32B:KZT7000.00")
    lines[36] = ":32B:KZT2450"
    order = only_order(parse(lines))
    assert order.errors == []
    assert [line.amount for line in order.lines] == [Decimal("7000.00"), Decimal("2450.00")]


def test_sum_mismatch_is_not_a_parse_error() -> None:
    order = only_order(parse(with_line(45, ":32A:231222KZT9999,00")))
    assert order.errors == []
    assert order.total == Decimal("9999.00")


# --- structural errors, each naming its line --------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "line", "pattern"),
    [
        pytest.param(with_line(28, ":32B:KZTabc"), 28, r":32B:.*not a number", id="32B-not-a-number"),
        pytest.param(with_line(28, ":32B:KZT12,345"), 28, r"more than two decimals", id="32B-three-decimals"),
        pytest.param(with_line(28, ":3B:KZT7000,00"), 28, r"garbled tag", id="garbled-tag"),
        pytest.param(with_line(29, "70:/OPV/S"), 29, r"unexpected text", id="tag-without-colon"),
        pytest.param(with_line(28, ":99:KZT7000,00"), 28, r"unknown tag :99:", id="unknown-tag"),
        pytest.param(with_line(30, "FM/ИВАНОВ"), 30, r"unexpected text", id="subfield-without-slash"),
        pytest.param(with_line(30, "/FX/ИВАНОВ"), 30, r"unknown sub-field /FX/", id="unknown-subfield"),
        pytest.param(with_line(8, "/CHEF/АХМЕТОВ"), 8, r"unknown sub-field /CHEF/", id="unknown-subfield-50"),
        pytest.param(without_line(4), 3, r"missing :20:", id="missing-20"),
        pytest.param(with_line(4, ":20:"), 4, r"missing :20:", id="empty-20"),
        pytest.param(without_line(23), 19, r"no /KNP/", id="missing-KNP"),
        pytest.param(without_line(19), 19, r"unknown sub-field /DATE/ in :59:", id="missing-70-in-A"),
        pytest.param(without_line(19), 3, r"missing :70: of sequence A", id="missing-70-in-A-reported"),
        pytest.param(without_line(45), 45, r"missing :32A:", id="missing-32A"),
        pytest.param(with_line(45, ":32A:23122KZT9450,00"), 45, r"malformed :32A:", id="32A-malformed"),
        pytest.param(with_line(45, ":32A:231222KZT"), 45, r":32A: total: amount is missing", id="32A-no-total"),
        pytest.param(with_line(45, ":32A:231232KZT9450,00"), 45, r"value date .* not a date", id="32A-bad-date"),
        pytest.param(without_line(43), 38, r"has no /IDN/", id="B-without-IDN"),
        pytest.param(with_line(36, ":21:1"), 36, r"duplicate :21: sequence number 1", id="duplicate-21"),
        pytest.param(with_line(36, ":21:X"), 36, r":21: sequence number .* not a number", id="21-not-a-number"),
        pytest.param(with_line(20, "/DATE/231232"), 20, r"/DATE/ .* not a date", id="DATE-not-a-date"),
        pytest.param(with_line(20, "/DATE/2312"), 20, r"/DATE/ .* not a date", id="DATE-short"),
        pytest.param(without_line(20), 19, r"no /DATE/", id="missing-DATE"),
        pytest.param(with_line(19, ":70:/NUM/"), 19, r"no /NUM/", id="empty-NUM"),
        pytest.param(without_line(7), 5, r"no /IDN/ \(payer", id="missing-payer-IDN"),
        pytest.param(without_line(12), 3, r"missing :52B:", id="missing-52B"),
        pytest.param(without_line(13), 3, r"missing :57B:", id="missing-57B"),
        pytest.param(without_line(14), 14, r"unexpected text in :57B:", id="missing-59-account-line"),
        pytest.param(without_line(37), 36, r"has no :32B:", id="B-without-32B"),
        pytest.param(without_line(36), 36, r"duplicate :32B:", id="missing-21"),
        pytest.param(with_line(37, ":32B:USD2450,00"), 37, r"currency USD differs", id="32B-currency"),
        pytest.param(with_line(37, ":32B:2450,00"), 37, r"malformed :32B:", id="32B-no-currency"),
        pytest.param([*LINES[:44], ":50:/D/KZ69", *LINES[44:]], 45, r":50: is not allowed", id="bank-batch"),
        pytest.param([*LINES[:45], ":21:3", *LINES[45:]], 46, r"after :32A:", id="entry-after-32A"),
        pytest.param([*LINES[:4], ":20:AGAIN", *LINES[4:]], 5, r"duplicate :20:", id="duplicate-20"),
        pytest.param(with_line(2, "{2:I100SGROSS000000U3003}"), 2, r"block 2", id="not-MT102"),
        pytest.param([*LINES, "TRAILING GARBAGE"], 47, r"outside a message", id="text-after-message"),
        pytest.param(LINES[:40], 40, r"truncated", id="truncated-at-eof"),
        pytest.param(LINES[:-1], 45, r"truncated", id="no-closing-brace"),
    ],
)
def test_structural_errors_name_their_line(lines: list[str], line: int, pattern: str) -> None:
    result = parse(lines)
    assert result.errors == []
    (order,) = result.orders
    assert line in error_lines(order, pattern), order.errors


def test_amount_that_is_not_a_number_is_none_and_an_error() -> None:
    (order,) = parse(with_line(28, ":32B:KZTabc")).orders
    assert order.lines[0].amount is None
    assert [error.line for error in order.errors] == [28]


def test_truncated_message_keeps_what_could_be_read() -> None:
    (order,) = parse(LINES[:40]).orders
    assert order.reference == "SO231222000001"
    assert [line.sequence for line in order.lines] == [1, 2]
    assert order.lines[1].first_name == "ДАНИЯР"
    assert order.total is None
    assert error_lines(order, "truncated") == [40]
    assert error_lines(order, "missing :32A:") == [40]


def test_message_truncated_by_the_next_message() -> None:
    result = parse(LINES[:40] + LINES)
    first, second = result.orders
    assert error_lines(first, "truncated") == [40]
    assert second.first_line == 41
    assert second.errors == []


def test_missing_block4_start_in_a_file_with_other_messages() -> None:
    result = parse(LINES + with_line(3, "{3:{108:X}}"))
    first, second = result.orders
    assert first.errors == []
    assert second.first_line == 47
    assert error_lines(second, r"block 4 .* missing") == [50]
    assert second.reference == "SO231222000001"
    assert len(second.lines) == 2


@pytest.mark.parametrize("raw", [b"", b"\n\n", b"   \r\n", "\ufeff".encode()])
def test_empty_file_is_a_file_level_error(raw: bytes) -> None:
    result = parse_mt102(raw)
    assert result.orders == []
    assert [error.line for error in result.errors] == [1]


def test_text_without_block4_is_a_file_level_error() -> None:
    result = parse_mt102(build(["", "{1:F01XXXXKZKAXXXX0000000000}", "{2:I102SGROSS000000U3003}", ":20:X"]))
    assert result.orders == []
    assert [error.line for error in result.errors] == [2]
    assert "{4:" in result.errors[0].message
    result = parse_mt102(b"reference,number\nA,1\n")
    assert result.orders == []
    assert [error.line for error in result.errors] == [1]


def test_message_without_block1_starts_at_block4() -> None:
    result = parse(LINES[2:])
    order = only_order(result)
    assert order.errors == []
    assert order.first_line == 1
    assert order.lines[0].file_line == 25


def test_blocks_on_one_line() -> None:
    lines = ["{1:F01XXXXKZKAXXXX0000000000}{2:I102SGROSS000000U3003}{4:", *LINES[3:]]
    order = only_order(parse(lines))
    assert order.errors == []
    assert order.lines[0].file_line == 25


def test_unexpected_exception_becomes_an_error_of_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(message: object) -> ParsedOrder:
        raise RuntimeError("bug")

    monkeypatch.setattr(mt102, "_parse_message", boom)
    result = parse(LINES + LINES)
    assert [order.first_line for order in result.orders] == [1, 47]
    for order in result.orders:
        assert [error.line for error in order.errors] == [order.first_line]
        assert "RuntimeError" in order.errors[0].message


# --- encodings and line endings ---------------------------------------------------------------


def test_kz1048_decodes_kazakh_letters() -> None:
    lines = with_line(30, "/FM/ӘБІЛҚАСЫМОВ")
    lines[30] = "/NM/АЙНҰР"
    lines[31] = "/FT/ҒАЛЫМҰЛЫ ҢӨҮҺ"
    raw = build(lines, newline="\r\n", encoding="kz1048")
    result = parse_mt102(raw)
    assert result.encoding == "kz1048"
    line = only_order(result).lines[0]
    assert (line.last_name, line.first_name, line.patronymic) == ("ӘБІЛҚАСЫМОВ", "АЙНҰР", "ҒАЛЫМҰЛЫ ҢӨҮҺ")


def test_utf8_with_bom_and_cr_only_line_ends() -> None:
    plain = parse_mt102(build(LINES))
    with_bom = parse_mt102(b"\xef\xbb\xbf" + build(LINES))
    cr_only = parse_mt102(build(LINES, newline="\r"))
    assert plain.encoding == with_bom.encoding == cr_only.encoding == "utf-8"
    assert plain == with_bom == cr_only


def test_utf8_cut_inside_a_character_stays_utf8() -> None:
    raw = build(LINES)
    cut = raw.index("ИВАНОВИЧ".encode()) + 1  # inside the two-byte "И"
    text, encoding = decode_text(raw[:cut])
    assert encoding == "utf-8"
    assert text.endswith("/FT/\ufffd")


def test_split_lines() -> None:
    assert split_lines("") == []
    assert split_lines("a\r\nb\rc\nd\n") == ["a", "b", "c", "d"]
    assert split_lines("a\n\n") == ["a", ""]


# --- the shared samples -----------------------------------------------------------------------

EXPECTED = {
    "order_clean.mt102": {
        "encoding": "utf-8",
        "reference": "SO231124000001",
        "number": "101",
        "knp": "012",
        "document_date": date(2023, 11, 24),
        "value_date": date(2023, 11, 24),
        "lines": 10,
        "total": Decimal("72800.00"),
        "period": date(2023, 10, 1),
    },
    "order_penalty_cp1251.mt102": {
        "encoding": "kz1048",
        "reference": "PE231127000003",
        "number": "103",
        "knp": "017",
        "document_date": date(2023, 11, 27),
        "value_date": date(2023, 11, 27),
        "lines": 3,
        "total": Decimal("37.11"),
        "period": date(2023, 9, 1),
    },
    "order_with_returns.mt102": {
        "encoding": "utf-8",
        "reference": "SO231124000002",
        "number": "102",
        "knp": "012",
        "document_date": date(2023, 11, 24),
        "value_date": date(2023, 11, 24),
        "lines": 10,
        "total": Decimal("35000.00"),
        "period": date(2023, 10, 1),
    },
}

CYRILLIC_NAME = re.compile(r"[А-ЯЁӘІҢҒҮҰҚӨҺ]+(?: [А-ЯЁӘІҢҒҮҰҚӨҺ]+)*")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_headers_lines_and_totals(name: str) -> None:
    expected = EXPECTED[name]
    result = parse_mt102(sample(name))
    assert result.encoding == expected["encoding"]
    order = only_order(result)
    assert order.errors == []
    assert order.first_line == 1
    assert order.reference == expected["reference"]
    assert order.number == expected["number"]
    assert order.knp == expected["knp"]
    assert order.document_date == expected["document_date"]
    assert order.value_date == expected["value_date"]
    assert order.payer_idn == "150540152026"
    assert order.payer_name == 'ТОО "ДАЛА СЕРВИС"'
    assert order.payer_account == "KZ699990000000000001"
    assert order.payer_bic == "XXXXKZKA"
    assert order.payee_bic == "GCVPKZ2A"
    assert order.payee_account == "KZ429990000000000002"
    assert order.payee_idn == "160440007161"
    assert order.payee_name == "НАО ГК ПРАВИТЕЛЬСТВО ДЛЯ ГРАЖДАН"
    assert order.currency == "KZT"
    assert order.total == expected["total"]
    assert len(order.lines) == expected["lines"]
    assert sum(line.amount or Decimal(0) for line in order.lines) == expected["total"]
    assert [line.sequence for line in order.lines] == list(range(1, len(order.lines) + 1))
    assert [line.file_line for line in order.lines] == [27 + 9 * i for i in range(len(order.lines))]
    for line in order.lines:
        assert line.period == expected["period"]
        assert re.fullmatch(r"[0-9]{12}", line.iin)
        assert line.birth_date is not None
        assert CYRILLIC_NAME.fullmatch(line.last_name), line.last_name
        assert CYRILLIC_NAME.fullmatch(line.first_name), line.first_name
        assert line.patronymic == "" or CYRILLIC_NAME.fullmatch(line.patronymic)


def test_cp1251_sample_decodes_to_cyrillic_with_double_slash_subfields() -> None:
    raw = sample("order_penalty_cp1251.mt102")
    assert b"\r\n" in raw
    assert b"//FM/" in raw
    order = only_order(parse_mt102(raw))
    assert [line.last_name for line in order.lines] == ["НУРЛАНОВ", "ЖУМАБАЕВ", "НУРЛАНОВА"]
    assert [line.first_name for line in order.lines] == ["АЛИБЕК", "МАРАТ", "ЕЛЕНА"]
    assert [line.patronymic for line in order.lines] == ["МАРАТОВИЧ", "ПЕТРОВИЧ", "ЕРЛАНОВНА"]
    assert [line.iin for line in order.lines] == ["010204597412", "901012327593", "980220432559"]
    assert order.lines[0].birth_date == date(2001, 2, 4)
    assert order.lines[0].period_text == "092023"
    assert order.assign == "ПЕНЯ ПО СОЦИАЛЬНЫМ ОТЧИСЛЕНИЯМ"


def test_utf8_samples_keep_kazakh_letters() -> None:
    returns = only_order(parse_mt102(sample("order_with_returns.mt102")))
    names = {(line.last_name, line.first_name) for line in returns.lines}
    assert ("ЖУМАБАЕВА", "ӘСЕМ") in names
    assert ("ПЕТРОВА", "АЙНҰР") in names
    clean = only_order(parse_mt102(sample("order_clean.mt102")))
    assert ("ПЕТРОВА", "АЙНҰР") in {(line.last_name, line.first_name) for line in clean.lines}


def test_sample_reencoded_as_kz1048_gives_the_same_order() -> None:
    raw = sample("order_with_returns.mt102")
    utf8 = parse_mt102(raw)
    kz = parse_mt102(raw.decode("utf-8").encode("kz1048"))
    assert kz.encoding == "kz1048"
    assert replace(kz, encoding="utf-8") == utf8


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_crlf_and_lf_give_identical_results(name: str) -> None:
    raw = sample(name)
    lf = raw.replace(b"\r\n", b"\n")
    crlf = lf.replace(b"\n", b"\r\n")
    assert parse_mt102(lf) == parse_mt102(crlf) == parse_mt102(raw)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("order_clean.mt102", "order_with_returns.mt102"),
        ("order_penalty_cp1251.mt102", "order_penalty_cp1251.mt102"),
    ],
)
def test_two_messages_in_one_file(first: str, second: str) -> None:
    raw_first, raw_second = sample(first), sample(second)
    result = parse_mt102(raw_first + raw_second)
    assert result.errors == []
    one, two = result.orders
    assert (one.first_line, two.first_line) == (1, len(split_lines(decode_text(raw_first)[0])) + 1)
    assert one.errors == two.errors == []
    assert one.total == EXPECTED[first]["total"]
    assert two.total == EXPECTED[second]["total"]
    assert len(one.lines) == EXPECTED[first]["lines"]
    assert len(two.lines) == EXPECTED[second]["lines"]
    assert two.lines[0].file_line == two.first_line + 26
    assert replace(one, first_line=1) == only_order(parse_mt102(raw_first))
    shifted = only_order(parse_mt102(raw_second))
    assert two.reference == shifted.reference
    assert [(line.iin, line.amount) for line in two.lines] == [(line.iin, line.amount) for line in shifted.lines]


def test_two_messages_with_blank_lines_between() -> None:
    raw = sample("order_clean.mt102")
    result = parse_mt102(raw + b"\n\n" + raw)
    assert result.errors == []
    assert [order.first_line for order in result.orders] == [1, 121]
    assert all(order.errors == [] for order in result.orders)
