"""The decision pages (Rules, paragraphs 11 and 14), through the pages as each role: drafting,
the steps of the approval, refusals that change nothing and say why, the amount preview with its
flagged parameters and its reasons for no amount, the proposals, and the pages in Kazakh."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from payments.models import Decision, DecisionProposal, DecisionState, ProposalStatus, RecipientStatus
from payments.services import DependantData, decision_draft, decision_submit, decision_verify, recipient_register
from records.models import AccessLog, ApprovalStep, Participant
from tests.payments.conftest import APPLIED, RISK, months, pay

pytestmark = pytest.mark.django_db


def client_of(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def text_of(response) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def step(client: Client, decision: Decision, name: str, **data):
    """POST a step as the decision's page does, with the version the page showed (unless given)."""
    data.setdefault("version", decision.version)
    return client.post(reverse("decision_step", args=[decision.pk, name]), data, follow=True)


def state_of(decision: Decision) -> tuple[str, int, int]:
    decision.refresh_from_db()
    return decision.state, decision.version, ApprovalStep.objects.filter(object_pk=str(decision.pk)).count()


@pytest.fixture
def submitted(applicant, staff) -> Decision:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    return decision_submit(decision_id=decision.pk, actor=staff["drafter"])


# --- The whole way ------------------------------------------------------------------------------


def test_draft_submit_verify_approve_through_the_pages(applicant, staff) -> None:
    drafter, verifier, approver = (client_of(staff[k]) for k in ("drafter", "verifier", "approver"))
    page = drafter.get(reverse("decision_new", args=[applicant.pk]))
    assert page.status_code == 200
    assert list(page.context["form"].fields["kind"].choices) == [("assign", "Assign")]  # what "applied" allows

    response = drafter.post(reverse("decision_new", args=[applicant.pk]), {"kind": "assign", "note": "МСЭ 50 %"})
    decision = Decision.objects.get(recipient=applicant)
    assert response.status_code == 302
    assert response["Location"] == reverse("decision_detail", args=[decision.pk])
    assert (decision.state, decision.amount, decision.drafted_by) == ("draft", Decimal("42075.00"), staff["drafter"])

    page = drafter.get(reverse("decision_detail", args=[decision.pk]))
    assert page.context["steps"] == ["submit"]
    assert "42,075.00" in text_of(page)
    page = step(drafter, decision, "submit")
    assert "The decision was submitted for verification." in messages_of(page)
    assert state_of(decision)[0] == DecisionState.SUBMITTED

    assert verifier.get(reverse("decision_detail", args=[decision.pk])).context["steps"] == ["verify", "reject"]
    page = step(verifier, decision, "verify")
    assert state_of(decision)[0] == DecisionState.VERIFIED
    assert approver.get(reverse("decision_detail", args=[decision.pk])).context["steps"] == ["approve", "reject"]
    page = step(approver, decision, "approve")
    decision.refresh_from_db()
    assert decision.state == DecisionState.APPROVED
    assert re.fullmatch(r"\d{4}-0702-\d{6}", decision.number or "")
    assert f"The decision was approved: number {decision.number}." in messages_of(page)
    applicant.refresh_from_db()
    assert applicant.status == RecipientStatus.IN_FORCE

    page = drafter.get(reverse("decision_detail", args=[decision.pk]))
    text = text_of(page)
    assert f"Decision No. {decision.number}" in text
    assert page.context["steps"] == []
    history = [(row.step, row.actor) for row in page.context["history"]]
    assert history == [
        ("Submitted for verification", staff["drafter"]),
        ("Verified", staff["verifier"]),
        ("Approved", staff["approver"]),
    ]
    assert "A head of a unit approves" in text
    # The page is a read of the recipient's personal data, logged with them.
    assert AccessLog.objects.filter(view="decision_detail", participant=applicant.participant).exists()


def test_a_rejection_needs_its_reason_and_goes_back_to_the_drafter(submitted, staff) -> None:
    verifier, drafter = client_of(staff["verifier"]), client_of(staff["drafter"])
    before = state_of(submitted)
    page = step(verifier, submitted, "reject", reason="  ")
    assert "Give the reason the decision is returned. Nothing was changed." in messages_of(page)
    assert state_of(submitted) == before

    page = step(verifier, submitted, "reject", reason="Период МСЭ не указан")
    assert "The decision was returned to the drafter." in messages_of(page)
    assert state_of(submitted)[0] == DecisionState.REJECTED
    page = drafter.get(reverse("decision_detail", args=[submitted.pk]))
    assert "Returned to the drafter because: Период МСЭ не указан" in text_of(page)
    assert page.context["may_redraft"]
    assert page.context["steps"] == ["submit"]
    history = page.context["history"]
    assert (history[-1].to_state, history[-1].reason) == ("Returned to the drafter", "Период МСЭ не указан")


