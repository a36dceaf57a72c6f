"""Keyset paging (records.paging): walking the pages forward from the first and back from the
last visits every row once, in order, whatever the ties in the leading key; a position in the
URL that is not one is answered with the first page, never an error."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl

import pytest
from django.test import RequestFactory

from records.identifiers import check_digit
from records.models import Participant
from records.paging import COUNT_LIMIT, Key, KeysetPage, _encode, capped_count, keyset_page
from records.selectors import SEARCH_KEYS, participant_search

pytestmark = pytest.mark.django_db
PER_PAGE = 4


def _iins(prefix: str, count: int) -> list[str]:
    """``count`` valid IINs starting with ``prefix`` (synthetic; some 11-digit stems have none)."""
    width = 11 - len(prefix)
    stems = (f"{prefix}{n:0{width}d}" for n in range(10**width))
    return [f"{stem}{digit}" for stem in stems if (digit := check_digit(stem)) is not None][:count]


def _people(count: int) -> None:
    """``count`` participants, most of them with one of three surnames (ties in the first key)."""
    Participant.objects.bulk_create(
        Participant(
            iin=iin,
            last_name=("Ахметов", "ахметова", "Әлиев")[n % 3] if n % 5 else f"Ахмет {n}",
            first_name=("Бауыржан", "Айгүл")[n % 2],
            birth_date=date(1980, 1, 1),
            gender="M",
        )
        for n, iin in enumerate(_iins("800101300", count))
    )


def _page(query: str | dict[str, str]) -> KeysetPage[Participant]:
    request = RequestFactory().get("/participants/", query if isinstance(query, dict) else dict(parse_qsl(query)))
    return keyset_page(request, participant_search(last_name="ах"), SEARCH_KEYS, descending=False, per_page=PER_PAGE)


def _expected() -> list[str]:
    """The order of the search, computed in Python: capitals, then byte order."""
    people = participant_search(last_name="ах")

    def key(p: Participant) -> tuple[bytes, bytes, str]:
        return p.last_name.upper().encode(), p.first_name.upper().encode(), p.iin

    return [p.iin for p in sorted(people, key=key)]


@pytest.mark.parametrize("count", [0, 1, PER_PAGE, PER_PAGE + 1, 3 * PER_PAGE + 2, 40])
def test_forward_and_back_every_row_once_in_order(count: int) -> None:
    _people(count)
    expected = _expected()

    forward: list[str] = []
    page = _page({})
    assert page.is_first
    while True:
        forward.extend(p.iin for p in page.object_list)
        assert len(page.object_list) <= PER_PAGE
        if page.is_last:
            break
        page = _page(page.next_query)
        assert not page.is_first
    assert forward == expected

    backward: list[str] = []
    page = _page({"page": "last"})
    assert page.is_last
    while True:
        backward[:0] = [p.iin for p in page.object_list]
        if page.is_first:
            break
        page = _page(page.previous_query)
    assert backward == expected
    assert _page({}).count == len(expected)


def test_the_last_page_is_full_and_its_previous_page_goes_on_from_it() -> None:
    _people(3 * PER_PAGE + 2)
    expected = _expected()
    last = _page({"page": "last"})
    assert [p.iin for p in last.object_list] == expected[-PER_PAGE:]
    before = _page(last.previous_query)
    assert [p.iin for p in before.object_list] == expected[-2 * PER_PAGE : -PER_PAGE]
    assert not before.is_last


@pytest.mark.parametrize(
    "query",
    [
        {"after": "not base64!"},
        {"after": "e30"},  # {} : not a list
        {"before": _encode(["x"])},  # too few values
        {"after": _encode(["x", "y", "z\x00"])},  # NUL
        {"after": "A" * 5000},
        {"page": "9999"},
    ],
)
def test_a_position_that_is_not_one_shows_the_first_page(query: dict[str, str]) -> None:
    _people(2 * PER_PAGE)
    page = _page(query)
    assert page.is_first
    assert [p.iin for p in page.object_list] == _expected()[:PER_PAGE]


def test_a_position_of_another_type_is_refused_for_a_typed_key() -> None:
    from contributions.selectors import ORDER_KEYS
    from records.paging import _decode

    assert _decode(_encode(["2026-01-01T00:00:00+05:00", "7"]), ORDER_KEYS) is not None
    assert _decode(_encode(["2026-01-01T00:00:00", "7"]), ORDER_KEYS) is None  # no time zone
    assert _decode(_encode(["2026-01-01T00:00:00+05:00", "seven"]), ORDER_KEYS) is None
    assert _decode(_encode(["2026-01-01T00:00:00+05:00", str(2**63)]), ORDER_KEYS) is None
    assert _decode(_encode(["yesterday", "7"]), (Key.field("day", date), Key.field("id", int))) is None


def test_the_other_query_parameters_are_kept_in_every_link() -> None:
    _people(3 * PER_PAGE)
    page = _page({"last_name": "ах", "first_name": ""})
    assert dict(parse_qsl(page.next_query))["last_name"] == "ах"
    assert dict(parse_qsl(page.last_query)) == {"last_name": "ах", "page": "last"}


def test_a_count_stops_at_its_limit() -> None:
    Participant.objects.bulk_create(
        Participant(iin=iin, last_name="Ким", first_name="Ли", birth_date=date(1990, 1, 1), gender="F")
        for iin in _iins("9001013", COUNT_LIMIT + 5)
    )
    assert capped_count(Participant.objects.all()) == COUNT_LIMIT + 1
    assert capped_count(Participant.objects.filter(iin__in=_iins("9001013", 10))) == 10
    assert capped_count(Participant.objects.none()) == 0


def test_past_either_end_the_page_is_the_first_or_the_last_full_page() -> None:
    _people(3 * PER_PAGE + 2)
    expected = _expected()
    first, last = _page({}), _page({"page": "last"})
    # Before the first row: the first page; after the last row: the last page, never an empty one.
    before_first = _page(f"before={_key(first, 0)}")
    assert [p.iin for p in before_first.object_list] == expected[:PER_PAGE]
    assert before_first.is_first
    after_last = _page(f"after={_key(last, -1)}")
    assert [p.iin for p in after_last.object_list] == expected[-PER_PAGE:]
    assert after_last.is_last
    # Back from the second page: the first page again.
    second = _page(first.next_query)
    back = _page(second.previous_query)
    assert [p.iin for p in back.object_list] == expected[:PER_PAGE]
    assert back.is_first


def _key(page: KeysetPage[Participant], index: int) -> str:
    from records.paging import _value

    return _encode([_value(page.object_list[index], key) for key in SEARCH_KEYS])


def test_a_count_at_its_limit_reads_more_than_in_the_readers_language() -> None:
    from django.utils import translation

    from records.templatetags.records_labels import capped

    with translation.override("en"):
        assert capped(COUNT_LIMIT) == "1,000"
        assert capped(COUNT_LIMIT + 1) == "more than 1,000"
    with translation.override("ru"):
        assert capped(COUNT_LIMIT + 1) == "более 1\xa0000"
    with translation.override("kk"):
        assert capped(7) == "7"
        assert capped(COUNT_LIMIT + 1) == "1\xa0000-ден астам"
