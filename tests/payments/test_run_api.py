"""The monthly payments API (issue 18): a bank reads a run's totals per bank and submits its
confirmation like an order; the answers for a duplicate, a damaged file and a stranger."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from payments.models import Bank, ConfirmationFile, ConfirmationLine, PaymentReturn
from tests.payments.conftest import build, release
from tests.payments.test_runs import JAN


def api_account(make_user, username: str, bic: str | None) -> APIClient:
    """An API account of the bank ``bic`` (none: an account no bank names)."""
    user = make_user("api_client", username=username)
    if bic is not None:
        Bank.objects.get(bic=bic).confirmers.add(user)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def bank(make_user):
    """Halyk's system: the January list is on Halyk."""
    return api_account(make_user, "halyk-api", "HSBKKZKX")


@pytest.fixture
def released(paid_to, staff):
    return release(build(JAN, staff), staff)


def test_the_run_by_month(bank, released):
    response = bank.get(reverse("api_payment_run", args=["2024-01"]))
    assert response.status_code == 200
    body = response.json()
    assert (body["month"], body["state"]) == ("2024-01", "released")
    assert body["totals"] == {"count": 1, "gross": "68093.64", "withheld": "6809.37", "net": "61284.27"}
    assert [(row["number"], row["bank"], row["net"]) for row in body["lists"]] == [
        ("202401-01", "HSBKKZKX", "61284.27")
    ]
    assert "progress" not in body
    assert bank.get(reverse("api_payment_run", args=["2024-02"])).status_code == 404
    assert bank.get(reverse("api_payment_run", args=["soon"])).status_code == 404


def test_a_confirmation_like_an_order(bank, released, paid_to):
    raw = f"list;line;iin;amount;status;reason\n202401-01;1;{paid_to.participant.iin};61284.27;not_credited;closed\n"
    url = reverse("api_payment_confirmations")
    first = bank.post(url, {"file": SimpleUploadedFile("c.csv", raw.encode())}, format="multipart")
    assert first.status_code == 201, first.content
    assert first.json() | {"id": 0} == {
        "id": 0,
        "file_name": "c.csv",
        "state": "taken",
        "duplicate": False,
        "list": "202401-01",
        "credited": 0,
        "not_credited": 1,
        "problems": [],
    }
    again = bank.post(url, {"file": SimpleUploadedFile("c2.csv", raw.encode())}, format="multipart")
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert PaymentReturn.objects.count() == 1
    damaged = bank.post(url, {"file": SimpleUploadedFile("d.csv", b"\xff\xfe")}, format="multipart")
    assert damaged.status_code == 400
    assert "UTF-8" in damaged.json()["problems"][0]["message"]
    assert bank.post(url, {}, format="multipart").status_code == 400
    assert ConfirmationFile.objects.count() == 2  # the damaged one kept as received


def test_staff_without_the_permission_and_strangers_are_refused(released, make_user):
    auditor = APIClient()
    auditor.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user('auditor')).key}")
    raw = SimpleUploadedFile("c.csv", b"list;line;iin;amount;status;reason\n")
    assert auditor.post(reverse("api_payment_confirmations"), {"file": raw}, format="multipart").status_code == 403
    assert APIClient().get(reverse("api_payment_run", args=["2024-01"])).status_code == 401
    assert not ConfirmationFile.objects.exists()


@pytest.mark.parametrize("bic", ["KCJBKZKX", None])
def test_a_bank_never_confirms_another_banks_list(make_user, released, paid_to, bic):
    """A false "credited" from another bank's system would leave the recipient unpaid for good:
    the file is kept and refused, with the place, and nothing is taken."""
    other = api_account(make_user, "other-api", bic)
    raw = f"list;line;iin;amount;status;reason\n202401-01;1;{paid_to.participant.iin};61284.27;credited;\n"
    response = other.post(
        reverse("api_payment_confirmations"), {"file": SimpleUploadedFile("c.csv", raw.encode())}, format="multipart"
    )
    assert response.status_code == 400, response.content
    assert response.json()["problems"] == [
        {"line": 2, "message": "This account does not confirm the lists of bank HSBKKZKX."}
    ]
    assert ConfirmationFile.objects.get().state == "refused"
    assert not ConfirmationLine.objects.exists()
