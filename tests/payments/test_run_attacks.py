"""The monthly payment run's pages and API probed as an attacker would (issue 18): hostile months,
filters and files, roles that must write nothing, races, and what the access log names. Each
test fails without the rule it guards."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contributions.services.common import DomainError
from payments.lists import list_mt102
from payments.models import (
    Bank,
    BankAccount,
    ConfirmationFile,
    ConfirmationLine,
    ConfirmationState,
    PaymentReturn,
    PaymentRun,
    RunState,
)
from payments.services import confirmations
from payments.services.confirmations import ConfirmationResult, confirmation_take_in
from payments.services.runs import build_run, month_of, run_approve, run_rebuild, run_start
from records.access import shown_iins
from records.approval import StalePage
from records.identifiers import make_kz_iban
from records.models import AccessLog, AuditEvent, Participant
from tests.payments.conftest import SYSTEM, build, release
from tests.payments.test_recipient_pages import client_for, flashed
from tests.payments.test_runs import JAN

HEADER = "list;line;iin;amount;status;reason"
NET = "61284,27"  # January's one payment, list 202401-01 line 1


@pytest.fixture
def released(paid_to, staff):
    return release(build(JAN, staff), staff)


@pytest.fixture
def bank(make_user):
    """Halyk's system (the January list is on Halyk)."""
    user = make_user("api_client")
    Bank.objects.get(bic="HSBKKZKX").confirmers.add(user)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def upload(client: APIClient, raw: bytes, name: str = "c.csv"):
    return client.post(
        reverse("api_payment_confirmations"), {"file": SimpleUploadedFile(name, raw)}, format="multipart"
    )


# --- Months -------------------------------------------------------------------------------------


def test_a_run_for_a_month_not_begun_is_refused(paid_to, staff):
    """A run for 9999-12 (or next month) would stop every earlier month ("a run for a later
    month exists") and never build (year 10000): refused before anything is written."""
    client = client_for(staff["drafter"])
    response = client.post(reverse("payment_runs"), {"month": "9999-12"})  # the form's bounds first
    assert response.status_code == 200
    assert "A month from 01.2005 to 12.2099, please: 9999-12." in response.content.decode()
    with pytest.raises(DomainError, match="has not begun"):  # and the service's, past the form
        run_start(month=date(9999, 12, 1), actor=staff["drafter"])
    response = client.post(reverse("payment_runs"), {"month": f"{timezone.localdate().year + 1}-01"})
    assert response.status_code == 200
    assert "has not begun: its run cannot be started yet." in response.content.decode()
    today = timezone.localdate()
    next_month = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    with pytest.raises(DomainError, match="has not begun"):
        run_start(month=next_month, actor=staff["drafter"])
    assert not PaymentRun.objects.exists()
    assert not AuditEvent.objects.filter(action="payments.run_start").exists()
    assert client.post(reverse("payment_runs"), {"month": "2024-01"}).status_code == 302  # a month begun: started


@pytest.mark.parametrize("text", ["٢٠٢٤-٠١", "2024-1", "+2024-01", " 2024-01", "2_024-01", "2024-01\n", "2024-13"])
def test_a_month_is_four_ascii_digits_a_dash_and_two(text, released, bank):
    with pytest.raises(DomainError, match="YYYY-MM"):
        month_of(text)
    assert bank.get(reverse("api_payment_run", args=[text])).status_code == 404
    assert bank.get(reverse("api_payment_run", args=["2024-01"])).status_code == 200  # control


def test_hostile_months_in_the_pages_answer_404_or_the_form(released, staff):
    client = client_for(staff["drafter"])
    for month in ("2026-13", "0000-01", "9999-12", "2024-00"):
        assert client.get(f"/payments/runs/{month}/").status_code == 404, month
        assert client.post(f"/payments/runs/{month}/approve/", {"version": 1}).status_code == 404, month
    for text in ("2026-13", "0000-01", "x" * 5000, "2024-01'--", "\x00"):
        response = client.post(reverse("payment_runs"), {"month": text})
        assert response.status_code == 200, text
    assert PaymentRun.objects.count() == 1


# --- Roles ------------------------------------------------------------------------------------


