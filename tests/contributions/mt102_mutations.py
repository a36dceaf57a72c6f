"""MT102 files with whole sequence-B entries mutated, and what each mutation must do to its order.

A file of one to three clean messages (``contributions.synthetic``, synthetic people) has one
message changed a whole entry at a time, as a bank or a payer's software gets it wrong:

| kind | change | broken |
|---|---|---|
| ``untouched`` | nothing | no |
| ``renumbered_after_drop`` | an entry dropped, the rest renumbered and :32A: set to their sum | no |
| ``duplicate_entry`` | an entry block sent twice in a row | yes |
| ``drop_entry`` | an entry left out (:32A: unchanged) | yes |
| ``swap_entries`` | two entries change places (their :21: numbers with them) | yes |
| ``renumber`` | one entry's :21: number changed | yes |
| ``entry_currency`` | one entry's :32B: currency is not KZT | yes |
| ``order_currency`` | the whole message (:32A: and every :32B:) in another currency | yes |

A ``Variant`` holds the bytes and the expectation: the message that is ``broken`` must give an
order that needs review with a problem naming one of ``lines`` (file lines, 1-based), and every
other message of the file must give a clean order. Use ``variants()`` (a Hypothesis strategy) in
property tests or ``mutate()`` for one chosen case, with any door (parser, upload, API, ingest):
``Variant.raw`` is the file as sent; messages, hence orders, come in file order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from contributions.synthetic import LineSpec, mt102_message, mt_amount
from records.synthetic import synthetic_people

BROKEN_KINDS = ("duplicate_entry", "drop_entry", "swap_entries", "renumber", "entry_currency", "order_currency")
CLEAN_KINDS = ("untouched", "renumbered_after_drop")
KINDS = CLEAN_KINDS + BROKEN_KINDS
CURRENCIES = ("USD", "EUR", "RUB", "kzt", "KZ", "XXX")  # "kzt" is KZT: see ``_is_kzt``
DOCUMENT_DATE = date(2023, 11, 24)
PAYER = "150540152026"
AMOUNTS = ("7000,00", "2450,00", "12345,67", "4001,00", "1,00")

# The people the entries name: load them into the registry to post the clean orders at a door.
PEOPLE = list(synthetic_people(12, seed=102))


@dataclass(frozen=True)
class Variant:
    kind: str
    raw: bytes
    message: int  # the index of the mutated message (0-based; its order's position - 1)
    messages: int  # how many messages (orders) the file holds
    broken: bool  # the mutated message's order must need review
    lines: frozenset[int]  # file lines one of its problems must name (empty when not broken)

    def describe(self) -> str:
        return f"{self.kind} in message {self.message + 1} of {self.messages}, expected at lines {sorted(self.lines)}"


def clean_messages(sizes: list[int], *, amounts: list[str] | None = None, first_reference: int = 1) -> list[list[str]]:
    """Clean messages (each a list of text lines) with ``sizes[k]`` entries in message ``k``,
    their :20: references numbered from ``first_reference`` (distinct ones keep files sent
    through a door one after another from being duplicates of each other)."""
    messages = []
    taken = 0
    for index, size in enumerate(sizes):
        specs = []
        for k in range(size):
            person = PEOPLE[(taken + k) % len(PEOPLE)]
            amount = amounts[(taken + k) % len(amounts)] if amounts else AMOUNTS[(taken + k) % len(AMOUNTS)]
            specs.append(
                LineSpec(
                    person.iin,
                    person.last_name,
                    person.first_name,
                    person.patronymic,
                    person.birth_date,
                    "102023",
                    amount,
                )
            )
        taken += size
        text = mt102_message(
            reference=f"SO231124{first_reference + index:06d}",
            number=str(700 + index),
            document_date=DOCUMENT_DATE,
            payer_idn=PAYER,
            lines=specs,
        )
        messages.append(text.splitlines())
    return messages


def _entries(lines: list[str]) -> tuple[list[str], list[list[str]], list[str]]:
    """A message as its head (sequence A), its entry blocks (each from its :21:) and its tail."""
    first = next(i for i, line in enumerate(lines) if line.startswith(":21:"))
    last = next(i for i, line in enumerate(lines) if line.startswith(":32A:"))
    blocks: list[list[str]] = []
    for line in lines[first:last]:
        if line.startswith(":21:"):
            blocks.append([])
        blocks[-1].append(line)
    return lines[:first], blocks, lines[last:]


def _amount(block: list[str]) -> Decimal:
    text = next(line for line in block if line.startswith(":32B:"))[len(":32B:") + 3 :]
    return Decimal(text.replace(",", "."))


def _numbered(block: list[str], number: int | str) -> list[str]:
    return [f":21:{number}" if line.startswith(":21:") else line for line in block]


def _is_kzt(currency: str) -> bool:
    """The parser reads currencies in any case: ``kzt`` is KZT, not a mutation."""
    return currency.upper() == "KZT"


def mutate(
    messages: list[list[str]],
    kind: str,
    *,
    message: int = 0,
    entry: int = 0,
    other: int = 1,
    number: int = 99,
    currency: str = "USD",
) -> Variant:
    """``messages`` with message ``message`` changed by ``kind`` (see the module's table):
    ``entry`` (0-based) is the entry changed, ``other`` the second one of a swap, ``number`` the
    new :21: number of ``renumber``, ``currency`` the one of the currency kinds."""
    head, blocks, tail = _entries(messages[message])
    lines: set[int] = set()  # 0-based indexes in the mutated message's text
    broken = kind in BROKEN_KINDS

    def starts(of: list[list[str]]) -> list[int]:
        positions, at = [], len(head)
        for block in of:
            positions.append(at)
            at += len(block)
        return positions

    if kind == "untouched":
        new = blocks
    elif kind == "renumbered_after_drop":
        if len(blocks) < 2:
            raise ValueError("renumbered_after_drop needs two entries")
        new = [_numbered(block, k) for k, block in enumerate(blocks[:entry] + blocks[entry + 1 :], start=1)]
        total = sum((_amount(block) for block in new), Decimal(0))
        tail = [f"{tail[0][:14]}{mt_amount(total)}", *tail[1:]]  # ":32A:YYMMDDKZT" + total
    elif kind == "duplicate_entry":
        new = [*blocks[: entry + 1], list(blocks[entry]), *blocks[entry + 1 :]]
        lines.add(starts(new)[entry + 1])  # the repeated :21:
    elif kind == "drop_entry":
        new = blocks[:entry] + blocks[entry + 1 :]
        lines.add(0)  # the message: its lines no longer add up to :32A: (or it has none)
        if entry < len(new):
            lines.add(starts(new)[entry])  # the :21: after the gap
    elif kind == "swap_entries":
        if entry == other or other >= len(blocks):
            raise ValueError("swap_entries needs two different entries")
        new = list(blocks)
        new[entry], new[other] = new[other], new[entry]
        low, high = sorted((entry, other))
        lines.update(starts(new)[low : high + 1])
    elif kind == "renumber":
        if number == entry + 1:
            raise ValueError("renumber needs another number than the entry's own")
        new = list(blocks)
        new[entry] = _numbered(blocks[entry], number)
        lines.update(starts(new)[entry:])  # there, or where the numbering breaks after it
    elif kind == "entry_currency":
        if _is_kzt(currency):
            raise ValueError("entry_currency needs another currency than KZT")
        new = list(blocks)
        new[entry] = [f":32B:{currency}{line[8:]}" if line.startswith(":32B:") else line for line in blocks[entry]]
        lines.add(starts(new)[entry] + 1)  # its :32B:
    elif kind == "order_currency":
        if _is_kzt(currency):
            raise ValueError("order_currency needs another currency than KZT")
        new = [[f":32B:{currency}{line[8:]}" if line.startswith(":32B:") else line for line in b] for b in blocks]
        tail = [f"{tail[0][:11]}{currency}{tail[0][14:]}", *tail[1:]]
        lines.add(len(head) + sum(len(block) for block in new))  # the :32A: line
    else:
        raise ValueError(f"unknown mutation {kind!r}")
    changed = head + [line for block in new for line in block] + tail
    texts = [*messages[:message], changed, *messages[message + 1 :]]
    offset = sum(len(text) for text in texts[:message])  # lines before the mutated message
    return Variant(
        kind=kind,
        raw="".join("\n".join(text) + "\n" for text in texts).encode(),
        message=message,
        messages=len(messages),
        broken=broken,
        lines=frozenset(offset + index + 1 for index in lines),
    )


@st.composite
def variants(draw: st.DrawFn, kinds: tuple[str, ...] = KINDS) -> Variant:
    """A file of one to three messages of one to five entries, one message mutated by a kind
    drawn from ``kinds``."""
    sizes = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3), label="entries per message")
    kind = draw(st.sampled_from(kinds), label="kind")
    if kind in ("swap_entries", "renumbered_after_drop"):
        if max(sizes) < 2:
            sizes[0] = 2
        message = draw(st.sampled_from([k for k, size in enumerate(sizes) if size >= 2]), label="message")
    else:
        message = draw(st.integers(0, len(sizes) - 1), label="message")
    size = sizes[message]
    entry = draw(st.integers(0, size - 1), label="entry")
    other = entry
    if kind == "swap_entries":
        other = draw(st.integers(0, size - 1).filter(lambda k: k != entry), label="other")
    number = draw(
        st.one_of(st.integers(0, size + 2), st.integers(10, 999_999_999)).filter(lambda n: n != entry + 1),
        label="number",
    )
    currency = draw(st.sampled_from([c for c in CURRENCIES if not _is_kzt(c)]), label="currency")
    first_reference = draw(st.integers(1, 999_990), label="first reference")
    return mutate(
        clean_messages(sizes, first_reference=first_reference),
        kind,
        message=message,
        entry=entry,
        other=other,
        number=number,
        currency=currency,
    )
