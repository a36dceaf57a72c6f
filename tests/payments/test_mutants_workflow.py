"""What mutation testing of the recipients' and decisions' services and of the approval
mechanism (docs/testing.md) found untested: the exact messages staff read, the audit events,
the items kept by a correction, the months of a recalculation's difference."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from contributions.services import refund_decide, refund_register
from contributions.services.common import DomainError
from payments.models import Decision, DecisionProposal, Dependant, RecipientChange
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
