"""The monthly payments pages as each role uses them: starting a run (built by a worker),
approving it under four eyes, the downloads after release (logged with everyone in them), the
confirmation upload, returns and recoveries, the work lists and their counts on the heads' home
page, the recipient's payments (logged) and bank details."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from payments.models import BankAccount, PaymentRun, RunState
from payments.services.runs import build_run
from records.identifiers import make_kz_iban
from records.models import AccessLog, Participant
from tests.payments.conftest import SYSTEM
from tests.payments.test_recipient_pages import client_for, flashed

JAN = date(2024, 1, 1)


def run_url(month: str = "2024-01") -> str:
    return reverse("payment_run_detail", args=[month])


@pytest.fixture
def started(paid_to, staff, django_capture_on_commit_callbacks):
    """January started on the page by the specialist, and built (as the worker would)."""
    client = client_for(staff["drafter"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(reverse("payment_runs"), {"month": "2024-01"})
    assert response.status_code == 302
    assert response["Location"] == run_url()
    assert len(queued) == 1  # the build goes to a worker
    run = PaymentRun.objects.get(month=JAN)
    assert run.state == RunState.BUILDING
    page = client.get(run_url()).content.decode()
    assert "The run is being built." in page
    assert 'http-equiv="refresh"' in page
    return build_run(run_id=run.pk, actor=SYSTEM)


def test_a_month_typed_wrong_is_said_on_the_form(paid_to, staff):
    response = client_for(staff["drafter"]).post(reverse("payment_runs"), {"month": "2024-13"})
    assert response.status_code == 200
    assert "A month is written YYYY-MM" in response.content.decode()
    assert not PaymentRun.objects.exists()


def test_the_head_approves_and_the_lists_are_downloaded(started, staff, paid_to):
    head = client_for(staff["head_of_service"])
    page = head.get(run_url()).content.decode()
    assert "Approve and release to the banks" in page
    assert "202401-01" in page
    assert "after release" in page  # no downloads yet
    payment_list = started.lists.get()
    early = head.get(reverse("payment_list_download", args=[payment_list.pk, "csv"]))
    assert early.status_code == 302
    response = head.post(reverse("payment_run_step", args=["2024-01", "approve"]), {"version": started.version})
    assert response.status_code == 302
    assert "The run was approved and released to the banks." in flashed(response)
    started.refresh_from_db()
    assert (started.state, started.approved_by) == (RunState.RELEASED, staff["head_of_service"])
    for fmt, marker in (("csv", b"\xef\xbb\xbf"), ("xlsx", b"PK"), ("mt102", b"{1:F01GCVPKZ2A")):
        download = head.get(reverse("payment_list_download", args=[payment_list.pk, fmt]))
        assert download.status_code == 200, fmt
        assert download.content.startswith(marker), fmt
        assert "202401-01" in download["Content-Disposition"]
    logged = AccessLog.objects.filter(view="payment_list_download")
    assert logged.count() == 3
    assert all(paid_to.participant.iin in entry.query["iins"] for entry in logged)


def test_the_starter_is_told_why_not(started, staff):
    response = client_for(staff["drafter"]).post(
        reverse("payment_run_step", args=["2024-01", "approve"]), {"version": started.version}
    )
    assert "Your roles do not allow this step. Nothing was changed." in flashed(response)
    head_who_started = staff["head_of_service"]
    PaymentRun.objects.filter(pk=started.pk).update(started_by=head_who_started)
    page = client_for(head_who_started).get(run_url()).content.decode()
    assert "Approve and release to the banks" not in page  # the button is not offered
    response = client_for(head_who_started).post(
        reverse("payment_run_step", args=["2024-01", "approve"]), {"version": started.version}
    )
    assert "Whoever started or rebuilt a payment run cannot approve it. Nothing was changed." in flashed(response)
    assert PaymentRun.objects.get(pk=started.pk).state == RunState.BUILT


def test_a_stale_page_changes_nothing(started, staff):
    response = client_for(staff["head_of_service"]).post(
        reverse("payment_run_step", args=["2024-01", "approve"]), {"version": started.version + 1}
    )
    assert "Someone changed this run after you opened it: nothing was changed." in flashed(response)
    assert PaymentRun.objects.get(pk=started.pk).state == RunState.BUILT


def test_approval_without_the_second_factor_goes_to_the_code(started, make_user):
    head = make_user("head_of_service", second_factor=False)
    response = client_for(head).post(reverse("payment_run_step", args=["2024-01", "approve"]), {"version": 1})
    assert response["Location"].startswith(reverse("otp_verify"))
    assert PaymentRun.objects.get(pk=started.pk).state == RunState.BUILT


def test_rebuild_queues_the_build_again(started, staff, django_capture_on_commit_callbacks):
    client = client_for(staff["verifier"])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(
            reverse("payment_run_step", args=["2024-01", "rebuild"]), {"version": started.version, "reason": "IBAN"}
        )
    assert "The run is being built again." in flashed(response)
    assert len(queued) == 1
    assert PaymentRun.objects.get(pk=started.pk).state == RunState.BUILDING


def test_the_confirmation_page_takes_a_file_and_shows_its_problems(started, staff, paid_to):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.payments.conftest import release

    release(started, staff)
    client = client_for(staff["drafter"])
    raw = f"list;line;iin;amount;status;reason\n202401-01;1;{paid_to.participant.iin};61284,27;not_credited;closed\n"
    raw += "202401-01;9;1;1;credited;\n"
    response = client.post(
        reverse("payment_confirmations"), {"file": SimpleUploadedFile("halyk.csv", raw.encode(), "text/csv")}
    )
    assert response.status_code == 302
    assert "Taken in: 0 credited, 1 returned." in flashed(response)
    page = client.get(response["Location"]).content.decode()
    assert "List 202401-01 has no line 9." in page
    again = client.post(
        reverse("payment_confirmations"), {"file": SimpleUploadedFile("copy.csv", raw.encode(), "text/csv")}
    )
    assert "This file was taken in before: nothing was taken twice." in flashed(again)
    returns = client.get(reverse("payment_returns")).content.decode()
    assert "closed" in returns
    assert "waiting for corrected details" in returns
    assert AccessLog.objects.filter(view="payment_returns", query__iins__contains=[paid_to.participant.iin]).exists()


def test_the_work_lists_and_their_counts_on_the_heads_home_page(paid_to, staff):
    from tests.payments.conftest import build, release

    BankAccount.objects.all().delete()  # nothing can be paid: held back month after month
    for month in (JAN, date(2024, 2, 1), date(2024, 3, 1)):
        release(build(month, staff), staff)
    head = client_for(staff["head_of_service"])
    page = head.get(reverse("work_list", args=["unpaid"])).content.decode()
    assert paid_to.participant.iin in page
    assert "Held back: No bank account in force" in page
    Participant.objects.filter(pk=paid_to.participant_id).update(death_date=date(2024, 2, 10))
    dead = head.get(reverse("work_list", args=["reported_dead"])).content.decode()
    assert paid_to.participant.iin in dead
    assert 'id="work-list-limit"' not in dead
    with pytest.MonkeyPatch.context() as patch:  # a list as long as the page shows says it stops there
        patch.setattr("payments.views.runs.WORK_LIST_LIMIT", 1)
        full = head.get(reverse("work_list", args=["reported_dead"])).content.decode()
    assert "Only the first 1 are shown and exported" in full
    home = head.get(reverse("home")).content.decode()
    assert 'id="count-unpaid">1<' in home
    assert 'id="count-dead">1<' in home
    export = head.get(reverse("work_list_export", args=["unpaid", "csv"]))
    assert paid_to.participant.iin in export.content.decode("utf-8-sig")
    assert AccessLog.objects.filter(view="work_unpaid_export", query__iins=[paid_to.participant.iin]).exists()
    # A specialist sees the lists, not the heads' counts.
    assert 'id="count-unpaid"' not in client_for(staff["drafter"]).get(reverse("home")).content.decode()


def test_the_recipient_page_shows_the_payments_and_takes_bank_details(started, staff, paid_to):
    client = client_for(staff["drafter"])
    page = client.get(reverse("recipient_detail", args=[paid_to.pk])).content.decode()
    assert "Payments by month (items 24-25)" in page
    assert "202401-01 / 1" in page
    assert "Arrears for an earlier month" in page
    entry = AccessLog.objects.filter(view="recipient_detail").latest("id")
    assert entry.query["payments"] is True
    response = client.post(
        reverse("bank_account_add", args=[paid_to.pk]),
        {"bic": "CASPKZKA", "iban": make_kz_iban("601", "0000000000005"), "valid_from": "01.02.2024", "reason": "x"},
    )
    assert "is not an account of" in " ".join(flashed(response))  # a Halyk IBAN for Kaspi
    response = client.post(
        reverse("bank_account_add", args=[paid_to.pk]),
        {"bic": "CASPKZKA", "iban": make_kz_iban("722", "0000000000005"), "valid_from": "01.02.2024", "reason": "x"},
    )
    assert "The bank details were entered." in flashed(response)
    assert paid_to.bank_accounts.count() == 2