def test_a_stale_page_changes_nothing_and_says_so(submitted, staff, make_user) -> None:
    first, second = client_of(staff["verifier"]), client_of(make_user("senior_specialist"))
    version_seen = submitted.version
    step(first, submitted, "verify")
    after = state_of(submitted)
    page = step(second, submitted, "reject", version=version_seen, reason="нет")  # the page before the verification
    assert state_of(submitted) == after  # verified, same version, no new step
    assert any(
        "Someone changed this decision after you opened it: nothing was changed." in m for m in messages_of(page)
    )
    assert page.redirect_chain[-1][0] == reverse("decision_detail", args=[submitted.pk])


def test_the_drafter_sees_no_verify_or_approve_button_and_a_forged_post_is_refused(applicant, make_user) -> None:
    boss = make_user("head_of_service")  # holds every permission of the workflow
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=boss)
    decision = decision_submit(decision_id=decision.pk, actor=boss)
    client = client_of(boss)
    page = client.get(reverse("decision_detail", args=[decision.pk]))
    assert page.context["steps"] == []
    html = page.content.decode()
    for name in ("verify", "approve", "reject"):
        assert reverse("decision_step", args=[decision.pk, name]) not in html
    before = state_of(decision)
    page = step(client, decision, "verify")
    assert state_of(decision) == before
    assert any("cannot verify it" in m and "Nothing was changed." in m for m in messages_of(page))


def test_a_password_only_session_cannot_verify(submitted, make_user) -> None:
    password_only = client_of(make_user("senior_specialist", second_factor=False))
    before = state_of(submitted)
    response = password_only.post(
        reverse("decision_step", args=[submitted.pk, "verify"]), {"version": submitted.version}
    )
    assert response.status_code == 302
    assert state_of(submitted) == before
    otp = {reverse("otp_verify"), reverse("otp_setup"), reverse("decision_detail", args=[submitted.pk])}
    assert response["Location"].split("?")[0] in otp


def test_a_step_without_the_second_factor_sends_to_the_code_even_past_the_middleware(submitted, make_user, rf) -> None:
    """The site sends a password-only session to the code before any page; the step itself
    refuses it too (records.approval), and the page sends it to the code, changing nothing."""
    from urllib.parse import urlencode

    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from payments.views.decisions import decision_step as view

    request = rf.post("/", {"version": submitted.version})
    request.user = make_user("senior_specialist", second_factor=False)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    before = state_of(submitted)
    response = view(request, pk=submitted.pk, step="verify")
    assert state_of(submitted) == before
    then = reverse("decision_detail", args=[submitted.pk])
    assert response["Location"] == f"{reverse('otp_verify')}?{urlencode({'next': then})}"
    assert next(str(m) for m in request._messages).startswith("This step needs a sign-in with the one-time code")


def test_a_step_from_the_wrong_state_says_so_and_changes_nothing(in_force, staff) -> None:
    approved = Decision.objects.get(recipient=in_force, kind="assign")
    before = state_of(approved)
    page = step(client_of(staff["verifier"]), approved, "verify")
    assert state_of(approved) == before
    assert any("This step is not possible in the document's current state (Approved)." in m for m in messages_of(page))
    redraft = client_of(staff["drafter"]).get(reverse("decision_redraft", args=[approved.pk]))
    assert "Only a draft or a decision returned to the drafter can be corrected." in text_of(redraft)


def test_a_step_posted_without_the_pages_version_changes_nothing(submitted, staff) -> None:
    before = state_of(submitted)
    page = client_of(staff["verifier"]).post(reverse("decision_step", args=[submitted.pk, "verify"]), {}, follow=True)
    assert state_of(submitted) == before
    assert "The page sent was incomplete: nothing was changed. Version of the page: This field is required." in (
        messages_of(page)
    )


def test_a_step_that_is_not_one_is_not_found(submitted, staff) -> None:
    response = client_of(staff["verifier"]).post(
        reverse("decision_step", args=[submitted.pk, "cancel"]), {"version": submitted.version}
    )
    assert response.status_code == 404


def test_above_the_threshold_the_page_names_the_head_of_the_service(applicant, staff) -> None:
    from payments.models import LegalParameter

    LegalParameter.objects.filter(name="approval_monthly_threshold").update(value=Decimal("1000"))
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    head_of_unit = client_of(staff["approver"])
    page = head_of_unit.get(reverse("decision_detail", args=[decision.pk]))
    assert "The head of the service approves" in text_of(page)
    assert "the threshold 1,000.00, in force from" in text_of(page)
    assert page.context["steps"] == []  # not the head of a unit's to approve, nor to return
    head_of_service = client_of(staff["head_of_service"]).get(reverse("decision_detail", args=[decision.pk]))
    assert head_of_service.context["steps"] == ["approve", "reject"]


