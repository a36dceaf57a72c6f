"""The payments API (issue 17): recipients registered, decisions drafted and taken through their
approval over HTTP, with the statuses the issue names; amounts from a personal account built by
the real contribution pipeline (``steady``: 42 075.00 a month, computed by hand in its fixture)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import yaml
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from payments.models import Decision, LegalParameter, Recipient, RecipientStatus
from payments.services import decision_draft, decision_submit, decision_verify
from records.models import AccessLog, ApprovalStep, AuditEvent, Participant, PersonalDataChange
from tests.payments.conftest import APPLIED, RISK

pytestmark = pytest.mark.django_db


def session(user) -> APIClient:
    """A staff session (``force_login`` signs it in with the user's second factor, if any)."""
    client = APIClient()
    client.force_login(user)
    return client


def token(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def records_state() -> tuple[Any, ...]:
    """What a refused request must leave as it was."""
    return (
        sorted(Recipient.objects.values_list("pk", "status")),
        sorted(Decision.objects.values_list("pk", "state", "version", "number")),
        ApprovalStep.objects.count(),
        AuditEvent.objects.count(),
        Participant.objects.count(),
        PersonalDataChange.objects.count(),
    )


def step(client: APIClient, decision_id: int, name: str, **body: Any) -> Any:
    return client.post(reverse("api_decision_step", args=[decision_id, name]), body, format="json")


# --- Recipients -------------------------------------------------------------------------------


def test_register_a_recipient_with_personal_items(steady, staff) -> None:
    response = session(staff["drafter"]).post(
        reverse("api_recipients"),
        {
            "iin": steady.iin,
            "payment_type": "0702",
            "application_date": APPLIED.isoformat(),
            "risk_date": RISK.isoformat(),
            "loss_degree": 50,
            "address": "Астана, ул. Бейбітшілік, 10",
            "postal_code": "010000",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    recipient = Recipient.objects.select_related("participant").get(pk=body["id"])
    participant = recipient.participant
    assert (participant.iin, recipient.registered_by, recipient.loss_degree) == (steady.iin, staff["drafter"], 50)
    assert {k: body[k] for k in ("iin", "payment_type", "status", "application_date", "risk_date")} == {
        "iin": steady.iin,
        "payment_type": "0702",
        "status": "applied",
        "application_date": "2023-12-20",
        "risk_date": "2023-12-15",
    }
    assert (body["loss_degree"], body["amount"], body["decisions"], body["dependants"]) == (50, None, [], [])
    participant.refresh_from_db()
    assert (participant.address, participant.postal_code) == ("Астана, ул. Бейбітшілік, 10", "010000")
    changes = PersonalDataChange.objects.filter(participant=participant, source="application for a social payment")
    assert sorted(changes.values_list("field", flat=True)) == ["address", "postal_code"]


def test_register_loss_of_breadwinner_with_the_deceased_and_dependants(people, staff) -> None:
    deceased, applicant, child = people[0], people[1], people[2]  # people[0] died on 2023-06-10
    response = session(staff["drafter"]).post(
        reverse("api_recipients"),
        {
            "iin": applicant.iin,
            "payment_type": "0701",
            "application_date": "2023-06-20",
            "risk_date": "2023-06-10",
            "deceased_iin": deceased.iin,
            "dependants": [
                {"iin": child.iin, "full_name": "Дочь Умершего", "birth_date": "2010-03-04", "relation": "child"}
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["deceased_iin"] == deceased.iin
    assert body["dependants"] == [
        {
            "iin": child.iin,
            "full_name": "Дочь Умершего",
            "birth_date": "2010-03-04",
            "relation": "child",
            "since": "2023-06-10",
            "until": None,
        }
    ]


FUTURE = (timezone.localdate() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"iin": "791028302729"}, "iin", "check digit"),
        ({"iin": 791028302728.5}, "iin", ""),
        ({"payment_type": "0799"}, "payment_type", "not a valid choice"),
        ({"loss_degree": "fifty"}, "loss_degree", "valid integer"),
        ({"loss_degree": 150}, "loss_degree", "less than or equal to 100"),
        ({"application_date": "20.12.2023"}, "application_date", "wrong format"),
        ({"application_date": FUTURE}, "application_date", "in the future"),
        ({"risk_date": None}, "risk_date", "null"),
        ({"dependants": [{"iin": "1"}]}, "dependants", ""),
        ({"postal_code": "x" * 11}, "postal_code", "no more than 10"),
        ({"loss_degree": None}, "loss_degree", "null"),
        ({"loss_degree": 20}, "detail", "degree of lost ability, from 30% to 100%"),  # the type's item
        ({"loss_degree": "__missing__"}, "detail", "degree of lost ability"),
        ({"payment_type": "0704"}, "detail", "days of maternity leave"),
        ({"payment_type": "0703"}, "detail", "date of registration as unemployed"),
        ({"payment_type": "0705"}, "detail", "birth order of the child"),
        ({"payment_type": "0701"}, "detail", "IIN of the deceased"),
        ({"risk_date": "2023-12-21"}, "detail", "cannot be later than the application"),
        ({"iin": "700101300015"}, "detail", "neither a participant nor known to the state registry"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_written(steady, staff, change, field, words) -> None:
    body: dict[str, Any] = {
        "iin": steady.iin,
        "payment_type": "0702",
        "application_date": APPLIED.isoformat(),
        "risk_date": RISK.isoformat(),
        "loss_degree": 50,
        "address": "Алматы",
    }
    body.update(change)
    body = {k: v for k, v in body.items() if v != "__missing__"}
    before = records_state()
    response = session(staff["drafter"]).post(reverse("api_recipients"), body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert words in str(errors[field]), errors
    assert records_state() == before


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"iin": "791028302728",', "detail"),  # not JSON
        (b'["791028302728"]', "non_field_errors"),  # JSON, not an object
        (b'"0702"', "non_field_errors"),
        (b'{"iin": "\\ud800"}', "iin"),  # a lone surrogate
    ],
)
def test_a_body_that_is_not_an_application_is_refused(staff, raw: bytes, field: str) -> None:
    before = records_state()
    response = session(staff["drafter"]).post(reverse("api_recipients"), raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert records_state() == before


def test_only_json_is_read(staff) -> None:
    response = session(staff["drafter"]).post(reverse("api_recipients"), b"iin=1", content_type="text/plain")
    assert response.status_code == 415


def test_a_second_open_case_of_the_same_type_is_refused(applicant, staff) -> None:
    body = {"iin": applicant.participant.iin, "payment_type": "0702", "loss_degree": 50}
    body |= {"application_date": APPLIED.isoformat(), "risk_date": RISK.isoformat()}
    before = records_state()
    response = session(staff["drafter"]).post(reverse("api_recipients"), body, format="json")
    assert response.status_code == 400
    assert "already has a case file of this payment type" in response.json()["detail"]
    assert records_state() == before


def test_registering_needs_the_permission(steady, make_user) -> None:
    body = {"iin": steady.iin, "payment_type": "0702", "loss_degree": 50}
    body |= {"application_date": APPLIED.isoformat(), "risk_date": RISK.isoformat()}
    auditor, bank = session(make_user("auditor")), token(make_user("api_client"))
    before = records_state()
    assert auditor.post(reverse("api_recipients"), body, format="json").status_code == 403
    assert bank.post(reverse("api_recipients"), body, format="json").status_code == 403
    assert APIClient().post(reverse("api_recipients"), body, format="json").status_code == 401
    assert records_state() == before


def test_read_a_recipient_and_the_read_is_logged(in_force, make_user) -> None:
    auditor = make_user("auditor")
    response = token(auditor).get(reverse("api_recipient_detail", args=[in_force.pk]))
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["amount"]) == (in_force.pk, "in_force", "42075.00")
    assert (body["participation_months"], body["average_income"]) == (24, "200000.00")
    (decision,) = body["decisions"]
    year = timezone.localdate().year
    assert decision == {
        "id": Decision.objects.get(recipient=in_force).pk,
        "kind": "assign",
        "state": "approved",
        "number": f"{year}-0702-000001",
        "amount": "42075.00",
    }
    log = AccessLog.objects.get(view="api:recipient_detail")
    assert (log.user, log.participant, log.kind, log.query["recipient"]) == (
        auditor,
        in_force.participant,
        AccessLog.Kind.VIEW,
        in_force.pk,
    )


def test_an_unknown_recipient_is_not_found(staff) -> None:
    client = session(staff["drafter"])
    assert client.get(reverse("api_recipient_detail", args=[99_999_999])).status_code == 404
    assert client.get(reverse("api_recipient_detail", args=[10**30])).status_code == 404
    assert not AccessLog.objects.filter(view="api:recipient_detail").exists()


# --- Decisions --------------------------------------------------------------------------------


def test_draft_a_decision_the_system_computes_the_amount(applicant, staff) -> None:
    response = session(staff["drafter"]).post(
        reverse("api_decisions"), {"recipient": applicant.pk, "kind": "assign"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    decision = Decision.objects.get(pk=body["id"])
    assert decision.drafted_by == staff["drafter"]
    assert {k: body[k] for k in ("recipient", "kind", "state", "number", "amount", "version", "steps")} == {
        "recipient": applicant.pk,
        "kind": "assign",
        "state": "draft",
        "number": None,
        "amount": "42075.00",  # (200 000 − 0.5 × 70 000) × 0.6 × 0.85 × 0.5
        "version": 1,
        "steps": [],
    }
    assert (body["effective_date"], body["period_start"], body["needs_head_of_service"]) == (
        "2023-12-15",
        "2023-12-15",
        False,
    )


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"recipient": 99_999_999, "kind": "assign"}, "recipient", "No recipient has this id"),
        ({"recipient": "one", "kind": "assign"}, "recipient", "valid integer"),
        ({"recipient": "__missing__", "kind": "assign"}, "recipient", "required"),
        ({"kind": "approve"}, "kind", "not a valid choice"),
        ({"kind": "assign", "proposal": 99_999_999}, "proposal", "No proposal"),
        ({"kind": "suspend", "effective_date": "2024-01-01"}, "detail", "not possible while the recipient"),
        ({"kind": "assign", "period_end": "2023-12-01"}, "detail", "cannot end before it starts"),
        ({"kind": "assign", "note": "x" * 1001}, "note", "no more than 1000"),
    ],
)
def test_a_decision_the_rules_refuse_is_not_drafted(applicant, staff, body, field, words) -> None:
    body = {k: v for k, v in {"recipient": applicant.pk, **body}.items() if v != "__missing__"}
    before = records_state()
    response = session(staff["drafter"]).post(reverse("api_decisions"), body, format="json")
    assert response.status_code == 400, response.content
    assert words in str(response.json()[field]), response.json()
    assert records_state() == before


def test_a_second_open_decision_is_refused(applicant, staff) -> None:
    decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    before = records_state()
    response = session(staff["drafter"]).post(
        reverse("api_decisions"), {"recipient": applicant.pk, "kind": "assign"}, format="json"
    )
    assert response.status_code == 400
    assert "already in progress" in response.json()["detail"]
    assert records_state() == before


def test_drafting_needs_the_permission(applicant, make_user) -> None:
    auditor = session(make_user("auditor"))
    before = records_state()
    body = {"recipient": applicant.pk, "kind": "assign"}
    assert auditor.post(reverse("api_decisions"), body, format="json").status_code == 403
    assert records_state() == before


def test_the_whole_way_through_the_api(applicant, staff) -> None:
    drafter, verifier, approver = (session(staff[k]) for k in ("drafter", "verifier", "approver"))
    created = drafter.post(reverse("api_decisions"), {"recipient": applicant.pk, "kind": "assign"}, format="json")
    pk = created.json()["id"]
    submitted = step(drafter, pk, "submit", version=1)
    assert submitted.status_code == 200, submitted.content
    assert (submitted.json()["state"], submitted.json()["version"]) == ("submitted", 2)
    assert step(verifier, pk, "verify").json()["state"] == "verified"
    approved = step(approver, pk, "approve", version=3)
    assert approved.status_code == 200, approved.content
    year = timezone.localdate().year
    assert (approved.json()["state"], approved.json()["number"]) == ("approved", f"{year}-0702-000001")
    applicant.refresh_from_db()
    assert (applicant.status, applicant.amount) == (RecipientStatus.IN_FORCE, Decimal("42075.00"))

    read = verifier.get(reverse("api_decision_detail", args=[pk]))
    assert read.status_code == 200
    body = read.json()
    assert (body["state"], body["number"], body["amount"], body["version"]) == (
        "approved",
        f"{year}-0702-000001",
        "42075.00",
        4,
    )
    assert [(s["step"], s["from"], s["to"], s["by"]) for s in body["steps"]] == [
        ("submit", "draft", "submitted", staff["drafter"].username),
        ("verify", "submitted", "verified", staff["verifier"].username),
        ("approve", "verified", "approved", staff["approver"].username),
    ]
    assert body["steps"][0]["at"].endswith("+05:00")  # Asia/Almaty
    log = AccessLog.objects.get(view="api:decision_detail")
    assert (log.user, log.participant) == (staff["verifier"], applicant.participant)


def test_a_decision_returned_with_its_reason(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    verifier = session(staff["verifier"])
    before = records_state()
    for body in ({}, {"reason": "  "}):
        refused = step(verifier, decision.pk, "reject", **body)
        assert refused.status_code == 400
        assert refused.json() == {"detail": "Give the reason the decision is returned."}
    assert records_state() == before
    returned = step(verifier, decision.pk, "reject", reason="Нет справки МСЭ")
    assert returned.status_code == 200
    assert (returned.json()["state"], returned.json()["rejection_reason"]) == ("rejected", "Нет справки МСЭ")
    assert returned.json()["steps"][-1]["reason"] == "Нет справки МСЭ"


def refused_unchanged(client: APIClient, decision: Decision, name: str, status: int, words: str, **body: Any) -> None:
    before = records_state()
    response = step(client, decision.pk, name, **body)
    assert response.status_code == status, response.content
    assert words in response.json()["detail"], response.json()
    assert records_state() == before


def test_the_drafter_may_not_verify_even_when_a_role_allows_it(applicant, make_user) -> None:
    senior = make_user("senior_specialist")
    client = session(senior)
    drafted = client.post(reverse("api_decisions"), {"recipient": applicant.pk, "kind": "assign"}, format="json")
    pk = drafted.json()["id"]
    assert step(client, pk, "submit").status_code == 200
    refused_unchanged(client, Decision.objects.get(pk=pk), "verify", 403, "The drafter or the approver")


def test_a_specialist_may_not_approve(applicant, staff, make_user) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    refused_unchanged(session(make_user("specialist")), decision, "approve", 403, "Your roles do not allow")
    refused_unchanged(session(staff["verifier"]), decision, "approve", 403, "Your roles do not allow")


def test_the_verifier_may_not_approve(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["head_of_service"])
    refused_unchanged(session(staff["head_of_service"]), decision, "approve", 403, "the verifier of a decision")


def test_above_the_threshold_a_head_of_unit_may_not_approve(applicant, staff) -> None:
    LegalParameter.objects.filter(name="approval_monthly_threshold").update(value=Decimal("1000"))
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    read = session(staff["verifier"]).get(reverse("api_decision_detail", args=[decision.pk]))
    assert read.json()["needs_head_of_service"]
    refused_unchanged(session(staff["approver"]), decision, "approve", 403, "needs the head of the service")
    approved = step(session(staff["head_of_service"]), decision.pk, "approve")
    assert (approved.status_code, approved.json()["state"]) == (200, "approved")


def test_a_step_from_the_wrong_state_is_a_conflict(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    refused_unchanged(session(staff["approver"]), decision, "approve", 409, "not possible in the document's current")
    refused_unchanged(session(staff["verifier"]), decision, "verify", 409, "not possible in the document's current")


def test_a_stale_version_is_a_conflict(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])  # version 2 now
    refused_unchanged(session(staff["verifier"]), decision, "verify", 409, "changed this document after", version=1)
    assert step(session(staff["verifier"]), decision.pk, "verify", version=2).status_code == 200


def test_a_token_has_no_second_factor_a_signed_in_session_has(applicant, staff) -> None:
    """The API's machine accounts keep their tokens, but a step that moves money needs a session
    signed in with the second factor: a head's token approves nothing."""
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    refused_unchanged(token(staff["verifier"]), decision, "verify", 403, "second factor")
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    head = token(staff["approver"])
    refused_unchanged(head, decision, "approve", 403, "second factor")
    refused_unchanged(head, decision, "reject", 403, "second factor", reason="нет")
    assert head.get(reverse("api_decision_detail", args=[decision.pk])).status_code == 200  # reading is fine
    approved = step(session(staff["approver"]), decision.pk, "approve")
    assert (approved.status_code, approved.json()["state"]) == (200, "approved")


def test_a_password_only_session_may_not_verify(applicant, staff, make_user) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    password_only = session(make_user("senior_specialist", second_factor=False))
    refused_unchanged(password_only, decision, "verify", 403, "second factor")


def test_the_drafter_submits_with_a_token(applicant, staff) -> None:
    """Submitting moves no money: no second factor needed."""
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    response = step(token(staff["drafter"]), decision.pk, "submit")
    assert (response.status_code, response.json()["state"]) == (200, "submitted")


def test_unknown_decisions_and_steps_are_not_found(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    client = session(staff["drafter"])
    before = records_state()
    assert step(client, 99_999_999, "submit").status_code == 404
    assert step(client, decision.pk, "publish").status_code == 404
    assert client.get(reverse("api_decision_detail", args=[99_999_999])).status_code == 404
    assert records_state() == before


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"version": "two"}', "version"),
        (b'{"version": 0}', "version"),
        (b"[1]", "non_field_errors"),
        (b"{", "detail"),
    ],
)
def test_a_malformed_step_body_is_refused(applicant, staff, raw: bytes, field: str) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    before = records_state()
    url = reverse("api_decision_step", args=[decision.pk, "submit"])
    response = session(staff["drafter"]).post(url, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert records_state() == before


def test_a_step_without_a_body_is_taken(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    response = session(staff["drafter"]).post(reverse("api_decision_step", args=[decision.pk, "submit"]))
    assert response.status_code == 200, response.content


# --- The documentation ------------------------------------------------------------------------


def test_the_schema_documents_the_payments_api(client) -> None:
    schema = yaml.safe_load(client.get(reverse("api_schema")).content)
    paths = schema["paths"]
    expected = {
        ("/api/v1/recipients/", "post"): {"201", "400", "401", "403", "415", "429"},
        ("/api/v1/recipients/{id}/", "get"): {"200", "401", "403", "404", "429"},
        ("/api/v1/decisions/", "post"): {"201", "400", "401", "403", "415", "429"},
        ("/api/v1/decisions/{id}/", "get"): {"200", "401", "403", "404", "429"},
        ("/api/v1/decisions/{id}/{step}/", "post"): {"200", "400", "401", "403", "404", "409", "415", "429"},
    }
    for (path, method), statuses in expected.items():
        assert statuses <= set(paths[path][method]["responses"]), (path, method)
    parameters = paths["/api/v1/decisions/{id}/{step}/"]["post"]["parameters"]
    (step_parameter,) = [p for p in parameters if p["name"] == "step"]
    assert sorted(step_parameter["schema"]["enum"]) == ["approve", "reject", "submit", "verify"]
    components = schema["components"]["schemas"]
    assert {"iin", "payment_type", "application_date", "risk_date"} <= set(components["RecipientInput"]["required"])
    assert {"from", "to", "by", "at", "reason"} <= set(components["StepOutput"]["properties"])


def test_the_answers_have_the_documented_fields(in_force, staff, client) -> None:
    """What the views answer is what the schema says, field for field."""
    schema = yaml.safe_load(client.get(reverse("api_schema")).content)
    components = schema["components"]["schemas"]
    reader = session(staff["verifier"])
    recipient = reader.get(reverse("api_recipient_detail", args=[in_force.pk])).json()
    assert set(recipient) == set(components["RecipientOutput"]["properties"])
    decision = reader.get(reverse("api_decision_detail", args=[recipient["decisions"][0]["id"]])).json()
    assert set(decision) == set(components["DecisionOutput"]["properties"])
    assert set(decision["steps"][0]) == set(components["StepOutput"]["properties"])
    assert json.loads(json.dumps(decision))["amount"] == "42075.00"
