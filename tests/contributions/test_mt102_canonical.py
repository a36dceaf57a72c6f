"""The canonical-layout reader of MT102 files is a shortcut, never a second opinion: wherever it
answers, its answer is the general reader's (orders, lines, values, errors and the lines they
name); everywhere else it steps aside. Both readers are compared on generated files in many
layouts and on mutations of them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from contributions.parsers import mt102
from contributions.parsers.base import ParsedOrder
from contributions.parsers.mt102 import decode_text, parse_mt102

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "samples"
SAMPLE_NAMES = ["order_clean.mt102", "order_penalty_cp1251.mt102", "order_with_returns.mt102"]
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HEAD = [
    "{1:F01XXXXKZKAXXXX0000000000}",
    "{2:I102SGROSS000000U3003}",
    "{4:",
    ":20:SO231124000001",
    ":50:/D/KZ699990000000000001",
    '/NAME/ТОО "СИНТЕТИКА"',
    "/IDN/150540152026",
    "/IRS/1",
    ":52B:XXXXKZKA",
    ":57B:GCVPKZ2A",
    ":59:KZ429990000000000002",
    "/NAME/НАО ГК",
    "/IDN/160440007161",
    ":70:/NUM/101",
    "/DATE/231124",
    "/KNP/012",
    "/ASSIGN/СОЦИАЛЬНЫЕ",
]
PERSON = {
    "FM": ["ИВАНОВ", "ОМАРОВА/ОМАРОВА", " АХМЕТОВ ", "", "Ә І"],
    "NM": ["ДАНИЯР", "АННА", ""],
    "FT": ["СЕРГЕЕВИЧ", "", "/X"],
    "DT": ["19840514", "19841314", "1984-05-14", ""],
    "IDN": ["840514386968", "84051438696", " 840514386968", "", "abc"],
    "PERIOD": ["012025", "202501", "2025-01", "132025", ""],
}


def read_both(text: str) -> tuple[list[ParsedOrder] | None, list[ParsedOrder]]:
    return mt102._parse_canonical(text), mt102._parse_general(text, "utf-8").orders


def assert_same_or_declined(text: str) -> bool:
    """The shortcut's answer (if any) is the general reader's; True when it answered."""
    canonical, general = read_both(text)
    if canonical is not None:
        assert canonical == general
    return canonical is not None


def mostly(usual: object, *unusual: object) -> st.SearchStrategy[object]:
    """``usual`` nine times in ten: most generated entries are ones the shortcut reads."""
    return st.one_of(*[st.just(usual)] * 9, st.sampled_from(unusual))


entry_strategy = st.fixed_dictionaries(
    {
        "number": mostly("1", "2", "17", "000000001", "x", ""),
        "currency": mostly("KZT", "USD", "kzt"),
        "amount": st.sampled_from(["4001,00", "4001.5", "4001", "4001,", "0,00", "-5,00", "1,234", "1" * 16]),
        "opv": mostly("/OPV/S", "//OPV/S", "/OPV/", "/opv/S", "OPV"),
        "slash": st.sampled_from(["/", "//"]),
        "order": st.permutations(list(PERSON)),
        "values": st.fixed_dictionaries({name: st.sampled_from(values) for name, values in PERSON.items()}),
        "drop": mostly(set(), {"FT"}, {"PERIOD"}, {"IDN"}, {"DT", "FM"}),
        "repeat": mostly(None, "FM", "IDN"),
        "extra": mostly(None, "/XX/1", "CONTINUED", ":99:X"),
    }
)


def entry_lines(spec: dict[str, object]) -> list[str]:
    values = spec["values"]
    assert isinstance(values, dict)
    lines = [f":21:{spec['number']}", f":32B:{spec['currency']}{spec['amount']}", f":70:{spec['opv']}"]
    for name in spec["order"]:  # type: ignore[attr-defined]
        if name not in spec["drop"]:  # type: ignore[operator]
            lines.append(f"{spec['slash']}{name}/{values[name]}")
    if spec["repeat"]:
        lines.append(f"/{spec['repeat']}/{values[spec['repeat']]}")
    if spec["extra"]:
        lines.append(str(spec["extra"]))
    return lines


message_strategy = st.fixed_dictionaries(
    {
        "entries": st.lists(entry_strategy, min_size=0, max_size=4),
        "period_a": st.sampled_from([None, "/PERIOD/022025", "/PERIOD/"]),
        "total": mostly(":32A:231124KZT8002,00", ":32A:231124USD1,00", ":32A:", ":32A:xx"),
        "closing": st.sampled_from(["-}", "-}{5:{CHK:1}}", "-}x"]),
        "trailer": mostly(None, "{5:{CHK:ABC}}", "{5:{4:}"),
    }
)


def message_text(spec: dict[str, object]) -> list[str]:
    lines = list(HEAD)
    if spec["period_a"]:
        lines.append(str(spec["period_a"]))
    for entry in spec["entries"]:  # type: ignore[attr-defined]
        lines += entry_lines(entry)
    lines += [str(spec["total"]), str(spec["closing"])]
    if spec["trailer"]:
        lines.append(str(spec["trailer"]))
    return lines


@EXAMPLES
@given(st.lists(message_strategy, min_size=1, max_size=3), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_generated_files_read_the_same_by_both_readers(
    messages: list[dict[str, object]], newline: str, final: bool
) -> None:
    lines = [line for spec in messages for line in message_text(spec)]
    text = newline.join(lines) + (newline if final else "")
    event("shortcut" if assert_same_or_declined(text) else "general reader")
    assert parse_mt102(text.encode()) == mt102._parse_general(text, "utf-8")


def clean_message(entries: int = 3, *, slash: str = "/") -> list[str]:
    lines = list(HEAD)
    for number in range(1, entries + 1):
        lines += [
            f":21:{number}",
            f":32B:KZT{4000 + number},00",
            ":70:/OPV/S",
            f"{slash}FM/ИВАНОВ",
            f"{slash}NM/ДАНИЯР",
            f"{slash}FT/СЕРГЕЕВИЧ",
            f"{slash}DT/19840514",
            f"{slash}IDN/840514386968",
            f"{slash}PERIOD/012025",
        ]
    return [*lines, f":32A:231124KZT{sum(4000 + n for n in range(1, entries + 1))},00", "-}"]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("slash", ["/", "//"])
def test_canonical_files_take_the_shortcut(newline: str, slash: str) -> None:
    text = newline.join(clean_message(slash=slash) + clean_message(2, slash=slash)) + newline
    assert assert_same_or_declined(text)
    parsed = parse_mt102(text.encode())
    assert [len(order.lines) for order in parsed.orders] == [3, 2]
    assert not any(order.errors for order in parsed.orders)
    first = parsed.orders[0].lines[0]
    assert (first.sequence, first.file_line, first.iin, first.birth_date, first.period) == (
        1,
        18,
        "840514386968",
        date(1984, 5, 14),
        date(2025, 1, 1),
    )
    assert parsed.orders[1].first_line == len(clean_message(slash=slash)) + 1


@pytest.mark.skipif(not all((SAMPLES / n).exists() for n in SAMPLE_NAMES), reason=f"samples absent from {SAMPLES}")
@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_the_samples_take_the_shortcut(name: str) -> None:
    text, _ = decode_text((SAMPLES / name).read_bytes())
    assert assert_same_or_declined(text)


def test_the_benchmark_files_take_the_shortcut() -> None:
    from contributions.management.commands.bench_ingest import _files
    from records.synthetic import synthetic_people

    people = list(synthetic_people(200, seed=3, death_share=0.0))
    raw = next(iter(_files(people, 1000)))
    assert assert_same_or_declined(raw.decode())


def test_a_period_of_sequence_a_serves_entries_without_their_own() -> None:
    lines = clean_message(3)
    lines.insert(len(HEAD), "/PERIOD/022025")
    lines[lines.index("/PERIOD/012025")] = "/PERIOD/"  # the first entry's: empty
    del lines[lines.index("/PERIOD/012025")]  # the second entry's: absent
    canonical, general = read_both("\n".join(lines) + "\n")
    assert canonical is not None
    assert canonical == general
    assert [line.period for line in general[0].lines] == [date(2025, 2, 1), date(2025, 2, 1), date(2025, 1, 1)]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (("/FM/ИВАНОВ", "/FM/ИВАНОВ\n/FM/ИВАНОВ"), "line 22: duplicate sub-field /FM/ in :70: (first on line 21)"),
        (("/FT/СЕРГЕЕВИЧ", "/XX/1"), "line 23: unknown sub-field /XX/ in :70:"),
        (("/IDN/840514386968", "/IDN/840514386968\nTEXT"), "line 26: unexpected text in :70: 'TEXT'"),
        (("/IDN/840514386968", ""), "line 20: entry :21:1 has no /IDN/ (IIN)"),
        ((":32B:KZT4001,00", ":32B:KZT-4001,00"), None),
    ],
)
def test_entries_the_shortcut_does_not_read(change: tuple[str, str], error: str | None) -> None:
    """What only the general reader reports: the shortcut declines and the error is there."""
    lines = clean_message(1)
    lines[lines.index(change[0])] = change[1]
    text = "\n".join(line for line in lines if line) + "\n"
    assert mt102._parse_canonical(text) is None
    parsed = parse_mt102(text.encode())
    assert parsed == mt102._parse_general(text, "utf-8")
    if error is not None:
        assert error in [str(e) for e in parsed.orders[0].errors]


def test_errors_name_the_same_lines() -> None:
    """Duplicate sequence numbers and a currency that differs from :32A: are the shortcut's own
    checks: they must read exactly as the general reader's."""
    lines = clean_message(3)
    lines[lines.index(":21:2")] = ":21:1"
    lines[lines.index(":32B:KZT4003,00")] = ":32B:USD4003,00"
    text = "\n".join(lines) + "\n"
    canonical, general = read_both(text)
    assert canonical is not None
    assert canonical == general
    assert [str(e) for e in general[0].errors] == [
        "line 27: duplicate :21: sequence number 1 (first on line 18)",
        "line 36: :21: sequence number 3 where 2 was expected: an entry is missing or out of order",
        "line 37: :32B: currency USD differs from :32A: KZT",
    ]
    # The lines are numbered by position: a repeated :21: number never clashes when stored.
    assert [(line.sequence, line.number_text) for line in general[0].lines] == [(1, "1"), (2, "1"), (3, "3")]


MUTATIONS = [
    "",
    " ",
    "\t",
    "\r",
    "\n",
    "\x00",
    "\x1a",
    "{",
    "}",
    "-}",
    ":",
    "/",
    "//",
    ":21:",
    ":32A:",
    "{4:",
    "\u00a0",
    "Ә",
]


@EXAMPLES
@given(
    st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=3), st.sampled_from(MUTATIONS)),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["\n", "\r\n"]),
)
def test_mutated_files_read_the_same_by_both_readers(edits: list[tuple[int, int, str]], newline: str) -> None:
    text = newline.join(clean_message(3) + clean_message(1)) + newline
    for position, cut, insert in edits:
        at = position % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    assert_same_or_declined(text)
    raw = text.encode()
    general = mt102._parse_general(*decode_text(raw))
    # (a NUL inside a value is replaced after reading: it cannot be stored as text)
    assert parse_mt102(raw) == (mt102._without_nul(general) if "\x00" in text else general)