# --- Drafting and correcting ------------------------------------------------------------------------


def test_a_refused_draft_is_a_form_error_and_stores_nothing(in_force, staff) -> None:
    drafter = client_of(staff["drafter"])
    page = drafter.get(reverse("decision_new", args=[in_force.pk]))
    assert [kind for kind, _label in page.context["form"].fields["kind"].choices] == [
        "suspend",
        "terminate",
        "recalculate",
    ]
    count = Decision.objects.count()
    page = drafter.post(reverse("decision_new", args=[in_force.pk]), {"kind": "suspend", "note": "Неявка"})
    assert page.status_code == 200
    assert "Give the date the decision takes effect." in page.context["form"].non_field_errors()
    assert Decision.objects.count() == count
    page = drafter.post(
        reverse("decision_new", args=[in_force.pk]),
        {"kind": "suspend", "note": "Неявка", "effective_date": "01.03.2024", "suspend_deadline": "01.04.2024"},
    )
    suspension = Decision.objects.get(recipient=in_force, kind="suspend")
    assert (suspension.effective_date, suspension.suspend_deadline) == (date(2024, 3, 1), date(2024, 4, 1))
    assert page["Location"] == reverse("decision_detail", args=[suspension.pk])


def test_the_drafter_corrects_a_returned_decision_and_no_one_else(submitted, staff, make_user) -> None:
    step(client_of(staff["verifier"]), submitted, "reject", reason="Уточнить основания")
    submitted.refresh_from_db()
    other = client_of(make_user("specialist"))
    response = other.get(reverse("decision_redraft", args=[submitted.pk]))
    assert response.status_code == 200
    assert "Only the drafter corrects a decision." in text_of(response)
    assert "form" not in response.context
    before = state_of(submitted)
    response = other.post(
        reverse("decision_redraft", args=[submitted.pk]), {"version": submitted.version, "note": "чужой"}, follow=True
    )
    assert "Only the drafter corrects a decision." in messages_of(response)
    assert state_of(submitted) == before
    drafter = client_of(staff["drafter"])
    page = drafter.get(reverse("decision_redraft", args=[submitted.pk]))
    assert page.status_code == 200
    assert "period_end" in page.context["form"].fields  # disability: the МСЭ period
    version = submitted.version
    response = drafter.post(
        reverse("decision_redraft", args=[submitted.pk]),
        {"version": version, "note": "МСЭ до 31.12.2024", "period_end": "31.12.2024"},
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.version, submitted.note, submitted.period_end) == (
        version + 1,
        "МСЭ до 31.12.2024",
        date(2024, 12, 31),
    )
    # The same page again (its version is now old): nothing changes twice.
    response = drafter.post(
        reverse("decision_redraft", args=[submitted.pk]), {"version": version, "note": "ещё раз"}, follow=True
    )
    assert any("Someone changed this decision" in m for m in messages_of(response))
    submitted.refresh_from_db()
    assert (submitted.version, submitted.note) == (version + 1, "МСЭ до 31.12.2024")


# --- The amount preview -----------------------------------------------------------------------------


def test_the_preview_writes_out_the_formula_and_flags_unconfirmed_parameters(steady, people, staff) -> None:
    """Loss of breadwinner under the Social Code: the КИ table of the Code is LIKELY.
    (200 000 − 0.5 × 70 000) × 0.6 × КИ 0.5 (one dependant) × КСУ 0.85 = 42 075.00."""
    Participant.objects.filter(iin=steady.iin).update(death_date=RISK)
    child = people[9]
    recipient = recipient_register(
        iin=people[5].iin,
        payment_type="0701",
        application_date=APPLIED,
        risk_date=RISK,
        deceased_iin=steady.iin,
        dependants=[DependantData(iin=child.iin, full_name="Ребёнок", birth_date=date(2015, 1, 1), relation="child")],
        actor=staff["drafter"],
    )
    page = client_of(staff["drafter"]).get(reverse("amount_preview", args=[recipient.pk]))
    assert page.status_code == 200
    calculation = page.context["calculation"]
    assert calculation.amount == Decimal("42075.00")
    assert [p.name for p in calculation.flagged] == ["ki_1"]
    text = text_of(page)
    assert "(200,000.00 − 0.5 × 70,000.00) × 0.6 × 0.5 × 0.85 = 42,075.00" in text
    assert "Not confirmed by the reference: this amount uses values" in text
    assert "КИ, one dependant: 0.5 (Likely; valid from 01.07.2023)" in text
    html = page.content.decode()
    ki_row = re.search(r'<tr class="table-warning"><td>КИ \(dependants coefficient\)</td>', html)
    assert ki_row, "the КИ coefficient is flagged where it is used"
    assert re.search(r'<tr class="table-warning"><td>КИ, one dependant</td>', html)
    assert len(calculation.months) == 24
    assert calculation.months[0].period == "2021-12"
    assert calculation.cap == Decimal("490000.00")  # 7 × МЗП 70 000
    assert calculation.participation_months == 24
    # The deceased's account is read: both people are named in the access-log row.
    logged = AccessLog.objects.get(view="amount_preview")
    assert logged.participant == recipient.participant
    assert set(logged.query["iins"]) == {people[5].iin, steady.iin}