def test_the_auditor_writes_nothing_even_with_a_valid_form(released, staff, make_user, paid_to):
    feb = build(date(2024, 2, 1), staff)
    auditor = client_for(make_user("auditor"))
    before = (AuditEvent.objects.count(), PaymentRun.objects.get(pk=feb.pk).version, BankAccount.objects.count())
    for step in ("approve", "rebuild"):
        response = auditor.post(
            reverse("payment_run_step", args=["2024-02", step]), {"version": feb.version, "reason": "x"}
        )
        assert "Your roles do not allow this step. Nothing was changed." in flashed(response)
    assert auditor.post(reverse("payment_runs"), {"month": "2024-03"}).status_code == 403
    raw = f"{HEADER}\n202401-01;1;{paid_to.participant.iin};{NET};credited;\n".encode()
    file = SimpleUploadedFile("c.csv", raw, "text/csv")
    assert auditor.post(reverse("payment_confirmations"), {"file": file}).status_code == 403
    account = {"bic": "HSBKKZKX", "iban": make_kz_iban("601", "0000000000009"), "valid_from": "01.03.2024"}
    assert auditor.post(reverse("bank_account_add", args=[paid_to.pk]), {**account, "reason": "x"}).status_code == 403
    assert (AuditEvent.objects.count(), PaymentRun.objects.get(pk=feb.pk).version, BankAccount.objects.count()) == (
        before
    )
    assert PaymentRun.objects.get(pk=feb.pk).state == RunState.BUILT
    assert not ConfirmationFile.objects.exists()


def test_a_bank_account_reads_no_page(released, make_user):
    client = client_for(make_user("api_client"))
    payment_list = released.lists.get()
    for url in (
        reverse("payment_runs"),
        reverse("payment_run_detail", args=["2024-01"]),
        reverse("payment_list_download", args=[payment_list.pk, "mt102"]),
        reverse("payment_confirmations"),
        reverse("work_list_export", args=["unpaid", "csv"]),
    ):
        assert client.get(url).status_code == 403, url
    assert not AccessLog.objects.exists()


def test_the_rebuilder_never_approves(released, staff, make_user):
    feb = build(date(2024, 2, 1), staff)
    head = make_user("head_of_service")
    run_rebuild(run_id=feb.pk, actor=head, version=feb.version, reason="IBAN corrected")
    feb = build_run(run_id=feb.pk, actor=SYSTEM)
    response = client_for(head).post(reverse("payment_run_step", args=["2024-02", "approve"]), {"version": feb.version})
    assert "Whoever started or rebuilt a payment run cannot approve it." in " ".join(flashed(response))
    assert PaymentRun.objects.get(pk=feb.pk).state == RunState.BUILT


# --- The steps' form --------------------------------------------------------------------------


def test_a_step_form_with_errors_names_the_field(released, staff):
    feb = build(date(2024, 2, 1), staff)
    client = client_for(staff["verifier"])
    url = reverse("payment_run_step", args=["2024-02", "rebuild"])
    said = flashed(client.post(url, {"version": "abc", "reason": "x"}))
    assert said == ["The page sent was incomplete: nothing was changed. Version of the page: Enter a whole number."]
    last = flashed(client.post(url, {"version": feb.version, "reason": "x" * 5000}))[-1]
    assert last == (
        "The page sent was incomplete: nothing was changed. "
        "Why it is built again: Ensure this value has at most 1000 characters (it has 5000)."
    )
    assert PaymentRun.objects.get(pk=feb.pk).version == feb.version


# --- Confirmation files -----------------------------------------------------------------------


def test_a_cell_too_long_refuses_the_file_with_its_line_not_a_500(released, bank):
    raw = f"{HEADER}\n\n202401-01;1;{'9' * 200_000};1;credited;\n".encode()
    response = upload(bank, raw)
    assert response.status_code == 400
    assert response.json()["problems"] == [{"line": 3, "message": "Line 3 cannot be read: a cell is too long."}]
    assert ConfirmationFile.objects.get().state == ConfirmationState.REFUSED
    again = upload(bank, raw)
    assert (again.status_code, again.json()["duplicate"], again.json()["state"]) == (200, True, "refused")


def test_a_file_kept_but_never_read_is_read_when_sent_again(released, paid_to, staff):
    """The worker died between keeping the bytes and reading them: the same bytes again are
    read, not answered "taken in before" with nothing taken."""
    import hashlib

    raw = f"{HEADER}\n202401-01;1;{paid_to.participant.iin};{NET};not_credited;closed\n".encode()
    ConfirmationFile.objects.create(
        file_name="c.csv", raw=raw, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw), received_by=staff["drafter"]
    )
    result = confirmation_take_in(raw=raw, file_name="c.csv", actor=staff["drafter"])
    assert (result.duplicate, result.file.state, result.file.not_credited) == (False, "taken", 1)
    assert PaymentReturn.objects.count() == 1
    again = confirmation_take_in(raw=raw, file_name="c.csv", actor=staff["drafter"])
    assert again.duplicate
    assert (ConfirmationFile.objects.count(), PaymentReturn.objects.count()) == (1, 1)


