"""Tests that kill the survivors of the mutation run of payments/services/confirmations.py after
the attacker probe changed it (docs/testing.md, issue 18).

What they pin: the stored file's name, that the raw bytes of a kept file (up to 50 MB) are never
loaded again once stored, the race where two requests keep the same bytes at once, the exact
words and places of a file refused as a whole, and, line by line, the count of lines too wide,
the reason of a short line, a credited line's reason ignored and a long reason cut to its column;
and, of the run, the words of its refusals, the first day of a month as begun, and a start of a
month that has its run answered with it even when a later month's run exists.
"""

from __future__ import annotations

import hashlib

import pytest
from django.db.models import QuerySet
from django.utils import timezone

from contributions.services.common import DomainError
from payments.models import ConfirmationFile, ConfirmationLine, ConfirmationState, PaymentReturn
from payments.services import confirmations
from payments.services.confirmations import _store, confirmation_take_in
from payments.services.runs import month_of, run_start
from records.models import AuditEvent
from tests.payments.conftest import build, release
from tests.payments.test_runs import FEB, JAN

HEADER = "list;line;iin;amount;status;reason"
NET = "61284,27"  # January's one payment, list 202401-01 line 1


@pytest.fixture
def released(paid_to, staff):
    return release(build(JAN, staff), staff)


def refusal(call) -> list[str]:
    with pytest.raises(DomainError) as refused:
        call()
    return refused.value.messages


def take(raw: str | bytes, staff, file_name: str = "c.csv"):
    data = raw.encode() if isinstance(raw, str) else raw
    return confirmation_take_in(raw=data, file_name=file_name, actor=staff["drafter"])


# --- Keeping the file ---------------------------------------------------------------------------


def test_a_long_file_name_is_cut_to_its_column_and_none_is_named_for_what_it_is(released, staff):
    take(f"{HEADER}\n", staff, file_name="я" * 300)
    take(f"{HEADER}\n\n", staff, file_name="")
    assert sorted(ConfirmationFile.objects.values_list("file_name", flat=True)) == ["confirmation.csv", "я" * 255]


def test_the_raw_bytes_are_not_loaded_again_once_kept(released, paid_to, staff):
    """A confirmation is up to 50 MB: neither the duplicate lookup nor the read-back after the
    lines are taken loads it again."""
    raw = f"{HEADER}\n202401-01;1;{paid_to.participant.iin};{NET};credited;\n"
    result = take(raw, staff)
    assert "raw" in result.file.get_deferred_fields()
    again = take(raw, staff)
    assert again.duplicate
    assert "raw" in again.file.get_deferred_fields()


def test_the_same_bytes_kept_by_another_request_at_the_same_moment_are_a_duplicate(staff, monkeypatch):
    """The lookup found nothing, then the insert met the other request's row (IntegrityError):
    that row is the answer, as a duplicate, without its bytes."""
    raw = b"the same bytes"
    other = ConfirmationFile.objects.create(
        file_name="other.csv",
        raw=raw,
        sha256=hashlib.sha256(raw).hexdigest(),
        size=len(raw),
        received_by=staff["drafter"],
    )
    first = QuerySet.first
    misses = iter([True])

    def first_missing_once(self):
        return None if next(misses, False) else first(self)

    monkeypatch.setattr(QuerySet, "first", first_missing_once)
    stored, duplicate = _store(raw=raw, file_name="mine.csv", actor=staff["drafter"])
    assert (stored.pk, duplicate) == (other.pk, True)
    assert "raw" in stored.get_deferred_fields()
    assert ConfirmationFile.objects.count() == 1


def test_an_empty_file_and_one_too_large_are_refused_in_these_words(staff, monkeypatch):
    assert refusal(lambda: take(b"", staff)) == ["The file is empty."]
    monkeypatch.setattr(confirmations, "MAX_BYTES", 2 * 1024 * 1024)
    assert refusal(lambda: take(b"x" * (2 * 1024 * 1024 + 1), staff)) == ["The file is larger than 2 MB."]
    assert not ConfirmationFile.objects.exists()


def test_a_file_of_exactly_the_largest_size_is_kept(staff, monkeypatch):
    monkeypatch.setattr(confirmations, "MAX_BYTES", len(HEADER) + 1)
    assert take(f"{HEADER}\n", staff).file.state == ConfirmationState.REFUSED  # read: no lines after it


def test_a_refused_file_sent_again_answers_with_its_problems(released, staff):
    first = take(f"{HEADER}\n", staff)
    again = take(f"{HEADER}\n", staff)
    assert again.duplicate
    assert again.problems == first.problems == [{"line": None, "message": "The file has no lines after its header."}]


