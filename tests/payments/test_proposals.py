"""What the system proposes by itself (issue 17): a recalculation when contributions inside a
recipient's window are posted or refunded after the amount was computed, a termination when the
registry reports the recipient dead. Nothing is decided automatically."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from contributions.models import LedgerEntry
from contributions.services import refund_decide, refund_register
from payments.models import Decision, DecisionProposal, ProposalStatus
from payments.services import decision_draft, proposal_dismiss, propose_recalculations, propose_terminations
from records.registry import registry_load_snapshot
from records.services import Actor
from records.synthetic import registry_csv
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db


def test_a_late_contribution_inside_the_window_proposes_a_recalculation(
    in_force, steady, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pay(steady, ["052023"], amount="100,00", reference="LATE")  # inside the window 2021-12 … 2023-11
    proposal = DecisionProposal.objects.get()
    assert (proposal.recipient, proposal.kind, proposal.reason, proposal.status) == (
        in_force,
        "recalculate",
        "contributions",
        ProposalStatus.OPEN,
    )
    assert proposal.detail["periods"] == ["2023-05"]
    # Idempotent: the scan again, or another late line, adds nothing while one is open.
    assert propose_recalculations() == 0
    pay(steady, ["062023"], amount="100,00", reference="LATE2")
    assert propose_recalculations() == 0
    assert DecisionProposal.objects.count() == 1
    assert not Decision.objects.filter(kind="recalculate").exists()  # nothing decided by itself


def test_contributions_outside_the_window_or_before_the_computation_propose_nothing(in_force, steady) -> None:
    pay(steady, ["122023"], amount="100,00", reference="AFTER")  # the month of the risk: outside
    assert propose_recalculations() == 0
    assert not DecisionProposal.objects.exists()


def test_a_refund_of_a_contribution_in_the_window_proposes_a_recalculation(in_force, steady, make_user) -> None:
    entry = LedgerEntry.objects.filter(participant__iin=steady.iin, period=date(2023, 3, 1)).get()
    refund = refund_register(
        entry_id=entry.pk,
        amount=Decimal("500.00"),
        request_number="R-1",
        request_date=date(2024, 1, 10),
        reason="ошибочно",
        actor=make_user("specialist"),
    )
    refund_decide(refund_id=refund.pk, actor=make_user("head_of_unit"), approve=True)
    assert propose_recalculations() == 1
    assert DecisionProposal.objects.get().detail["periods"] == ["2023-03"]


def test_a_dismissed_proposal_is_not_proposed_again_for_the_same_entries(in_force, steady, staff) -> None:
    pay(steady, ["052023"], amount="100,00", reference="LATE")
    assert propose_recalculations() == 1
    proposal = DecisionProposal.objects.get()
    proposal_dismiss(proposal_id=proposal.pk, actor=staff["drafter"], note="Сумма не меняется существенно")
    assert propose_recalculations() == 0
    pay(steady, ["072023"], amount="100,00", reference="LATE2")  # a newer entry: proposed again
    assert propose_recalculations() == 1


def test_drafting_from_a_proposal_closes_it(in_force, steady, staff) -> None:
    pay(steady, ["052023"], amount="100,00", reference="LATE")
    propose_recalculations()
    proposal = DecisionProposal.objects.get()
    decision = decision_draft(
        recipient_id=in_force.pk, kind="recalculate", actor=staff["drafter"], proposal_id=proposal.pk
    )
    proposal.refresh_from_db()
    assert (proposal.status, decision.proposal) == (ProposalStatus.DRAFTED, proposal)
    with pytest.raises(Exception, match="already in progress"):
        decision_draft(recipient_id=in_force.pk, kind="recalculate", actor=staff["drafter"], proposal_id=proposal.pk)


def test_a_closed_proposal_cannot_be_drafted_from(in_force, steady, staff) -> None:
    pay(steady, ["052023"], amount="100,00", reference="LATE")
    propose_recalculations()
    proposal = DecisionProposal.objects.get()
    proposal_dismiss(proposal_id=proposal.pk, actor=staff["drafter"], note="нет оснований")
    with pytest.raises(Exception, match="no longer open"):
        decision_draft(recipient_id=in_force.pk, kind="recalculate", actor=staff["drafter"], proposal_id=proposal.pk)
    with pytest.raises(Exception, match="no longer open"):
        proposal_dismiss(proposal_id=proposal.pk, actor=staff["drafter"], note="ещё раз")
    assert not Decision.objects.filter(kind="recalculate").exists()


def test_the_registry_reporting_death_proposes_a_termination(
    in_force, people, django_capture_on_commit_callbacks
) -> None:
    from dataclasses import replace

    person = next(p for p in people if p.iin == in_force.participant.iin)
    with django_capture_on_commit_callbacks(execute=True):
        registry_load_snapshot(
            raw=registry_csv([replace(person, death_date=date(2024, 2, 3))]),
            file_name="deaths.csv",
            actor=Actor(label="test"),
        )
    proposal = DecisionProposal.objects.get()
    assert (proposal.kind, proposal.reason, proposal.detail) == ("terminate", "death", {"death_date": "2024-02-03"})
    assert propose_terminations() == 0  # never twice
    in_force.refresh_from_db()
    assert in_force.status == "in_force"  # proposed, not decided


def test_the_scans_can_be_limited_to_participants(in_force, steady, people) -> None:
    pay(steady, ["052023"], amount="100,00", reference="LATE")
    assert propose_recalculations(participant_ids=[]) == 0
    other = LedgerEntry.objects.exclude(participant__iin=steady.iin).values_list("participant_id", flat=True).first()
    assert propose_recalculations(participant_ids=[other] if other else [0]) == 0
    assert propose_recalculations(participant_ids=[in_force.participant_id]) == 1