def test_problems_name_the_line_of_the_file_blank_lines_and_all(released, paid_to, staff):
    iin = paid_to.participant.iin
    raw = (
        f"{HEADER}\r\n\r\n\r\n"  # lines 1-3
        f"202401-01;9;{iin};{NET};credited;\r\n"  # line 4: no such line of the list
        f'202401-01;1;{iin};{NET};not_credited;"closed\r\nby the bank"\r\n'  # lines 5-6: one row
        f"202401-01;1;{iin};{NET};credited;\r\n"  # line 7: repeated
    ).encode()
    result = confirmation_take_in(raw=raw, file_name="c.csv", actor=staff["drafter"])
    assert result.problems == [
        {"line": 4, "message": "List 202401-01 has no line 9."},
        {"line": 7, "message": "Line 1 of the list was already confirmed."},
    ]
    taken = ConfirmationLine.objects.get()
    assert (taken.line_no, taken.reason) == (5, "closed\r\nby the bank")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("\n\nlist;line\n202401-01;1\n", {"line": 3, "message": f"Line 3: the header must be {HEADER}."}),
        (f"{HEADER}\n\n209912-01;1;1;1;credited;\n", {"line": 3, "message": "Unknown payment list: 209912-01."}),
        (
            f"{HEADER}\n202401-01;1;1;1;credited;\n202402-01;1;1;1;credited;\n",
            {"line": 3, "message": "A file confirms one payment list: this one names several."},
        ),
    ],
)
def test_a_file_refused_as_a_whole_names_its_line(released, staff, raw, problem):
    result = confirmation_take_in(raw=raw.encode(), file_name="c.csv", actor=staff["drafter"])
    assert (result.file.state, result.problems) == ("refused", [problem])


def test_a_flood_of_bad_lines_is_listed_up_to_a_cap_and_counted(released, paid_to, staff, monkeypatch):
    """50 MB of bad lines would be a million problems on every page and answer that shows them."""
    monkeypatch.setattr(confirmations, "MAX_PROBLEMS", 3)
    bad = [f"202401-01;{n};1;1;credited;" for n in range(2, 7)]
    raw = "\n".join([HEADER, *bad, f"202401-01;1;{paid_to.participant.iin};{NET};credited;"]).encode()
    result = confirmation_take_in(raw=raw, file_name="flood.csv", actor=staff["drafter"])
    assert [p["line"] for p in result.problems] == [2, 3, 4, None]
    assert result.problems[-1]["message"] == "5 lines have problems in all: the first 3 are listed."
    stored = ConfirmationFile.objects.get()
    assert (stored.credited, len(stored.problems)) == (1, 4)
    assert AuditEvent.objects.get(action="payments.confirmation_taken").data["problems"] == 5


@pytest.mark.parametrize(
    "line",
    [
        "202401-01;1;{iin};-61284,27;credited;",  # negative
        "202401-01;1;{iin};0;credited;",  # zero
        "202401-01;1;{iin};61284,27 USD;credited;",  # another currency
        "202401-01;1;{iin};6128427;credited;",  # in tiyn
        "202401-01;-1;{iin};61284,27;credited;",  # no such line
        "202401-01;1 OR 1=1;{iin};61284,27;credited;",
    ],
)
def test_a_line_that_does_not_match_its_payment_is_not_taken(released, paid_to, bank, line):
    raw = f"{HEADER}\n{line.format(iin=paid_to.participant.iin)}\n".encode()
    response = upload(bank, raw)
    assert response.status_code == 201
    assert [p["line"] for p in response.json()["problems"]] == [2]
    assert not ConfirmationLine.objects.exists()


def test_a_confirmation_of_a_list_not_released_changes_nothing(paid_to, staff, bank):
    build(JAN, staff)
    response = upload(bank, f"{HEADER}\n202401-01;1;{paid_to.participant.iin};{NET};not_credited;x\n".encode())
    assert response.status_code == 400
    assert response.json()["problems"] == [
        {"line": 2, "message": "Payment list 202401-01 was not released to the banks."}
    ]
    assert not ConfirmationLine.objects.exists()
    assert not PaymentReturn.objects.exists()


def test_a_file_too_large_is_refused_before_it_is_kept(released, bank, monkeypatch):
    from payments import run_api

    monkeypatch.setattr(run_api, "MAX_BYTES", 10)
    assert upload(bank, f"{HEADER}\n".encode()).status_code == 413
    assert not ConfirmationFile.objects.exists()


# --- The work lists -----------------------------------------------------------------------------


@pytest.fixture
def dead(in_force):
    Participant.objects.filter(pk=in_force.participant_id).update(death_date=date(2024, 2, 10))
    return in_force


