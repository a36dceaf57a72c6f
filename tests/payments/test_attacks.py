"""Issue 17 probed as an attacker and as a careless user would: each test here found a defect
(it failed before its fix), except those whose docstring says "Control", which show that the fix
refuses no more than it should. What was probed and held is not kept here.

Actors: ``staff`` (tests/payments/conftest.py) gives the drafter, a verifier, a head of unit and
the head of the service; ``make_user(role)`` more of them, signed in with the second factor."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from payments.models import Decision, DecisionState
from payments.services import decision_approve, decision_draft, decision_reject, decision_submit, decision_verify
from records.approval import StepNotPermitted
from records.models import AccessLog, ApprovalStep

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def api_of(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def taken(decision: Decision) -> tuple[str, int, int]:
    decision.refresh_from_db()
    return decision.state, decision.version, ApprovalStep.objects.filter(object_pk=str(decision.pk)).count()


# --- One person, one part of a decision, across the rounds of its approval ----------------------


@pytest.fixture
def drafted(applicant, staff) -> Decision:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    return decision


def test_whoever_returned_it_as_the_approver_never_verifies_it_in_a_later_round(drafted, staff, make_user) -> None:
    """Returning a verified decision is the approver's part: in the next round that head may
    not verify it (and then have a colleague approve what they themselves checked)."""
    head_a, head_b = make_user("head_of_unit"), make_user("head_of_unit")
    decision_verify(decision_id=drafted.pk, actor=head_a)
    decision_reject(decision_id=drafted.pk, actor=head_b, reason="Уточнить период")
    decision_submit(decision_id=drafted.pk, actor=staff["drafter"])
    before = taken(drafted)

    with pytest.raises(StepNotPermitted):
        decision_verify(decision_id=drafted.pk, actor=head_b)
    refused = api_of(head_b).post(
        reverse("api_decision_step", args=[drafted.pk, "verify"]), {"version": before[1]}, format="json"
    )
    assert refused.status_code == 403, refused.content
    with pytest.raises(StepNotPermitted):  # nor return it as the verifier
        decision_reject(decision_id=drafted.pk, actor=head_b, reason="again")
    assert taken(drafted) == before

    # The verifier of the first round verifies again (the same part); head_b then approves.
    decision_verify(decision_id=drafted.pk, actor=staff["verifier"])
    assert decision_approve(decision_id=drafted.pk, actor=head_b).state == DecisionState.APPROVED


def test_whoever_returned_it_as_the_verifier_never_approves_it_in_a_later_round(drafted, staff, make_user) -> None:
    """Returning a submitted decision is the verifier's part: in the next round that person may
    verify it again, but not approve it after someone else verified it."""
    head_a, head_b = make_user("head_of_unit"), make_user("head_of_unit")
    decision_reject(decision_id=drafted.pk, actor=head_a, reason="Нет справки МСЭ")
    decision_submit(decision_id=drafted.pk, actor=staff["drafter"])
    decision_verify(decision_id=drafted.pk, actor=head_b)
    before = taken(drafted)

    with pytest.raises(StepNotPermitted):
        decision_approve(decision_id=drafted.pk, actor=head_a)
    page = client_of(head_a).post(
        reverse("decision_step", args=[drafted.pk, "approve"]), {"version": before[1]}, follow=True
    )
    assert "Nothing was changed." in " ".join(str(m) for m in page.context["messages"])
    with pytest.raises(StepNotPermitted):  # nor return it as the approver
        decision_reject(decision_id=drafted.pk, actor=head_a, reason="again")
    assert taken(drafted) == before

    assert decision_approve(decision_id=drafted.pk, actor=staff["approver"]).state == DecisionState.APPROVED


def test_whoever_returned_it_as_the_verifier_verifies_it_in_the_next_round(drafted, staff) -> None:
    """Control: the verifier's own part again is allowed."""
    decision_reject(decision_id=drafted.pk, actor=staff["verifier"], reason="Нет справки МСЭ")
    decision_submit(decision_id=drafted.pk, actor=staff["drafter"])
    assert decision_verify(decision_id=drafted.pk, actor=staff["verifier"]).state == DecisionState.VERIFIED


# --- Every page that shows a recipient logs the read ----------------------------------------------


def reads_of(participant) -> int:
    return AccessLog.objects.filter(participant=participant).count()


def test_the_correction_page_shown_to_someone_else_logs_the_read(drafted, applicant, make_user) -> None:
    """The page says "only the drafter corrects a decision", under the recipient's name, IIN
    and case file: a read of their data like any other page."""
    other = make_user("specialist")
    before = reads_of(applicant.participant)
    page = client_of(other).get(reverse("decision_redraft", args=[drafted.pk]))
    assert page.status_code == 200
    assert applicant.participant.iin in page.content.decode()
    assert reads_of(applicant.participant) == before + 1
    log = AccessLog.objects.filter(participant=applicant.participant).latest("id")
    assert (log.user, log.view, log.query["decision"]) == (other, "decision_redraft", drafted.pk)


