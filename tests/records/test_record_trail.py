"""An auditor sees, for any regulated record, its row history and its domain events on the
record's history page in the admin (issue 19), and the read is logged with the person read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from records.models import AccessLog, AuditEvent
from records.selectors import record_trail
from records.services import Actor, participant_change_personal_data

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_a_participants_trail_has_its_row_history_and_its_events(participant):
    participant_change_personal_data(
        participant_id=participant.pk, changes={"last_name": "ПЕТРОВ"}, actor=Actor(label="registry"), source="test"
    )
    trail = record_trail(participant)
    assert trail.row_history is not None
    assert [version.label for version in trail.row_history] == ["Record added", "Record changed"]
    assert [(c.field, c.old, c.new) for c in trail.row_history[1].changes] == [("Surname", "ИВАНОВ", "ПЕТРОВ")]
    assert trail.row_history[1].who == "registry"
    assert [event.action for event in trail.events] == ["participant.create", "participant.change_personal_data"]


def test_the_auditor_reads_the_trail_in_the_admin_and_the_read_is_logged(participant, make_user):
    participant_change_personal_data(
        participant_id=participant.pk, changes={"last_name": "ПЕТРОВ"}, actor=Actor(label="registry"), source="test"
    )
    auditor = make_user("auditor")
    response = signed_in(auditor).get(reverse("admin:records_participant_history", args=[participant.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    for section in ('id="row-history"', 'id="domain-events"', 'id="admin-actions"'):
        assert section in page
    assert page.count('class="row-version"') == 2
    assert "ИВАНОВ → ПЕТРОВ" in page
    assert "participant.change_personal_data" in page
    read = AccessLog.objects.get(view="admin:records.participant_history")
    assert (read.user, read.participant, read.query["iins"]) == (auditor, participant, [participant.iin])


def test_a_refunds_trail_has_its_approval_steps(people, make_user):
    from contributions.models import LedgerEntry
    from contributions.services import refund_decide, refund_register
    from tests.conftest import line_for, order_text, take_in

    take_in(order_text([line_for(people[1])]))
    refund = refund_register(
        entry_id=LedgerEntry.objects.get().pk,
        amount=Decimal("100.00"),
        request_number="Z-1",
        request_date=date(2023, 12, 1),
        reason="ошибочно уплачено",
        actor=make_user("specialist"),
    )
    refund_decide(refund_id=refund.pk, actor=make_user("head_of_unit"), approve=True)
    trail = record_trail(refund)
    assert trail.row_history is not None
    assert trail.row_history[0].label == "Record added"
    assert [step.to_state for step in trail.steps] == ["posted"]
    page = signed_in(make_user("auditor")).get(reverse("admin:contributions_refund_history", args=[refund.pk]))
    assert page.status_code == 200
    assert 'class="approval-step"' in page.content.decode()


def test_a_record_without_row_history_leaves_the_section_out(make_user):
    """Audit events keep no row history of their own (they never change): no such section."""
    event = AuditEvent.objects.create(actor_label="x", action="test.event")
    assert record_trail(event).row_history is None
    page = signed_in(make_user("auditor")).get(reverse("admin:records_auditevent_history", args=[event.pk]))
    assert page.status_code == 200
    assert 'id="row-history"' not in page.content.decode()


def test_no_trail_for_whoever_may_not_read_the_record(participant, make_user):
    specialist = make_user("api_client")
    response = signed_in(specialist).get(reverse("admin:records_participant_history", args=[participant.pk]))
    assert response.status_code in {302, 403}
    assert not AccessLog.objects.filter(view="admin:records.participant_history").exists()