def test_a_wrong_filter_shows_and_exports_nobody(dead, staff):
    client = client_for(staff["head_of_service"])
    page = client.get(reverse("work_list", args=["reported_dead"]), {"payment_type": "0702' OR 1=1"})
    assert page.status_code == 400
    assert dead.participant.iin not in page.content.decode()
    assert "Select a valid choice." in page.content.decode()
    export = client.get(reverse("work_list_export", args=["reported_dead", "csv"]), {"status": "dead"})
    assert export.status_code == 400
    assert export.content.decode().startswith("Status: Select a valid choice.")
    assert not AccessLog.objects.exists()
    # Parameters the form does not know are not filters: the whole list (control).
    page = client.get(reverse("work_list", args=["reported_dead"]), {"page": "abc", "sort": "iin;drop"})
    assert page.status_code == 200
    assert dead.participant.iin in page.content.decode()


def test_the_work_list_page_logs_every_person_it_shows(dead, staff, monkeypatch):
    """The page shows every row (up to the selector's limit): every person is logged, not the
    first ``MAX_LOGGED_IINS``."""
    monkeypatch.setitem(shown_iins.__kwdefaults__, "limit", 0)
    client_for(staff["head_of_service"]).get(reverse("work_list", args=["reported_dead"]))
    entry = AccessLog.objects.get(view="work_reported_dead")
    assert entry.query["iins"] == [dead.participant.iin]


def test_a_forwarded_address_is_not_believed_in_the_access_log(released, staff):
    client = client_for(staff["head_of_service"])
    client.get(reverse("payment_run_detail", args=["2024-01"]), HTTP_X_FORWARDED_FOR="6.6.6.6", REMOTE_ADDR="10.0.0.7")
    assert AccessLog.objects.get(view="payment_run_detail").ip_address == "10.0.0.7"


# --- The MT102 message -----------------------------------------------------------------------


def test_a_line_break_in_a_name_never_starts_a_field_of_the_message(released, paid_to):
    Participant.objects.filter(pk=paid_to.participant_id).update(last_name="ИВАНОВ\r\n:32B:KZT1,00\n-}")
    message = list_mt102(released.lists.get(), value_date=date(2024, 1, 25)).decode()
    assert ":70:/FM/ИВАНОВ :32B:KZT1,00 -}\r\n" in message
    assert [line for line in message.split("\r\n") if line.startswith(":32B:")] == [":32B:KZT61284,27"]


# --- Races --------------------------------------------------------------------------------------


def _together(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released at the same moment; what each returned or raised."""
    start = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            start.wait()
            outcomes[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_approve_and_rebuild_at_once_take_one_step(paid_to, staff):
    run = build(JAN, staff)
    outcomes = _together(
        lambda: run_approve(run_id=run.pk, actor=staff["head_of_service"], version=run.version),
        lambda: run_rebuild(run_id=run.pk, actor=staff["verifier"], version=run.version, reason="IBAN"),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["PaymentRun", "StalePage"]
    assert sum(isinstance(o, StalePage) for o in outcomes) == 1
    assert PaymentRun.objects.get(pk=run.pk).version == run.version + 1


@pytest.mark.django_db(transaction=True)
def test_the_same_file_sent_while_it_is_being_read_is_a_duplicate(paid_to, staff, monkeypatch):
    """The second copy arrives after the first was kept, while it is being read: it waits for
    the reading and is answered as a duplicate, nothing taken twice."""
    release(build(JAN, staff), staff)
    raw = f"{HEADER}\n202401-01;1;{paid_to.participant.iin};{NET};not_credited;closed\n".encode()
    reading, go = threading.Event(), threading.Event()
    real_read = confirmations._read

    def read_slowly(data: bytes):
        reading.set()
        assert go.wait(timeout=60)
        return real_read(data)

    monkeypatch.setattr(confirmations, "_read", read_slowly)
    outcomes: dict[str, ConfirmationResult] = {}

    def send(name: str) -> None:
        try:
            outcomes[name] = confirmation_take_in(raw=raw, file_name=f"{name}.csv", actor=staff["drafter"])
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert reading.wait(timeout=60)  # kept, committed, and being read under the row's lock
    second = threading.Thread(target=send, args=("second",))
    second.start()
    with connection.cursor() as cursor:  # until the second copy waits for that lock
        for _attempt in range(600):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                break
            threading.Event().wait(0.05)
    go.set()
    first.join(timeout=60)
    second.join(timeout=60)
    assert (outcomes["first"].duplicate, outcomes["second"].duplicate) == (False, True)
    assert (ConfirmationFile.objects.count(), ConfirmationLine.objects.count(), PaymentReturn.objects.count()) == (
        1,
        1,
        1,
    )