def test_the_correction_form_shown_again_with_its_errors_logs_the_read(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    before = reads_of(applicant.participant)
    page = client_of(staff["drafter"]).post(reverse("decision_redraft", args=[decision.pk]), {"version": "x"})
    assert page.status_code == 200
    assert page.context["form"].errors
    assert applicant.participant.iin in page.content.decode()
    assert reads_of(applicant.participant) == before + 1


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "nonsense"},  # the form refuses it
        {"kind": "assign", "period_end": "01.01.2000"},  # the service refuses it
    ],
)
def test_the_drafting_form_shown_again_with_its_errors_logs_the_read(applicant, staff, data) -> None:
    before = reads_of(applicant.participant)
    page = client_of(staff["drafter"]).post(reverse("decision_new", args=[applicant.pk]), data)
    assert page.status_code == 200
    assert page.context["form"].errors
    assert applicant.participant.iin in page.content.decode()
    assert not Decision.objects.filter(recipient=applicant).exists()
    assert reads_of(applicant.participant) == before + 1


def test_the_api_answers_that_show_a_decision_log_the_read(applicant, staff) -> None:
    """Drafting and each step answer with the decision as ``GET /api/v1/decisions/{id}/`` shows
    it (its amount, computed from the person's account): each answer is a logged read too, as
    the pages it stands for are (the page flow lands on the logged decision page)."""
    drafter, verifier = api_of(staff["drafter"]), api_of(staff["verifier"])
    created = drafter.post(reverse("api_decisions"), {"recipient": applicant.pk, "kind": "assign"}, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    drafter.post(reverse("api_decision_step", args=[pk, "submit"]), {}, format="json")
    verifier.post(reverse("api_decision_step", args=[pk, "verify"]), {}, format="json")
    logged = AccessLog.objects.filter(participant=applicant.participant).order_by("id")
    assert [(log.user, log.view, log.query["decision"]) for log in logged] == [
        (staff["drafter"], "api:decision_draft", pk),
        (staff["drafter"], "api:decision_step", pk),
        (staff["verifier"], "api:decision_step", pk),
    ]
    assert [log.query.get("step") for log in logged] == [None, "submit", "verify"]


def test_a_refused_api_step_logs_nothing(drafted, staff) -> None:
    """Control: a refusal shows no decision, so it reads nothing."""
    refused = api_of(staff["drafter"]).post(
        reverse("api_decision_step", args=[drafted.pk, "verify"]), {}, format="json"
    )
    assert refused.status_code == 403
    assert not AccessLog.objects.exists()


# --- A deceased breadwinner is nobody's dependant ---------------------------------------------------


def breadwinner_application(people, **changes) -> dict[str, Any]:
    """Loss of breadwinner: ``people[0]`` died on 2023-06-10 (tests/conftest.py), ``people[5]``
    applies with one child."""
    body = {
        "iin": people[5].iin,
        "payment_type": "0701",
        "application_date": "2023-12-20",
        "risk_date": "2023-06-10",
        "deceased_iin": people[0].iin,
        "dependants": [{"iin": people[6].iin, "full_name": "Ребенок", "birth_date": "2010-01-01", "relation": "child"}],
    }
    return body | changes


def test_the_deceased_listed_as_his_own_dependant_is_refused(people, staff) -> None:
    """Each dependant raises КИ (0.5 for one, 0.65 for two ...), so the deceased counted as a
    dependant would raise the amount: refused with a message naming him, nothing written."""
    from payments.models import Dependant, Recipient
    from records.models import Participant

    body = breadwinner_application(people)
    body["dependants"].append(
        {"iin": people[0].iin, "full_name": "Умерший", "birth_date": "1960-01-01", "relation": "spouse"}
    )
    participants = Participant.objects.count()
    answer = api_of(staff["drafter"]).post(reverse("api_recipients"), body, format="json")
    assert answer.status_code == 400, answer.content
    assert answer.json() == {"detail": f"Dependant {people[0].iin} is the deceased breadwinner."}
    assert (Recipient.objects.count(), Dependant.objects.count()) == (0, 0)
    assert Participant.objects.count() == participants


def test_the_deceased_cannot_be_added_as_a_dependant_later(people, staff) -> None:
    from payments.models import Dependant, RecipientChange

    created = api_of(staff["drafter"]).post(reverse("api_recipients"), breadwinner_application(people), format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    before = (Dependant.objects.count(), RecipientChange.objects.count())
    page = client_of(staff["drafter"]).post(
        reverse("dependant_add", args=[pk]),
        {
            "add-iin": people[0].iin,
            "add-full_name": "Умерший",
            "add-birth_date": "01.01.1960",
            "add-relation": "spouse",
            "add-since": "10.06.2023",
            "add-reason": "Ошибка",
        },
        follow=True,
    )
    assert [str(m) for m in page.context["messages"]] == [f"Dependant {people[0].iin} is the deceased breadwinner."]
    assert (Dependant.objects.count(), RecipientChange.objects.count()) == before
