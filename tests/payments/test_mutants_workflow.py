"""What mutation testing of the recipients' and decisions' services and of the approval
mechanism (docs/testing.md) found untested: the exact messages staff read, the audit events,
the items kept by a correction, the months of a recalculation's difference."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from contributions.services import refund_decide, refund_register
from contributions.services.common import DomainError
from payments.models import Decision, DecisionProposal, Dependant, Recipient, RecipientChange
from payments.services import (
    DependantData,
    case_document_add,
    case_document_check,
    decision_draft,
    decision_redraft,
    dependant_add,
    dependant_end,
    proposal_dismiss,
    recipient_change_items,
    recipient_register,
)
from payments.services.decisions import difference_for_paid_months
from records.approval import StalePage, StepNotPermitted, WrongState
from records.models import AuditEvent
from tests.payments.conftest import APPLIED, RISK, approve_through

pytestmark = pytest.mark.django_db

STALE = "Someone changed this document after you opened it. Reload the page; nothing was changed."


def messages(call: Any) -> list[str]:
    with pytest.raises(DomainError) as error:
        call()
    return list(error.value.messages)


def event(action: str) -> AuditEvent:
    return AuditEvent.objects.get(action=action)


def test_a_correction_keeps_the_deadline_and_the_end_reason_it_is_not_given(in_force, staff) -> None:
    suspend = decision_draft(
        recipient_id=in_force.pk,
        kind="suspend",
        actor=staff["drafter"],
        effective_date=date(2024, 3, 1),
        suspend_deadline=date(2024, 4, 1),
        note="Не явился",
    )
    kept = decision_redraft(decision_id=suspend.pk, actor=staff["drafter"], effective_date=date(2024, 3, 5))
    assert (kept.effective_date, kept.suspend_deadline) == (date(2024, 3, 5), date(2024, 4, 1))
    moved = decision_redraft(decision_id=suspend.pk, actor=staff["drafter"], suspend_deadline=date(2024, 5, 1))
    assert moved.suspend_deadline == date(2024, 5, 1)
    redraft = AuditEvent.objects.filter(action="decisions.redraft").latest("id")
    assert (redraft.actor, redraft.object_pk, redraft.data) == (
        staff["drafter"],
        str(suspend.pk),
        {"amount": "42075.00"},
    )
    assert getattr(redraft.content_type, "model", None) == "decision"


def test_a_correction_of_a_termination_keeps_its_reason(in_force, staff) -> None:
    terminate = decision_draft(
        recipient_id=in_force.pk,
        kind="terminate",
        actor=staff["drafter"],
        effective_date=date(2024, 2, 10),
        end_reason="request",
        note="Заявление",
    )
    kept = decision_redraft(decision_id=terminate.pk, actor=staff["drafter"], effective_date=date(2024, 3, 10))
    assert (kept.end_reason, kept.period_end) == ("request", date(2024, 3, 31))
    changed = decision_redraft(decision_id=terminate.pk, actor=staff["drafter"], end_reason="end_of_right")
    assert (changed.end_reason, changed.period_end) == ("end_of_right", date(2024, 3, 9))


def test_the_refusals_of_a_correction_say_why(applicant, staff, make_user) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    with pytest.raises(StepNotPermitted) as refused:
        decision_redraft(decision_id=decision.pk, actor=make_user("specialist"))
    assert str(refused.value) == "Only the drafter corrects a decision."
    with pytest.raises(StalePage) as stale:
        decision_redraft(decision_id=decision.pk, actor=staff["drafter"], version=99)
    assert stale.value.messages == [STALE]
    approve_through(decision, staff)
    with pytest.raises(WrongState) as wrong:
        decision_redraft(decision_id=decision.pk, actor=staff["drafter"])
    assert wrong.value.messages == ["Only a draft or a decision returned to the drafter can be corrected."]


def test_the_stale_step_message_names_both_halves(applicant, staff) -> None:
    from payments.services import decision_submit

    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    with pytest.raises(StalePage) as stale:
        decision_submit(decision_id=decision.pk, actor=staff["drafter"], version=decision.version + 1)
    assert stale.value.messages == [STALE]


def test_a_decision_names_itself_by_number_or_as_a_draft(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    assert str(decision) == "draft Assign"
    approved = approve_through(decision, staff)
    assert str(approved) == f"{timezone.localdate().year}-0702-000001 Assign"


def test_dismissing_a_proposal_says_why_and_is_audited(in_force, staff) -> None:
    proposal = DecisionProposal.objects.create(recipient=in_force, kind="recalculate", reason="contributions")
    assert messages(lambda: proposal_dismiss(proposal_id=proposal.pk, actor=staff["drafter"], note=" ")) == [
        "Give the reason the proposal needs no decision."
    ]
    proposal_dismiss(proposal_id=proposal.pk, actor=staff["drafter"], note=" Несущественно ")
    proposal.refresh_from_db()
    assert (proposal.status, proposal.close_note, proposal.closed_by) == (
        "dismissed",
        "Несущественно",
        staff["drafter"],
    )
    dismissed = event("decisions.proposal_dismiss")
    assert (dismissed.actor, dismissed.object_pk, dismissed.data) == (
        staff["drafter"],
        str(proposal.pk),
        {"note": "Несущественно"},
    )
    assert getattr(dismissed.content_type, "model", None) == "decisionproposal"
    assert messages(lambda: proposal_dismiss(proposal_id=proposal.pk, actor=staff["drafter"], note="ещё")) == [
        "This proposal is no longer open."
    ]


def test_the_months_already_paid_end_before_the_current_one() -> None:
    total, rows = difference_for_paid_months(
        start=date(2024, 1, 15), old=Decimal("1000"), new=Decimal("1310"), until=date(2024, 3, 10)
    )
    # January from the 15th: 17/31 × 310 = 170.00; February in full: 310.00; not March.
    assert rows == [
        {"month": "2024-01", "fraction": "0.5484", "amount": "170.00"},
        {"month": "2024-02", "fraction": "1.0000", "amount": "310.00"},
    ]
    assert total == Decimal("480.00")
    assert difference_for_paid_months(
        start=date(2024, 3, 2), old=Decimal(1), new=Decimal(2), until=date(2024, 3, 1)
    ) == (
        Decimal("0"),
        [],
    )


def test_a_refund_decided_on_a_stale_page_is_refused(make_user, people) -> None:
    from contributions.models import LedgerEntry
    from tests.conftest import line_for, order_text, take_in

    take_in(order_text([line_for(people[3])]))
    entry = LedgerEntry.objects.get()
    refund = refund_register(
        entry_id=entry.pk,
        amount=Decimal("10.00"),
        request_number="R-9",
        request_date=date(2023, 12, 1),
        reason="ошибочно",
        actor=make_user("specialist"),
    )
    head = make_user("head_of_unit")
    assert messages(
        lambda: refund_decide(refund_id=refund.pk, actor=head, approve=True, version=refund.version + 1)
    ) == [STALE]
    refund.refresh_from_db()
    assert refund.status == "registered"


# --- Recipients ---------------------------------------------------------------------------------


@pytest.fixture
def widow(people, staff):
    """A loss-of-breadwinner recipient: people[0] died on 2023-06-10 (the registry says so)."""
    from tests.payments.conftest import months, pay

    pay(people[0], months((2021, 6), 24))
    return recipient_register(
        iin=people[5].iin,
        payment_type="0701",
        application_date=date(2023, 7, 1),
        risk_date=date(2023, 6, 10),
        deceased_iin=people[0].iin,
        dependants=[DependantData(people[6].iin, "Сын", date(2015, 1, 1), "child")],
        actor=staff["drafter"],
    )


def test_the_refusals_about_dependants_say_which_and_why(widow, staff, people) -> None:
    def add(**item: Any) -> Any:
        data = {"iin": people[7].iin, "full_name": "Дочь", "birth_date": date(2016, 1, 1), "relation": "child"}
        return lambda: dependant_add(
            recipient_id=widow.pk,
            dependant=DependantData(**(data | item)),
            since=date(2023, 8, 1),
            reason="Свидетельство",
            actor=staff["drafter"],
        )

    assert messages(add(iin="123")) == ["Dependant: 123 is not a valid IIN."]
    assert messages(add(relation="cousin")) == [f"Dependant {people[7].iin}: unknown relation."]
    assert messages(add(full_name=" ")) == [f"Dependant {people[7].iin}: the full name is missing."]
    assert messages(add(birth_date=date(2023, 9, 1))) == [
        f"Dependant {people[7].iin}: born after the breadwinner's death."
    ]
    assert messages(add(iin=people[6].iin)) == [f"Dependant {people[6].iin} is listed twice."]
    assert messages(
        lambda: dependant_add(
            recipient_id=widow.pk,
            dependant=DependantData(people[7].iin, "Дочь", date(2016, 1, 1), "child"),
            since=date(2023, 8, 1),
            reason="",
            actor=staff["drafter"],
        )
    ) == ["Give the reason for the change."]
    add(full_name="Я" * 301)()
    added = Dependant.objects.get(iin=people[7].iin)
    assert added.full_name == "Я" * 300
    audited = event("recipients.dependant_add")
    assert (audited.actor, audited.object_pk, audited.data) == (staff["drafter"], str(widow.pk), {"iin": people[7].iin})
    assert getattr(audited.content_type, "model", None) == "recipient"


def test_ending_a_dependant_says_why_and_is_audited(widow, staff, people) -> None:
    son = Dependant.objects.get(recipient=widow)
    assert messages(
        lambda: dependant_end(dependant_id=son.pk, until=date(2033, 1, 1), reason="", actor=staff["drafter"])
    ) == ["Give the reason for the change."]
    assert messages(
        lambda: dependant_end(dependant_id=son.pk, until=date(2023, 1, 1), reason="18 лет", actor=staff["drafter"])
    ) == ["A dependant cannot end before they started."]
    dependant_end(dependant_id=son.pk, until=date(2033, 1, 1), reason="18 лет", actor=staff["drafter"])
    assert Dependant.objects.get(pk=son.pk).until == date(2033, 1, 1)
    ended = event("recipients.dependant_end")
    assert (ended.actor, ended.object_pk, ended.data) == (staff["drafter"], str(widow.pk), {"iin": son.iin})
    assert getattr(ended.content_type, "model", None) == "recipient"
    assert messages(
        lambda: dependant_end(dependant_id=son.pk, until=date(2034, 1, 1), reason="ещё", actor=staff["drafter"])
    ) == ["This dependant has already been ended."]
    change = RecipientChange.objects.filter(item="dependants").latest("id")
    assert (change.old_value, change.new_value) == ("1", "0")


def test_changing_items_says_which_cannot_change_and_when(applicant, staff) -> None:
    def change(**kwargs: Any) -> Any:
        arguments: dict[str, Any] = {
            "changes": {"loss_degree": 60},
            "changed_on": date(2024, 1, 5),
            "reason": "МСЭ",
        } | kwargs
        return lambda: recipient_change_items(recipient_id=applicant.pk, actor=staff["drafter"], **arguments)

    assert messages(change(reason=" ")) == ["Give the reason for the change."]
    assert messages(change(changes={"status": "x", "amount": 1})) == [
        "These items cannot be changed here: amount, status."
    ]
    assert messages(change(changed_on=timezone.localdate().replace(year=timezone.localdate().year + 1))) == [
        "A change cannot be dated in the future."
    ]


def test_a_terminated_payment_keeps_its_items(in_force, staff) -> None:
    terminate = decision_draft(
        recipient_id=in_force.pk,
        kind="terminate",
        actor=staff["drafter"],
        effective_date=date(2024, 2, 10),
        end_reason="request",
        note="Заявление",
    )
    approve_through(terminate, staff)
    assert messages(
        lambda: recipient_change_items(
            recipient_id=in_force.pk,
            changes={"loss_degree": 60},
            changed_on=date(2024, 3, 1),
            reason="МСЭ",
            actor=staff["drafter"],
        )
    ) == ["The payment is terminated: its items no longer change."]


def test_the_days_of_leave_and_the_birth_order_are_changed_with_their_own_checks(steady, staff) -> None:
    mother = recipient_register(
        iin=steady.iin, payment_type="0704", application_date=APPLIED, risk_date=RISK, leave_days=126,
        actor=staff["drafter"],
    )  # fmt: skip
    recipient_change_items(
        recipient_id=mother.pk, changes={"leave_days": 140}, changed_on=date(2024, 1, 5), reason="Осложнённые роды",
        actor=staff["drafter"],
    )  # fmt: skip
    mother.refresh_from_db()
    assert mother.leave_days == 140
    carer = recipient_register(
        iin=steady.iin, payment_type="0705", application_date=APPLIED, risk_date=RISK, child_birth_order=1,
        actor=staff["drafter"],
    )  # fmt: skip
    recipient_change_items(
        recipient_id=carer.pk, changes={"child_birth_order": 2}, changed_on=date(2024, 1, 5), reason="Ошибка",
        actor=staff["drafter"],
    )  # fmt: skip
    carer.refresh_from_db()
    assert carer.child_birth_order == 2


def test_checking_a_document_is_audited_with_who_checked_it(applicant, staff) -> None:
    document = case_document_add(
        recipient_id=applicant.pk,
        kind="application",
        number="A-1",
        issued_on=APPLIED,
        file_name="a.pdf",
        content=b"%PDF-1.4 test",
        actor=staff["drafter"],
    )
    case_document_check(document_id=document.pk, actor=staff["verifier"])
    checked = event("recipients.document_check")
    assert (checked.actor, checked.object_pk, checked.data) == (
        staff["verifier"],
        str(applicant.pk),
        {"document": document.pk},
    )
    assert getattr(checked.content_type, "model", None) == "recipient"


def test_a_resumption_ends_the_latest_suspension(in_force, staff) -> None:
    first = decision_draft(
        recipient_id=in_force.pk, kind="suspend", actor=staff["drafter"], effective_date=date(2024, 3, 1),
        suspend_deadline=date(2024, 4, 1), note="1",
    )  # fmt: skip
    approve_through(first, staff)
    approve_through(
        decision_draft(
            recipient_id=in_force.pk, kind="resume", actor=staff["drafter"], effective_date=date(2024, 3, 20)
        ),
        staff,
    )
    second = decision_draft(
        recipient_id=in_force.pk, kind="suspend", actor=staff["drafter"], effective_date=date(2024, 6, 1),
        suspend_deadline=date(2024, 7, 1), note="2",
    )  # fmt: skip
    approve_through(second, staff)
    resume = decision_draft(
        recipient_id=in_force.pk, kind="resume", actor=staff["drafter"], effective_date=date(2024, 6, 20)
    )
    assert (resume.suspension, resume.withdrawn_in_time) == (Decision.objects.get(pk=second.pk), True)


def test_an_unchanged_item_before_a_changed_one_does_not_stop_the_change(steady, staff) -> None:
    unemployed = recipient_register(
        iin=steady.iin, payment_type="0703", application_date=APPLIED, risk_date=RISK,
        unemployed_registered_on=RISK, unemployed_certificate="C-1", actor=staff["drafter"],
    )  # fmt: skip
    records = recipient_change_items(
        recipient_id=unemployed.pk,
        changes={"unemployed_registered_on": RISK, "unemployed_certificate": "C-2"},
        changed_on=date(2024, 1, 5),
        reason="Новая справка",
        actor=staff["drafter"],
    )
    assert [(r.item, r.old_value, r.new_value) for r in records] == [("unemployed_certificate", "C-1", "C-2")]
    unemployed.refresh_from_db()
    assert unemployed.unemployed_certificate == "C-2"
    changed = event("recipients.change_items")
    assert (changed.actor, changed.object_pk, changed.data) == (
        staff["drafter"],
        str(unemployed.pk),
        {"items": ["unemployed_certificate"], "changed_on": "2024-01-05"},
    )


def test_a_resumption_ends_the_suspension_even_after_a_recalculation(in_force, staff, steady) -> None:
    from tests.payments.conftest import pay

    suspend = decision_draft(
        recipient_id=in_force.pk, kind="suspend", actor=staff["drafter"], effective_date=date(2024, 3, 1),
        suspend_deadline=date(2024, 4, 1), note="1",
    )  # fmt: skip
    approve_through(suspend, staff)
    pay(steady, ["112023"], amount="3500,00", reference="LATE")
    approve_through(decision_draft(recipient_id=in_force.pk, kind="recalculate", actor=staff["drafter"]), staff)
    resume = decision_draft(
        recipient_id=in_force.pk, kind="resume", actor=staff["drafter"], effective_date=date(2024, 3, 25)
    )
    assert (resume.suspension, resume.withdrawn_in_time) == (Decision.objects.get(pk=suspend.pk), True)


def test_a_documents_steps_are_its_own_and_a_step_without_reason_has_none(applicant, staff, make_user) -> None:
    from django.contrib.contenttypes.models import ContentType

    from contributions.models import Refund
    from payments.services import decision_submit
    from records.models import ApprovalStep

    first = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=first.pk, actor=staff["drafter"])
    # A refund's step under the same primary key is not the decision's.
    ApprovalStep.objects.create(
        content_type=ContentType.objects.get_for_model(Refund),
        object_pk=str(first.pk),
        step="approve",
        from_state="registered",
        to_state="posted",
        actor=staff["approver"],
    )
    assert [(s.step, s.reason) for s in first.approval_steps()] == [("submit", "")]
    assert event("payments.decision.submit").data == {"from": "draft", "to": "submitted", "reason": ""}
    from payments.services import decision_approve

    with pytest.raises(StepNotPermitted) as refused:
        decision_approve(decision_id=first.pk, actor=make_user("auditor"))
    assert str(refused.value) == "Your roles do not allow this step."


def test_each_decision_lists_only_its_own_steps(steady, applicant, staff, people) -> None:
    from payments.services import decision_submit

    other = recipient_register(
        iin=steady.iin, payment_type="0703", application_date=APPLIED, risk_date=RISK,
        unemployed_registered_on=RISK, actor=staff["drafter"],
    )  # fmt: skip
    first = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    second = decision_draft(recipient_id=other.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=second.pk, actor=staff["drafter"])
    assert list(first.approval_steps()) == []
    assert [s.step for s in second.approval_steps()] == ["submit"]


def test_a_step_from_the_wrong_state_names_the_state(applicant, staff) -> None:
    from payments.services import decision_verify

    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    with pytest.raises(WrongState) as wrong:
        decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    assert wrong.value.messages == ["This step is not possible in the document's current state (Draft)."]


def test_the_second_factor_refusal_says_what_to_do(applicant, staff, make_user) -> None:
    from payments.services import decision_submit, decision_verify
    from records.approval import SecondFactorMissing

    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    with pytest.raises(SecondFactorMissing) as refused:
        decision_verify(decision_id=decision.pk, actor=make_user("senior_specialist", second_factor=False))
    assert str(refused.value) == (
        "This step needs a sign-in with the second factor (one-time code). Sign in again with your code."
    )


def test_the_refusals_of_a_document_say_why(applicant, staff) -> None:
    def add(**changes: Any) -> Any:
        data: dict[str, Any] = {"kind": "application", "number": "A-1", "issued_on": APPLIED}
        data |= {"file_name": "a.pdf", "content": b"%PDF-1.4 x"} | changes
        return lambda: case_document_add(recipient_id=applicant.pk, actor=staff["drafter"], **data)

    assert messages(add(kind="selfie")) == ["Unknown kind of document: selfie."]
    assert messages(add(content=b"")) == ["The file is empty."]
    assert messages(add(content=b"%PDF" + b"0" * (10 * 1024 * 1024))) == ["The file is larger than 10 MB."]
    assert messages(add(content=b"<html>")) == ["The file is not a PDF, JPEG, PNG or TIFF scan."]


# --- Second mutation run (issue 17): what the survivors showed untested ---------------------------

DECIDING = (
    "A decision of this recipient is being verified or approved."
    " Return it to the drafter before changing the items it stands on."
)


def test_items_do_not_change_under_a_decision_being_verified(applicant, staff) -> None:
    from payments.services import decision_submit

    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    assert messages(
        lambda: recipient_change_items(
            recipient_id=applicant.pk,
            changes={"loss_degree": 60},
            changed_on=date(2024, 1, 5),
            reason="МСЭ",
            actor=staff["drafter"],
        )
    ) == [DECIDING]


def test_a_submission_is_refused_only_for_changes_to_its_own_recipient(applicant, steady, staff) -> None:
    from payments.services import decision_submit

    other = recipient_register(
        iin=steady.iin, payment_type="0703", application_date=APPLIED, risk_date=RISK,
        unemployed_registered_on=RISK, unemployed_certificate="C-1", actor=staff["drafter"],
    )  # fmt: skip
    mine = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    theirs = decision_draft(recipient_id=other.pk, kind="assign", actor=staff["drafter"])
    recipient_change_items(
        recipient_id=other.pk, changes={"unemployed_certificate": "C-2"}, changed_on=date(2024, 1, 5),
        reason="Новая справка", actor=staff["drafter"],
    )  # fmt: skip
    assert decision_submit(decision_id=mine.pk, actor=staff["drafter"]).state == "submitted"
    assert messages(lambda: decision_submit(decision_id=theirs.pk, actor=staff["drafter"])) == [
        "The recipient's items changed after the amount was computed."
        " Correct the draft (it computes the amount again) and submit it."
    ]


def test_a_payment_may_end_on_the_day_it_starts_but_not_before(applicant, staff) -> None:
    assert messages(
        lambda: decision_draft(
            recipient_id=applicant.pk, kind="assign", actor=staff["drafter"], period_end=date(2023, 12, 14)
        )
    ) == ["The payment cannot end before it starts."]
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"], period_end=RISK)
    assert (decision.period_start, decision.period_end) == (RISK, RISK)


def test_child_care_from_july_ends_in_january_a_year_and_a_half_later(steady, staff) -> None:
    care = recipient_register(
        iin=steady.iin, payment_type="0705", application_date=date(2023, 7, 20), risk_date=date(2023, 7, 10),
        child_birth_order=1, actor=staff["drafter"],
    )  # fmt: skip
    decision = decision_draft(recipient_id=care.pk, kind="assign", actor=staff["drafter"])
    # 18 months from 10.07.2023: to 09.01.2025, across the turn of two years
    assert (decision.period_start, decision.period_end) == (date(2023, 7, 10), date(2025, 1, 9))


def test_the_threshold_used_is_recorded_with_its_row(applicant, staff) -> None:
    from payments.models import LegalParameter

    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    row = LegalParameter.objects.get(name="approval_monthly_threshold", valid_from=date(2020, 1, 1))
    assert decision.threshold == {
        "name": "approval_monthly_threshold",
        "value": "500000",
        "valid_from": "2020-01-01",
        "id": row.pk,
    }


def test_a_missing_threshold_is_named_with_the_day(applicant, staff) -> None:
    from payments.models import LegalParameter

    LegalParameter.objects.filter(name="approval_monthly_threshold").delete()
    assert messages(lambda: decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])) == [
        "No value of “Monthly amount above which the head of the service approves, KZT” is in force on 2023-12-15."
    ]


def test_an_amount_that_cannot_be_computed_says_why(people, staff) -> None:
    nothing_paid = recipient_register(
        iin=people[9].iin, payment_type="0702", application_date=APPLIED, risk_date=RISK, loss_degree=50,
        actor=staff["drafter"],
    )  # fmt: skip
    assert messages(lambda: decision_draft(recipient_id=nothing_paid.pk, kind="assign", actor=staff["drafter"])) == [
        "The participant has no contributions before the month of the risk."
    ]


def test_an_approved_assignment_dates_the_decision_and_sets_the_end(applicant, staff) -> None:
    assign = decision_draft(
        recipient_id=applicant.pk, kind="assign", actor=staff["drafter"], period_end=date(2024, 12, 31)
    )
    approve_through(assign, staff)
    applicant.refresh_from_db()
    assert (applicant.decision_date, applicant.end_date) == (timezone.localdate(), date(2024, 12, 31))
    recalculation = decision_draft(recipient_id=applicant.pk, kind="recalculate", actor=staff["drafter"])
    assert (recalculation.period_start, recalculation.period_end, recalculation.effective_date) == (
        RISK,
        date(2024, 12, 31),
        RISK,
    )


def test_a_lump_sum_recalculated_owes_the_whole_difference_at_once(steady, staff) -> None:
    from tests.payments.conftest import pay

    mother = recipient_register(
        iin=steady.iin, payment_type="0704", application_date=APPLIED, risk_date=RISK, leave_days=126,
        actor=staff["drafter"],
    )  # fmt: skip
    approve_through(decision_draft(recipient_id=mother.pk, kind="assign", actor=staff["drafter"]), staff)
    # November 2023 paid again: 10 500 → an income of 300 000 that month; the average of the 12
    # months (11 × 200 000 + 300 000) ÷ 12 = 208 333.33; × 126 ÷ 30 = 874 999.986 → 874 999.99
    pay(steady, ["112023"], amount="3500,00", reference="LATE")
    recalculation = decision_draft(recipient_id=mother.pk, kind="recalculate", actor=staff["drafter"])
    assert (recalculation.lump_sum, recalculation.amount, recalculation.previous_amount) == (
        True,
        Decimal("874999.99"),
        Decimal("840000.00"),
    )
    assert (recalculation.difference, recalculation.difference_months) == (Decimal("34999.99"), [])


def test_a_suspension_of_a_monthly_payment_keeps_the_monthly_threshold(in_force, staff) -> None:
    suspend = decision_draft(
        recipient_id=in_force.pk, kind="suspend", actor=staff["drafter"], effective_date=date(2024, 3, 1),
        suspend_deadline=date(2024, 4, 1), note="Не явился",
    )  # fmt: skip
    assert (suspend.amount, suspend.lump_sum, suspend.threshold["name"]) == (
        Decimal("42075.00"),
        False,
        "approval_monthly_threshold",
    )


@pytest.fixture
def at_zero(people, staff):
    """A disability recipient in force at 0.00: 700 tenge a month is an income of 20 000, below
    the deduction of 35 000 (the formula gives less than zero)."""
    from tests.payments.conftest import months, pay

    pay(people[3], months((2021, 12), 24), amount="700,00")
    recipient = recipient_register(
        iin=people[3].iin, payment_type="0702", application_date=APPLIED, risk_date=RISK, loss_degree=50,
        actor=staff["drafter"],
    )  # fmt: skip
    approve_through(decision_draft(recipient_id=recipient.pk, kind="assign", actor=staff["drafter"]), staff)
    recipient.refresh_from_db()
    assert recipient.amount == Decimal("0.00")
    return recipient


def test_a_payment_in_force_at_zero_is_recalculated_from_zero(at_zero, staff) -> None:
    recalculation = decision_draft(recipient_id=at_zero.pk, kind="recalculate", actor=staff["drafter"])
    assert (recalculation.amount, recalculation.previous_amount, recalculation.difference) == (
        Decimal("0.00"),
        Decimal("0"),
        Decimal("0.00"),
    )


def test_a_payment_in_force_at_zero_can_be_suspended(at_zero, staff) -> None:
    suspend = decision_draft(
        recipient_id=at_zero.pk, kind="suspend", actor=staff["drafter"], effective_date=date(2024, 3, 1),
        suspend_deadline=date(2024, 4, 1), note="Не явился",
    )  # fmt: skip
    assert suspend.amount == Decimal("0")


def test_the_dates_of_a_suspension_and_a_resumption_say_what_is_wrong(in_force, staff) -> None:
    def suspend(**dates: Any) -> Any:
        return lambda: decision_draft(
            recipient_id=in_force.pk, kind="suspend", actor=staff["drafter"], note="Не явился", **dates
        )

    assert messages(suspend(effective_date=date(2023, 12, 14), suspend_deadline=date(2024, 1, 1))) == [
        "A decision cannot take effect before the right arose."
    ]
    assert messages(suspend(effective_date=date(2024, 3, 1))) == [
        "A suspension needs its deadline, after the date it takes effect."
    ]
    # On the day the right arose: accepted; moved to 10 January and approved.
    suspension = suspend(effective_date=RISK, suspend_deadline=date(2024, 1, 15))()
    approve_through(
        decision_redraft(decision_id=suspension.pk, actor=staff["drafter"], effective_date=date(2024, 1, 10)), staff
    )

    def resume(day: date) -> Any:
        return lambda: decision_draft(
            recipient_id=in_force.pk, kind="resume", actor=staff["drafter"], effective_date=day
        )

    assert messages(resume(date(2023, 12, 14))) == ["A decision cannot take effect before the right arose."]
    assert messages(resume(date(2024, 1, 9))) == ["A payment cannot resume before it was suspended."]
    # Resumed on the day it was suspended: accepted.
    assert resume(date(2024, 1, 10))().effective_date == date(2024, 1, 10)


def test_a_termination_needs_its_reason(in_force, staff) -> None:
    assert messages(
        lambda: decision_draft(
            recipient_id=in_force.pk,
            kind="terminate",
            actor=staff["drafter"],
            effective_date=date(2024, 2, 10),
            note="Заявление",
        )
    ) == ["Give the reason the payment ends."]


def test_a_stale_page_does_not_approve(applicant, staff) -> None:
    from payments.services import decision_approve, decision_submit, decision_verify

    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    verified = decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    with pytest.raises(StalePage) as stale:
        decision_approve(decision_id=decision.pk, actor=staff["approver"], version=verified.version - 1)
    assert stale.value.messages == [STALE]
    decision.refresh_from_db()
    assert (decision.state, decision.number) == ("verified", None)
    approved = decision_approve(decision_id=decision.pk, actor=staff["approver"], version=verified.version)
    assert approved.number == f"{timezone.localdate().year}-0702-000001"


def test_a_document_is_audited_on_the_case_file_and_its_long_names_are_cut(applicant, staff) -> None:
    document = case_document_add(
        recipient_id=applicant.pk,
        kind="application",
        number="N" * 60,
        issued_on=APPLIED,
        file_name="f" * 300,
        content=b"%PDF-1.4 long",
        actor=staff["drafter"],
    )
    document.refresh_from_db()
    assert (document.number, document.file_name) == ("N" * 50, "f" * 255)
    added = event("recipients.document_add")
    assert (added.actor, added.object_pk, added.data) == (
        staff["drafter"],
        str(applicant.pk),
        {"document": document.pk, "kind": "application", "sha256": document.sha256},
    )
    assert getattr(added.content_type, "model", None) == "recipient"


def test_the_legal_basis_is_cited_in_full() -> None:
    from django.utils import translation

    from payments.services.decisions import legal_basis

    with translation.override("en"):
        assert legal_basis("0702", date(2023, 6, 30)) == (
            "Law No. 286-VI of 26 December 2019 on compulsory social insurance, article 20;"
            " Rules approved by Order No. 217 of 8 June 2020; Rules of the personalized record, paragraphs 10-14"
        )
        assert legal_basis("0703", date(2023, 7, 1)) == (
            "Social Code of the Republic of Kazakhstan; Rules approved by Order No. 237;"
            " Rules of the personalized record, paragraphs 10-14"
        )


def test_a_kind_of_decision_refused_says_which_and_why(applicant, staff) -> None:
    def draft(kind: str) -> Any:
        return lambda: decision_draft(
            recipient_id=applicant.pk, kind=kind, actor=staff["drafter"], effective_date=date(2024, 3, 1), note="1"
        )

    assert messages(draft("pause")) == ["Unknown kind of decision: pause."]
    assert messages(draft("suspend")) == [
        "A decision to suspend is not possible while the recipient's status is: Application registered."
    ]


def test_the_items_each_payment_type_needs_are_named(steady, people, staff) -> None:
    def register(payment_type: str, **items: Any) -> Any:
        data: dict[str, Any] = {"application_date": APPLIED, "risk_date": RISK} | items
        return lambda: recipient_register(iin=steady.iin, payment_type=payment_type, actor=staff["drafter"], **data)

    degree = "Loss of ability to work needs the degree of lost ability, from 30% to 100%."
    assert messages(register("0702")) == [degree]
    assert messages(register("0702", loss_degree=29)) == [degree]
    assert messages(register("0702", loss_degree=101)) == [degree]
    dead = people[0]  # died on 2023-06-10
    son = [DependantData(people[6].iin, "Сын", date(2015, 1, 1), "child")]
    assert messages(register("0701", risk_date=date(2023, 6, 10), dependants=son)) == [
        "Loss of breadwinner needs the IIN of the deceased participant."
    ]
    assert messages(register("0701", deceased_iin=people[2].iin, dependants=son)) == [
        f"The registry does not report the breadwinner {people[2].iin} dead."
    ]
    assert messages(register("0701", deceased_iin=dead.iin, dependants=son)) == [
        "For loss of breadwinner the date of the social risk is the date of death."
    ]
    assert messages(register("0701", risk_date=date(2023, 6, 10), deceased_iin=dead.iin)) == [
        "Loss of breadwinner needs at least one dependant."
    ]
    assert messages(register("0703")) == ["Loss of job needs the date of registration as unemployed."]
    assert messages(register("0703", unemployed_registered_on=date(2023, 12, 16))) == [
        "The right to a job-loss payment arises from the registration as unemployed."
    ]
    leave = "Pregnancy and childbirth needs the days of maternity leave."
    assert messages(register("0704")) == [leave]
    assert messages(register("0704", leave_days=0)) == [leave]
    assert messages(register("0704", leave_days=367)) == [leave]
    assert messages(register("0705")) == ["Child care needs the birth order of the child."]
    assert messages(register("0705", child_birth_order=0)) == ["Child care needs the birth order of the child."]


def test_the_items_at_their_edges_are_accepted(steady, staff) -> None:
    def register(payment_type: str, **items: Any) -> Any:
        return recipient_register(
            iin=steady.iin, payment_type=payment_type, application_date=APPLIED, risk_date=RISK,
            actor=staff["drafter"], **items,
        )  # fmt: skip

    disabled = register("0702", loss_degree=30)
    assert register("0703", unemployed_registered_on=RISK).unemployed_registered_on == RISK
    mother = register("0704", leave_days=1)
    assert register("0705", child_birth_order=1).child_birth_order == 1
    for recipient, item, value in ((disabled, "loss_degree", 100), (mother, "leave_days", 366)):
        recipient_change_items(
            recipient_id=recipient.pk, changes={item: value}, changed_on=APPLIED, reason="МСЭ", actor=staff["drafter"]
        )
        recipient.refresh_from_db()
        assert getattr(recipient, item) == value


def test_an_application_in_a_dead_persons_name_or_with_unknown_items_is_refused(steady, people, staff) -> None:
    def register(iin: str, **items: Any) -> Any:
        return lambda: recipient_register(
            iin=iin, payment_type="0702", application_date=APPLIED, risk_date=RISK, loss_degree=50,
            actor=staff["drafter"], **items,
        )  # fmt: skip

    assert messages(register(people[0].iin)) == [
        f"The registry reports {people[0].iin} dead: no application in their name."
    ]
    assert messages(register(steady.iin, personal_items={"shoe_size": 42, "eye_colour": "grey"})) == [
        "Unknown personal items: eye_colour, shoe_size."
    ]


def test_the_refusals_of_a_draft_say_why(in_force, staff) -> None:
    assert messages(
        lambda: decision_draft(
            recipient_id=in_force.pk,
            kind="suspend",
            actor=staff["drafter"],
            effective_date=date(2024, 3, 1),
            suspend_deadline=date(2024, 4, 1),
            note=" ",
        )
    ) == ["Give the grounds of the decision."]
    proposal = DecisionProposal.objects.create(recipient=in_force, kind="recalculate", reason="contributions")
    assert messages(
        lambda: decision_draft(
            recipient_id=in_force.pk,
            kind="terminate",
            actor=staff["drafter"],
            effective_date=date(2024, 2, 10),
            end_reason="request",
            note="Заявление",
            proposal_id=proposal.pk,
        )
    ) == ["This proposal is no longer open for this kind of decision."]
    decision_draft(recipient_id=in_force.pk, kind="recalculate", actor=staff["drafter"], proposal_id=proposal.pk)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.closed_by) == ("drafted", staff["drafter"])
    assert messages(
        lambda: decision_draft(
            recipient_id=in_force.pk,
            kind="suspend",
            actor=staff["drafter"],
            effective_date=date(2024, 3, 1),
            suspend_deadline=date(2024, 4, 1),
            note="Не явился",
        )
    ) == ["A decision of this recipient is already in progress (Recalculate, Draft): finish it first."]
    drafted = AuditEvent.objects.filter(action="decisions.draft").latest("id")
    assert (drafted.actor, drafted.data) == (
        staff["drafter"],
        {"recipient": in_force.pk, "kind": "recalculate", "amount": "42075.00"},
    )


# --- The last survivors of the services' run (docs/testing.md, issue 17) ---------------------


def test_the_refusals_of_an_application_word_for_word(steady, people, staff) -> None:
    def register(iin: str = "", **items: Any) -> Any:
        values: dict[str, Any] = {"payment_type": "0702", "application_date": APPLIED, "risk_date": RISK}
        values |= {"loss_degree": 50} | items
        return lambda: recipient_register(iin=iin or steady.iin, actor=staff["drafter"], **values)

    assert messages(register("12345")) == ["12345 is not a valid IIN."]
    unknown = "000101500011"  # a valid IIN nobody holds
    assert messages(register(unknown)) == [
        f"The IIN {unknown} is neither a participant nor known to the state registry."
    ]
    assert messages(register(payment_type="0799")) == ["Unknown payment type: 0799."]
    future = timezone.localdate() + timedelta(days=1)
    assert messages(register(application_date=future, risk_date=future)) == [
        "The application cannot be dated in the future."
    ]
    assert messages(register(risk_date=APPLIED + timedelta(days=1))) == [
        "The social risk cannot be later than the application."
    ]
    assert messages(
        register(payment_type="0701", loss_degree=None, deceased_iin=steady.iin, risk_date=date(2023, 6, 10))
    ) == ["The applicant cannot be the deceased breadwinner."]
    recipient_register(iin=steady.iin, payment_type="0702", application_date=APPLIED, risk_date=RISK,
                       loss_degree=50, actor=staff["drafter"])  # fmt: skip
    case = f"0702-{Recipient.objects.get(participant__iin=steady.iin).pk:08d}"
    assert messages(register()) == [f"{steady.iin} already has a case file of this payment type ({case})."]


def test_an_applicant_registered_from_the_registry_keeps_every_name_and_says_so(people, staff) -> None:
    from records.models import Participant

    person = people[12]
    assert not Participant.objects.filter(iin=person.iin).exists()
    recipient = recipient_register(
        iin=person.iin, payment_type="0703", application_date=APPLIED, risk_date=RISK,
        unemployed_registered_on=RISK, actor=staff["drafter"],
    )  # fmt: skip
    participant = recipient.participant
    assert (participant.last_name, participant.first_name, participant.patronymic) == (
        person.last_name,
        person.first_name,
        person.patronymic,
    )
    created = AuditEvent.objects.get(action="participant.create", object_pk=str(participant.pk))
    assert created.data == {"source": "state registry, on an application"}
    assert recipient.unemployed_certificate == ""  # none given: none stored


def test_the_dependants_of_a_breadwinner_are_counted_on_the_risk_date(widow, people, staff) -> None:
    from payments.services import amount_for

    before = amount_for(widow).as_json()
    dependant_add(
        recipient_id=widow.pk,
        dependant=DependantData(people[7].iin, "Дочь", date(2016, 1, 1), "child"),
        since=date(2023, 8, 1),  # after the death: not counted for the amount of 2023-06-10
        reason="Свидетельство",
        actor=staff["drafter"],
    )
    assert amount_for(widow).as_json() == before


def test_a_draft_keeps_its_grounds_its_legal_basis_in_russian_and_is_audited(in_force, staff) -> None:
    from django.utils import translation

    with translation.override("en"):
        decision = decision_draft(
            recipient_id=in_force.pk,
            kind="suspend",
            actor=staff["drafter"],
            effective_date=date(2024, 3, 1),
            suspend_deadline=date(2024, 4, 1),
            note="Не явился на переосвидетельствование",
        )
    assert decision.note == "Не явился на переосвидетельствование"
    assert decision.legal_basis.startswith("Социальный кодекс Республики Казахстан")
    drafted = AuditEvent.objects.get(action="decisions.draft", object_pk=str(decision.pk))
    assert drafted.actor == staff["drafter"]
    assert drafted.data == {"recipient": in_force.pk, "kind": "suspend", "amount": "42075.00"}


def test_a_draft_from_a_proposal_closes_that_proposal_only(in_force, widow, staff) -> None:
    someone_elses = DecisionProposal.objects.create(recipient=widow, kind="recalculate", reason="contributions")
    with pytest.raises(DecisionProposal.DoesNotExist):
        decision_draft(
            recipient_id=in_force.pk, kind="recalculate", actor=staff["drafter"], proposal_id=someone_elses.pk
        )
    other_kind = DecisionProposal.objects.create(recipient=in_force, kind="terminate", reason="death")
    chosen = DecisionProposal.objects.create(recipient=in_force, kind="recalculate", reason="contributions")
    decision_draft(recipient_id=in_force.pk, kind="recalculate", actor=staff["drafter"], proposal_id=chosen.pk)
    chosen.refresh_from_db()
    other_kind.refresh_from_db()
    assert (chosen.status, other_kind.status) == ("drafted", "open")
