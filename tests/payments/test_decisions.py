"""Decisions and their approval (Rules, paragraphs 11 and 14; conventions: "Recipients and
decisions"): each workflow rule, with the amount from a personal account built by the real
contribution pipeline and compared with a value computed by hand here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.models import Decision, DecisionState, LegalParameter, RecipientStatus
from payments.services import (
    decision_approve,
    decision_draft,
    decision_redraft,
    decision_reject,
    decision_submit,
    decision_verify,
)
from records.approval import SecondFactorMissing, StalePage, StepNotPermitted, WrongState
from records.models import ApprovalStep, AuditEvent
from tests.payments.conftest import RISK, approve_through

pytestmark = pytest.mark.django_db


def test_assign_computes_the_amount_and_keeps_its_inputs(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    # (200 000 − 0.5 × 70 000) × 0.6 × 0.85 × 0.5
    assert decision.amount == Decimal("42075.00")
    assert decision.state == DecisionState.DRAFT
    assert decision.number is None
    assert (decision.period_start, decision.effective_date) == (RISK, RISK)
    assert decision.calculation["average_monthly_income"] == "200000.00"
    assert len(decision.calculation["inputs"]) == 24
    assert {p["name"] for p in decision.calculation["parameters"]} >= {"mzp", "deduction_mzp", "ksu_24"}
    assert (decision.window_start, decision.window_end) == (date(2021, 12, 1), date(2023, 11, 1))
    assert not decision.needs_head_of_service
    assert decision.threshold["value"] == "500000"
    assert "Social Code" in decision.legal_basis or "Социальный" in decision.legal_basis


def test_the_whole_way_numbers_the_decision_and_puts_it_in_force(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision = approve_through(decision, staff)
    year = timezone.localdate().year
    assert decision.state == DecisionState.APPROVED
    assert decision.number == f"{year}-0702-000001"
    assert (decision.verified_by, decision.approved_by) == (staff["verifier"], staff["approver"])
    applicant.refresh_from_db()
    assert applicant.status == RecipientStatus.IN_FORCE
    assert applicant.amount == Decimal("42075.00")
    assert (applicant.participation_months, applicant.average_income) == (24, Decimal("200000.00"))
    steps = list(ApprovalStep.objects.filter(object_pk=str(decision.pk)).values_list("step", "from_state", "to_state"))
    assert steps == [
        ("submit", "draft", "submitted"),
        ("verify", "submitted", "verified"),
        ("approve", "verified", "approved"),
    ]
    actions = set(AuditEvent.objects.filter(object_pk=str(decision.pk)).values_list("action", flat=True))
    assert {"decisions.draft", "payments.decision.submit", "payments.decision.approve"} <= actions


def test_numbers_are_gapless_per_year_even_after_a_refused_step(in_force, staff, make_user) -> None:
    suspend = decision_draft(
        recipient_id=in_force.pk,
        kind="suspend",
        actor=staff["drafter"],
        effective_date=date(2024, 3, 1),
        suspend_deadline=date(2024, 4, 1),
        note="Не прошёл переосвидетельствование",
    )
    decision_submit(decision_id=suspend.pk, actor=staff["drafter"])
    decision_verify(decision_id=suspend.pk, actor=staff["verifier"])
    with pytest.raises(StepNotPermitted):  # the verifier cannot approve: no number is taken
        decision_approve(decision_id=suspend.pk, actor=staff["verifier"])
    approved = decision_approve(decision_id=suspend.pk, actor=staff["approver"])
    year = timezone.localdate().year
    assert approved.number == f"{year}-0702-000002"


def test_the_drafter_never_verifies_or_approves_whatever_roles_they_hold(applicant, make_user, staff) -> None:
    boss = make_user("head_of_service")  # holds every permission of the workflow
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=boss)
    decision_submit(decision_id=decision.pk, actor=boss)
    with pytest.raises(StepNotPermitted):
        decision_verify(decision_id=decision.pk, actor=boss)
    with pytest.raises(StepNotPermitted):
        decision_reject(decision_id=decision.pk, actor=boss, reason="сам себе")
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    with pytest.raises(StepNotPermitted):
        decision_approve(decision_id=decision.pk, actor=boss)
    decision.refresh_from_db()
    assert decision.state == DecisionState.VERIFIED


def test_the_verifier_never_approves_even_in_a_later_round(applicant, make_user, staff) -> None:
    head_a, head_b = make_user("head_of_unit"), make_user("head_of_unit")
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=head_a)
    with pytest.raises(StepNotPermitted):
        decision_approve(decision_id=decision.pk, actor=head_a)
    decision_reject(decision_id=decision.pk, actor=head_b, reason="Уточнить период")
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    # head_a verified in the first round: still not the approver of this decision
    with pytest.raises(StepNotPermitted):
        decision_approve(decision_id=decision.pk, actor=head_a)
    # head_b returned it as the approver: may not verify it in a later round either
    assert decision_approve(decision_id=decision.pk, actor=head_b).state == DecisionState.APPROVED


def test_the_database_refuses_one_person_in_two_parts(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    for change in (
        {"verified_by": staff["drafter"]},
        {"approved_by": staff["drafter"]},
        {"verified_by": staff["verifier"], "approved_by": staff["verifier"]},
        {"state": "approved"},  # no number, no approver
        {"state": "rejected"},  # no reason
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Decision.objects.filter(pk=decision.pk).update(**change)


def test_a_step_from_the_wrong_state_is_refused_and_changes_nothing(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    with pytest.raises(WrongState):
        decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    with pytest.raises(WrongState):
        decision_approve(decision_id=decision.pk, actor=staff["approver"])
    decision.refresh_from_db()
    assert (decision.state, decision.version) == (DecisionState.DRAFT, 1)
    assert not ApprovalStep.objects.exists()


def test_roles_that_do_not_allow_a_step_get_403_before_anything_else(applicant, staff, make_user) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    other_specialist = make_user("specialist")
    with pytest.raises(StepNotPermitted):
        decision_submit(decision_id=decision.pk, actor=other_specialist)  # not the drafter
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    with pytest.raises(StepNotPermitted):
        decision_verify(decision_id=decision.pk, actor=other_specialist)
    with pytest.raises(StepNotPermitted):
        decision_approve(decision_id=decision.pk, actor=make_user("auditor"))


def test_a_rejection_goes_back_to_the_drafter_with_its_reason(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    with pytest.raises(Exception, match="reason"):
        decision_reject(decision_id=decision.pk, actor=staff["verifier"], reason="  ")
    rejected = decision_reject(decision_id=decision.pk, actor=staff["verifier"], reason="Нет справки МСЭ")
    assert (rejected.state, rejected.rejection_reason, rejected.submitted_at) == (
        DecisionState.REJECTED,
        "Нет справки МСЭ",
        None,
    )
    step = ApprovalStep.objects.get(step="reject")
    assert (step.actor, step.reason, step.from_state) == (staff["verifier"], "Нет справки МСЭ", "submitted")
    again = decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    assert again.state == DecisionState.SUBMITTED


def test_a_stale_page_changes_nothing_twice(applicant, staff, make_user) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    seen = Decision.objects.get(pk=decision.pk).version  # two verifiers open the same page
    other = make_user("senior_specialist")
    decision_verify(decision_id=decision.pk, actor=staff["verifier"], version=seen)
    with pytest.raises(StalePage):
        decision_reject(decision_id=decision.pk, actor=other, reason="поздно", version=seen)
    with pytest.raises(StalePage):
        decision_verify(decision_id=decision.pk, actor=other, version=seen)
    decision.refresh_from_db()
    assert decision.state == DecisionState.VERIFIED
    assert ApprovalStep.objects.filter(object_pk=str(decision.pk)).count() == 2


def test_the_verifier_and_approver_need_the_second_factor(applicant, staff, make_user) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])  # drafting needs no second factor
    password_only = make_user("senior_specialist", second_factor=False)
    with pytest.raises(SecondFactorMissing):
        decision_verify(decision_id=decision.pk, actor=password_only)
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    with pytest.raises(SecondFactorMissing):
        decision_approve(decision_id=decision.pk, actor=make_user("head_of_unit", second_factor=False))
    decision.refresh_from_db()
    assert decision.state == DecisionState.VERIFIED


def test_above_the_threshold_the_head_of_the_service_approves(applicant, staff) -> None:
    LegalParameter.objects.filter(name="approval_monthly_threshold").update(value=Decimal("42074.99"))
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    assert decision.needs_head_of_service
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    with pytest.raises(StepNotPermitted):
        decision_approve(decision_id=decision.pk, actor=staff["approver"])
    with pytest.raises(StepNotPermitted):  # nor may the head of a unit return it at this stage
        decision_reject(decision_id=decision.pk, actor=staff["approver"], reason="нет")
    assert decision_approve(decision_id=decision.pk, actor=staff["head_of_service"]).state == DecisionState.APPROVED


def test_at_the_threshold_the_head_of_a_unit_approves(applicant, staff) -> None:
    LegalParameter.objects.filter(name="approval_monthly_threshold").update(value=Decimal("42075.00"))
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    assert not decision.needs_head_of_service
    assert approve_through(decision, staff).state == DecisionState.APPROVED


def test_the_threshold_is_effective_dated(applicant, staff) -> None:
    LegalParameter.objects.create(
        name="approval_monthly_threshold", valid_from=date(2023, 12, 16), value=Decimal("1000"), basis="test"
    )
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    assert not decision.needs_head_of_service  # effective on the risk date: the 500 000 row
    assert decision.threshold["valid_from"] == "2020-01-01"


def test_one_open_decision_per_recipient(applicant, staff) -> None:
    decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    with pytest.raises(Exception, match="already in progress"):
        decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])


def test_kinds_follow_the_recipients_status(applicant, staff) -> None:
    for kind in ("suspend", "resume", "terminate", "recalculate"):
        with pytest.raises(Exception, match="not possible"):
            decision_draft(
                recipient_id=applicant.pk, kind=kind, actor=staff["drafter"], effective_date=date(2024, 1, 1)
            )


def test_suspension_withdrawn_by_its_deadline_or_not(in_force, staff) -> None:
    suspend = decision_draft(
        recipient_id=in_force.pk,
        kind="suspend",
        actor=staff["drafter"],
        effective_date=date(2024, 3, 1),
        suspend_deadline=date(2024, 4, 1),
        note="Не явился на переосвидетельствование",
    )
    approve_through(suspend, staff)
    in_force.refresh_from_db()
    assert in_force.status == RecipientStatus.SUSPENDED
    late = decision_draft(
        recipient_id=in_force.pk, kind="resume", actor=staff["drafter"], effective_date=date(2024, 4, 2)
    )
    assert late.withdrawn_in_time is False
    decision_redraft(decision_id=late.pk, actor=staff["drafter"], effective_date=date(2024, 4, 1))
    late.refresh_from_db()
    assert late.withdrawn_in_time is True
    assert late.suspension == suspend
    approve_through(late, staff)
    in_force.refresh_from_db()
    assert in_force.status == RecipientStatus.IN_FORCE


def test_termination_on_death_pays_through_the_month_of_death(in_force, staff) -> None:
    terminate = decision_draft(
        recipient_id=in_force.pk,
        kind="terminate",
        actor=staff["drafter"],
        effective_date=date(2024, 5, 14),
        end_reason="death",
        note="Сведения о смерти",
    )
    assert terminate.period_end == date(2024, 5, 31)
    approve_through(terminate, staff)
    in_force.refresh_from_db()
    assert (in_force.status, in_force.end_date) == (RecipientStatus.TERMINATED, date(2024, 5, 31))


def test_recalculation_shows_the_difference_for_the_months_paid(in_force, staff, steady) -> None:
    from tests.payments.conftest import pay

    # 3 500 more for 2023-11: that month's income becomes 10 500 ÷ 3.5 % = 300 000;
    # СМД = (23 × 200 000 + 300 000) ÷ 24 = 204 166.67;
    # (204 166.67 − 35 000) × 0.6 × 0.85 × 0.5 = 43 137.50 (rounded half-up from 43 137.500...)
    pay(steady, ["112023"], amount="3500,00", reference="LATE")
    recalc = decision_draft(recipient_id=in_force.pk, kind="recalculate", actor=staff["drafter"])
    assert recalc.calculation["average_monthly_income"] == "204166.67"
    assert recalc.amount == Decimal("43137.50")
    assert recalc.previous_amount == Decimal("42075.00")
    # December 2023 from the 15th: 17/31 of the monthly difference 1 062.50 = 582.66; then every
    # full month up to the one before the current month at 1 062.50.
    first = recalc.difference_months[0]
    assert first == {"month": "2023-12", "fraction": "0.5484", "amount": "582.66"}
    assert all(row["amount"] == "1062.50" for row in recalc.difference_months[1:])
    assert recalc.difference == Decimal("582.66") + Decimal("1062.50") * (len(recalc.difference_months) - 1)
    approve_through(recalc, staff)
    in_force.refresh_from_db()
    assert in_force.amount == Decimal("43137.50")


def _register(person: Any, staff: dict[str, Any], **items: Any) -> Any:
    from payments.services import recipient_register

    defaults = {"application_date": date(2023, 12, 20), "risk_date": RISK}
    return recipient_register(iin=person.iin, actor=staff["drafter"], **(defaults | items))


def test_a_lump_sum_has_its_own_threshold(steady, staff) -> None:
    # pregnancy and childbirth: 200 000 × 126 ÷ 30 = 840 000.00, one lump sum
    recipient = _register(steady, staff, payment_type="0704", leave_days=126)
    decision = decision_draft(recipient_id=recipient.pk, kind="assign", actor=staff["drafter"])
    assert (decision.amount, decision.lump_sum, decision.needs_head_of_service) == (Decimal("840000.00"), True, False)
    assert decision.threshold["name"] == "approval_lump_threshold"
    assert decision.period_end == date(2024, 4, 18)  # 126 days from 15.12.2023
    LegalParameter.objects.filter(name="approval_lump_threshold").update(value=Decimal("839999.99"))
    decision = decision_redraft(decision_id=decision.pk, actor=staff["drafter"])
    assert decision.needs_head_of_service


def test_job_loss_is_paid_for_its_months_and_child_care_until_the_age_in_force(steady, staff) -> None:
    # 24 months of participation: job loss for 3 months from the risk date
    job = _register(steady, staff, payment_type="0703", unemployed_registered_on=RISK)
    decision = decision_draft(recipient_id=job.pk, kind="assign", actor=staff["drafter"])
    assert (decision.period_start, decision.period_end) == (RISK, date(2024, 3, 14))
    # child care from 2023 until the child is 1.5 years (18 months, effective-dated)
    care = _register(steady, staff, payment_type="0705", child_birth_order=2)
    decision = decision_draft(recipient_id=care.pk, kind="assign", actor=staff["drafter"])
    assert decision.period_end == date(2025, 6, 14)
    LegalParameter.objects.create(name="child_care_months", valid_from=date(2023, 12, 1), value=12, basis="test")
    decision = decision_redraft(decision_id=decision.pk, actor=staff["drafter"])
    assert decision.period_end == date(2024, 12, 14)


def test_only_the_drafter_corrects_and_only_a_draft_or_a_returned_decision(applicant, staff, make_user) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    with pytest.raises(StepNotPermitted):
        decision_redraft(decision_id=decision.pk, actor=make_user("specialist"))
    with pytest.raises(StalePage):
        decision_redraft(decision_id=decision.pk, actor=staff["drafter"], version=decision.version + 1)
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    with pytest.raises(WrongState):
        decision_redraft(decision_id=decision.pk, actor=staff["drafter"])


def test_a_disability_period_end_given_by_the_drafter_cannot_precede_the_start(applicant, staff) -> None:
    with pytest.raises(Exception, match="cannot end before it starts"):
        decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"], period_end=date(2023, 1, 1))
    decision = decision_draft(
        recipient_id=applicant.pk, kind="assign", actor=staff["drafter"], period_end=date(2024, 12, 31)
    )
    assert decision.period_end == date(2024, 12, 31)


def test_termination_at_the_recipients_request_pays_the_month_and_otherwise_ends_the_day_before(
    in_force, staff
) -> None:
    from payments.services.decisions import payment_end

    assert payment_end("request", date(2024, 2, 10)) == date(2024, 2, 29)
    assert payment_end("deregistered", date(2024, 2, 10)) == date(2024, 2, 29)
    assert payment_end("end_of_right", date(2024, 2, 10)) == date(2024, 2, 9)
    with pytest.raises(Exception, match="reason the payment ends"):
        decision_draft(
            recipient_id=in_force.pk,
            kind="terminate",
            actor=staff["drafter"],
            effective_date=date(2024, 2, 10),
            note="x",
        )
    with pytest.raises(Exception, match="grounds"):
        decision_draft(
            recipient_id=in_force.pk,
            kind="terminate",
            actor=staff["drafter"],
            effective_date=date(2024, 2, 10),
            end_reason="request",
        )
    with pytest.raises(Exception, match="before the right arose"):
        decision_draft(
            recipient_id=in_force.pk,
            kind="terminate",
            actor=staff["drafter"],
            effective_date=date(2023, 1, 1),
            end_reason="request",
            note="x",
        )


def test_a_suspension_needs_a_deadline_after_it_takes_effect(in_force, staff) -> None:
    for deadline in (None, date(2024, 3, 1)):
        with pytest.raises(Exception, match="deadline"):
            decision_draft(
                recipient_id=in_force.pk,
                kind="suspend",
                actor=staff["drafter"],
                effective_date=date(2024, 3, 1),
                suspend_deadline=deadline,
                note="x",
            )


def test_the_legal_basis_follows_the_law_on_the_risk_date() -> None:
    from django.utils import translation

    from payments.services.decisions import legal_basis

    with translation.override("en"):
        assert "Order No. 238" in legal_basis("0702", date(2023, 7, 1))
        assert "article 20" in legal_basis("0702", date(2023, 6, 30))
        assert "article 21" in legal_basis("0701", date(2023, 6, 30))
        assert "Order No. 237" in legal_basis("0703", date(2024, 1, 1))


def test_items_do_not_change_under_a_decision_being_verified_or_approved(applicant, staff) -> None:
    from payments.services import recipient_change_items

    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    change: dict[str, Any] = {"changes": {"loss_degree": 80}, "changed_on": date(2023, 12, 21), "reason": "МСЭ"}
    with pytest.raises(Exception, match="being verified or approved"):
        recipient_change_items(recipient_id=applicant.pk, actor=staff["drafter"], **change)
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    with pytest.raises(Exception, match="being verified or approved"):
        recipient_change_items(recipient_id=applicant.pk, actor=staff["drafter"], **change)
    applicant.refresh_from_db()
    assert applicant.loss_degree == 50
    decision_reject(decision_id=decision.pk, actor=staff["approver"], reason="Новая справка МСЭ")
    recipient_change_items(recipient_id=applicant.pk, actor=staff["drafter"], **change)  # returned: allowed


def test_a_draft_computed_before_the_items_changed_is_not_submitted(applicant, staff) -> None:
    from payments.services import recipient_change_items

    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    recipient_change_items(
        recipient_id=applicant.pk,
        changes={"loss_degree": 80},
        changed_on=date(2023, 12, 21),
        reason="МСЭ",
        actor=staff["drafter"],
    )
    with pytest.raises(Exception, match="changed after the amount was computed"):
        decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision = decision_redraft(decision_id=decision.pk, actor=staff["drafter"])
    # (200 000 − 35 000) × 0.6 × 0.85 × 0.8 = 67 320.00
    assert decision.amount == Decimal("67320.00")
    assert decision_submit(decision_id=decision.pk, actor=staff["drafter"]).state == DecisionState.SUBMITTED