def test_the_preview_says_why_there_is_no_amount(people, staff) -> None:
    person = people[6]
    pay(person, months((2023, 9), 3), reference="SHORT")  # 3 months of participation, 6 needed
    recipient = recipient_register(
        iin=person.iin,
        payment_type="0703",
        application_date=APPLIED,
        risk_date=RISK,
        unemployed_registered_on=RISK,
        actor=staff["drafter"],
    )
    page = client_of(staff["drafter"]).get(reverse("amount_preview", args=[recipient.pk]))
    assert page.status_code == 200
    assert page.context.get("calculation") is None
    assert "No amount can be computed: No right to job-loss payments: 3 months of participation, 6 needed." in (
        text_of(page)
    )


def test_a_decision_explains_its_amount_with_the_parameters_it_used(in_force, staff) -> None:
    from payments.models import LegalParameter

    decision = Decision.objects.get(recipient=in_force, kind="assign")
    LegalParameter.objects.filter(name="mzp", valid_from__lte=RISK).order_by("-valid_from").update(value=1)
    page = client_of(staff["drafter"]).get(reverse("decision_detail", args=[decision.pk]))
    calculation = page.context["calculation"]
    assert calculation.mzp == Decimal("70000")  # as it was when the amount was computed
    assert calculation.amount == Decimal("42075.00")


# --- Proposals ------------------------------------------------------------------------------------


def test_a_proposal_is_drafted_from_the_list_or_dismissed_with_a_reason(in_force, staff) -> None:
    proposal = DecisionProposal.objects.create(recipient=in_force, kind="recalculate", reason="contributions")
    drafter = client_of(staff["drafter"])
    page = drafter.get(reverse("proposal_list"))
    assert f"{reverse('decision_new', args=[in_force.pk])}?proposal={proposal.pk}" in page.content.decode()

    response = drafter.post(reverse("proposal_dismiss", args=[proposal.pk]), {"note": " "}, follow=True)
    assert any("This field is required." in m for m in messages_of(response))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.OPEN

    page = drafter.get(reverse("decision_new", args=[in_force.pk]), {"proposal": proposal.pk})
    assert page.context["form"].initial["kind"] == "recalculate"
    drafter.post(reverse("decision_new", args=[in_force.pk]), {"kind": "recalculate", "proposal": proposal.pk})
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFTED
    assert Decision.objects.get(recipient=in_force, kind="recalculate").proposal == proposal
    assert proposal not in drafter.get(reverse("proposal_list")).context["page"].object_list


def test_a_dismissal_gives_its_reason(in_force, staff) -> None:
    proposal = DecisionProposal.objects.create(recipient=in_force, kind="terminate", reason="death")
    response = client_of(staff["drafter"]).post(
        reverse("proposal_dismiss", args=[proposal.pk]), {"note": "Однофамилец, реестр исправлен"}, follow=True
    )
    assert "The proposal was dismissed." in messages_of(response)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.close_note, proposal.closed_by) == (
        ProposalStatus.DISMISSED,
        "Однофамилец, реестр исправлен",
        staff["drafter"],
    )


# --- Kazakh ---------------------------------------------------------------------------------------


def test_the_pages_in_kazakh(submitted, staff) -> None:
    client = client_of(staff["verifier"], language="en")
    client.post(reverse("set_language"), {"language": "kk", "next": "/"})  # the language switch of every page
    page = client.get(reverse("decision_detail", args=[submitted.pk]))
    html = page.content.decode()
    assert 'lang="kk"' in html
    text = text_of(page)
    assert "Тексеруді растау" in text  # "Verify"
    assert "Тексеруге жіберілді" in text  # the state "Submitted for verification"
    assert "Verify" not in text
    assert "What you can do now" not in text
    queue = text_of(client.get(reverse("decision_queue")))
    assert "Шешімдер: менің кезегім" in queue
    assert "Тексеруге" in queue
    preview = text_of(client.get(reverse("amount_preview", args=[submitted.recipient_id])))
    assert "Орташа айлық табыс (ОАТ)" in preview
    assert "Average monthly income" not in preview


def test_the_access_log_names_the_decision_pages() -> None:
    from records.formatting import view_label

    assert view_label("decision_detail") == "Decision page"
    assert view_label("amount_preview") == "Amount preview"