def test_a_file_read_by_another_request_before_this_one_locked_it_answers_with_its_problems(staff, monkeypatch):
    """Kept by this request, read by the other one before this one took the row's lock."""
    problems = [{"line": 2, "message": "read meanwhile"}]
    other = ConfirmationFile.objects.create(
        file_name="c.csv", raw=b"x", sha256="0" * 64, size=1, received_by=staff["drafter"],
        state=ConfirmationState.REFUSED, problems=problems,
    )  # fmt: skip
    monkeypatch.setattr(confirmations, "_store", lambda **kwargs: (other, False))
    result = take(b"x", staff)
    assert (result.duplicate, result.problems) == (True, problems)


def test_an_unknown_list_is_named_by_its_first_30_characters(released, staff):
    number = "9" * 40
    assert take(f"{HEADER}\n{number};1;1;1;credited;\n", staff).problems == [
        {"line": 2, "message": f"Unknown payment list: {'9' * 30}."}
    ]


# --- A file refused as a whole ------------------------------------------------------------------


def test_a_file_not_utf8_names_the_byte(released, staff):
    raw = f"{HEADER}\n".encode() + b"\xff"  # the header and its line end are 35 bytes
    assert take(raw, staff).problems == [{"line": None, "message": "The file is not UTF-8 text (byte 36)."}]


def test_a_file_of_blank_lines_has_no_header_on_line_1(released, staff):
    assert take(" \n\n", staff).problems == [{"line": 1, "message": f"Line 1: the header must be {HEADER}."}]


def test_a_header_alone_is_refused_in_these_words(released, staff):
    assert take(f"{HEADER}\n", staff).problems == [{"line": None, "message": "The file has no lines after its header."}]


# --- Lines --------------------------------------------------------------------------------------


def test_lines_too_wide_are_counted_past_the_cap(released, paid_to, staff, monkeypatch):
    monkeypatch.setattr(confirmations, "MAX_PROBLEMS", 3)
    wide = [f"202401-01;{n};1;1;credited;;x" for n in range(2, 7)]
    result = take("\n".join([HEADER, *wide]), staff)
    assert [p["line"] for p in result.problems] == [2, 3, 4, None]
    assert result.problems[0]["message"] == "7 cells, the header has 6."
    assert result.problems[-1]["message"] == "5 lines have problems in all: the first 3 are listed."


def test_exactly_as_many_problems_as_the_cap_are_listed_without_a_count(released, staff, monkeypatch):
    monkeypatch.setattr(confirmations, "MAX_PROBLEMS", 3)
    bad = [f"202401-01;{n};1;1;credited;" for n in range(2, 5)]
    result = take("\n".join([HEADER, *bad]), staff)
    assert [p["line"] for p in result.problems] == [2, 3, 4]


def test_a_short_line_not_credited_has_no_reason(released, paid_to, staff):
    """Missing cells are empty: a line of five cells gives no reason, and is not taken."""
    result = take(f"{HEADER}\n202401-01;1;{paid_to.participant.iin};{NET};not_credited\n", staff)
    assert result.problems == [{"line": 2, "message": "A payment not credited needs its reason."}]
    assert not ConfirmationLine.objects.exists()


def test_a_credited_line_keeps_no_reason(released, paid_to, staff):
    take(f"{HEADER}\n202401-01;1;{paid_to.participant.iin};{NET};credited;on time\n", staff)
    assert ConfirmationLine.objects.get().reason == ""


def test_a_long_reason_is_cut_to_its_column(released, paid_to, staff):
    take(f"{HEADER}\n202401-01;1;{paid_to.participant.iin};{NET};not_credited;{'ж' * 400}\n", staff)
    assert ConfirmationLine.objects.get().reason == "ж" * 300
    assert PaymentReturn.objects.get().reason == "ж" * 300


# --- Starting a run and its month ---------------------------------------------------------------


def test_a_run_is_started_on_the_first_day_of_a_month_in_these_words(paid_to, staff, monkeypatch):
    assert refusal(lambda: run_start(month=JAN.replace(day=2), actor=staff["drafter"])) == [
        "A run is for a month: give its first day."
    ]
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: JAN)
    assert refusal(lambda: run_start(month=FEB, actor=staff["drafter"])) == [
        "02.2024 has not begun: its run cannot be started yet."
    ]
    run, created = run_start(month=JAN, actor=staff["drafter"])  # the month's first day: it has begun
    assert (run.month, created) == (JAN, True)
    started = AuditEvent.objects.get(action="payments.run_start")
    assert (started.object_pk, started.actor, started.data) == (str(run.pk), staff["drafter"], {"month": "2024-01"})


def test_starting_a_month_that_has_its_run_answers_it_though_a_later_run_exists(paid_to, staff):
    january = release(build(JAN, staff), staff)
    build(FEB, staff)
    run, created = run_start(month=JAN, actor=staff["drafter"])
    assert (run.pk, created) == (january.pk, False)


def test_a_month_not_written_yyyy_mm_is_refused_with_its_first_20_characters():
    assert refusal(lambda: month_of("2024-1" + "x" * 30)) == [
        f"A month is written YYYY-MM, e.g. 2026-12: 2024-1{'x' * 14}."
    ]
