"""Each role's queue of decisions (Rules, paragraph 14; conventions: "Recipients and decisions"):
what each role has to do, with the one-working-day deadline of each submitted decision and
application and the law's clock of each application, due today and late; the approval limits;
and a page whose queries do not grow with its rows.

"Today" is never patched: decisions and applications are dated in the past, and where today is
not a working day the calendar (data) is given a working-day transfer for it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from payments.models import Decision, DecisionState, LegalParameter, Recipient
from payments.selectors.decisions import QUEUE_ROWS
from payments.services import decision_draft, decision_reject, decision_submit, decision_verify, recipient_register
from records.models import AccessLog, CalendarDay, Participant
from records.working_days import WorkingCalendar, add_working_days, is_working_day, next_working_day
from tests.payments.conftest import APPLIED, RISK

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def queue(user) -> dict[str, list[Any]]:
    """The sections of ``user``'s queue: key -> its rows."""
    response = client_of(user).get(reverse("decision_queue"))
    assert response.status_code == 200
    return {section.key: section.rows for section in response.context["sections"]}


def decisions_in(rows) -> list[Decision]:
    return [row.decision for row in rows]


def at_noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


@pytest.fixture
def today_is_a_working_day() -> date:
    """Today, made a working day if the calendar says it is not (a transfer, as the Ministry
    makes them): "due today" needs a working day to fall due on."""
    today = timezone.localdate()
    if not is_working_day(today):
        CalendarDay.objects.update_or_create(
            date=today, defaults={"is_working": True, "kind": CalendarDay.Kind.TRANSFER_WORKING, "note": "test"}
        )
    return today


def test_each_role_sees_what_it_has_to_do(applicant, staff, make_user) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    drafter = queue(staff["drafter"])
    assert set(drafter) == {"returned", "drafts", "applications"}  # a specialist verifies nothing
    assert decisions_in(drafter["drafts"]) == [decision]
    assert drafter["applications"] == []  # the application has its decision in progress
    assert decisions_in(queue(make_user("specialist"))["drafts"]) == []  # not my draft

    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    verifier = queue(staff["verifier"])
    assert {"verify", "returned", "drafts", "applications"} == set(verifier)
    assert decisions_in(verifier["verify"]) == [decision]
    assert queue(staff["drafter"])["drafts"] == []

    decision_reject(decision_id=decision.pk, actor=staff["verifier"], reason="Уточнить")
    assert decisions_in(queue(staff["drafter"])["returned"]) == [decision]
    assert queue(staff["verifier"])["verify"] == []

    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["approver"])  # a head may verify too
    assert decisions_in(queue(staff["head_of_service"])["approve"]) == [decision]
    assert queue(staff["approver"])["approve"] == []  # the verifier never approves it
    auditor = queue(make_user("auditor"))
    assert set(auditor) == {"in_progress"}  # reads what waits, decides nothing
    assert decisions_in(auditor["in_progress"]) == [decision]


def test_the_drafter_never_finds_their_own_decision_to_verify_or_approve(applicant, staff, make_user) -> None:
    boss = make_user("head_of_service")
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=boss)
    decision_submit(decision_id=decision.pk, actor=boss)
    assert queue(boss)["verify"] == []
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    assert queue(boss)["approve"] == []
    assert decisions_in(queue(staff["head_of_service"])["approve"]) == [decision]


def test_whoever_verified_in_an_earlier_round_never_finds_it_to_approve(applicant, staff, make_user) -> None:
    head_a, head_b = make_user("head_of_unit"), make_user("head_of_unit")
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=head_a)
    decision_reject(decision_id=decision.pk, actor=head_b, reason="Уточнить период")
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    assert queue(head_a)["approve"] == []  # verified it in the first round
    assert decisions_in(queue(head_b)["approve"]) == [decision]


def test_above_the_threshold_only_the_head_of_the_service_has_it_to_approve(applicant, staff) -> None:
    LegalParameter.objects.filter(name="approval_monthly_threshold").update(value=Decimal("1000"))
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    decision_verify(decision_id=decision.pk, actor=staff["verifier"])
    assert decision_approve_queue(staff["approver"]) == []
    assert decision_approve_queue(staff["head_of_service"]) == [decision]
    page = client_of(staff["head_of_service"]).get(reverse("decision_queue")).content.decode()
    assert "above the threshold" in page


def decision_approve_queue(user) -> list[Decision]:
    return decisions_in(queue(user)["approve"])


def test_submitted_decisions_due_today_and_late(applicant, steady, people, staff, today_is_a_working_day) -> None:
    today = today_is_a_working_day
    yesterday, long_ago = today - timedelta(days=1), today - timedelta(days=14)
    assert next_working_day(yesterday) == today
    assert next_working_day(long_ago) < today
    due = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=due.pk, actor=staff["drafter"])
    other = recipient_register(
        iin=people[5].iin,
        payment_type="0702",
        application_date=APPLIED,
        risk_date=RISK,
        loss_degree=40,
        actor=staff["drafter"],
    )
    late = Decision.objects.create(
        recipient=other,
        kind="assign",
        state=DecisionState.SUBMITTED,
        legal_basis="—",
        effective_date=RISK,
        amount=Decimal("1000.00"),
        needs_head_of_service=False,
        drafted_by=staff["drafter"],
        submitted_at=at_noon(long_ago),
    )
    Decision.objects.filter(pk=due.pk).update(submitted_at=at_noon(yesterday))
    rows = {row.decision: row for row in queue(staff["verifier"])["verify"]}
    assert list(rows) == [late, due]  # the longest waiting first
    assert (rows[due].deadline.day, rows[due].deadline.state) == (today, "due_today")
    assert (rows[late].deadline.day, rows[late].deadline.state) == (next_working_day(long_ago), "late")
    # The law's clock runs from the application (2023-12-20): long past.
    assert rows[due].law_deadline.state == "late"
    assert rows[due].law_deadline.day == add_working_days(APPLIED, 8)
    html = client_of(staff["verifier"]).get(reverse("decision_queue")).content.decode()
    assert "Due today" in html
    assert "Late" in html


def test_applications_waiting_for_a_decision_with_both_clocks(steady, people, staff, today_is_a_working_day) -> None:
    today = today_is_a_working_day
    yesterday = today - timedelta(days=1)
    fresh = recipient_register(
        iin=people[5].iin,
        payment_type="0703",
        application_date=yesterday,
        risk_date=yesterday,
        unemployed_registered_on=yesterday,
        actor=staff["drafter"],
    )
    old = recipient_register(
        iin=steady.iin,
        payment_type="0702",
        application_date=APPLIED,
        risk_date=RISK,
        loss_degree=50,
        actor=staff["drafter"],
    )
    rows = {row.recipient: row for row in queue(staff["drafter"])["applications"]}
    assert list(rows) == [old, fresh]
    assert (rows[fresh].deadline.day, rows[fresh].deadline.state) == (today, "due_today")
    assert rows[fresh].law_days == 6  # job loss: the law's 6 working days (LegalParameter)
    assert rows[fresh].law_deadline.day == add_working_days(yesterday, 6)
    assert rows[fresh].law_deadline.state == "ahead"
    assert rows[old].law_days == 8
    assert (rows[old].deadline.state, rows[old].law_deadline.state) == ("late", "late")
    # Once a decision is drafted the application leaves the list.
    decision_draft(recipient_id=old.pk, kind="assign", actor=staff["drafter"])
    assert [row.recipient for row in queue(staff["drafter"])["applications"]] == [fresh]


def test_the_queue_is_logged_with_the_people_it_shows(applicant, staff) -> None:
    decision = decision_draft(recipient_id=applicant.pk, kind="assign", actor=staff["drafter"])
    decision_submit(decision_id=decision.pk, actor=staff["drafter"])
    queue(staff["verifier"])
    logged = AccessLog.objects.filter(view="decision_queue", user=staff["verifier"]).get()
    assert logged.query["iins"] == [applicant.participant.iin]


def test_the_working_calendar_read_once_agrees_with_the_calendar_service() -> None:
    days = [date(2024, 12, 27) + timedelta(days=k) for k in range(30)] + [date(2025, 3, 14), date(2025, 3, 20)]
    calendar = WorkingCalendar(days, longest=8)
    for day in days:
        assert calendar.next_working_day(day) == next_working_day(day), day
        assert calendar.add_working_days(day, 8) == add_working_days(day, 8), day
    assert calendar.next_working_day(date(2024, 12, 31)) == date(2025, 1, 5)  # reference.md §6.4


def _many(staff, participant: Participant, count: int, *, start: int) -> None:
    """``count`` rows in each section of the head of the service's queue, built straight in the
    database: to verify, to approve, returned, drafts, and applications without a decision."""
    head = staff["head_of_service"]
    day = APPLIED - timedelta(days=start)
    for n in range(count):
        recipients = Recipient.objects.bulk_create(
            Recipient(
                participant=participant,
                payment_type="0702",
                application_date=day,
                risk_date=day,
                loss_degree=50,
                registered_by=head,
            )
            for _ in range(5)
        )
        common = {
            "kind": "assign",
            "legal_basis": "—",
            "effective_date": day,
            "amount": Decimal("1000.00"),
            "needs_head_of_service": n % 2 == 0,
        }
        Decision.objects.bulk_create(
            [
                Decision(recipient=recipients[0], state="submitted", drafted_by=staff["drafter"], **common),
                Decision(
                    recipient=recipients[1],
                    state="verified",
                    drafted_by=staff["drafter"],
                    verified_by=staff["verifier"],
                    **common,
                ),
                Decision(recipient=recipients[2], state="rejected", drafted_by=head, rejection_reason="r", **common),
                Decision(recipient=recipients[3], state="draft", drafted_by=head, **common),
            ]
        )
        Decision.objects.filter(recipient__in=recipients[:2]).update(submitted_at=at_noon(day))
        day -= timedelta(days=1)


def test_the_queue_runs_as_many_queries_with_more_rows(steady, staff, django_assert_max_num_queries) -> None:
    participant = Participant.objects.get(iin=steady.iin)
    client = client_of(staff["head_of_service"])
    _many(staff, participant, 1, start=0)
    with CaptureQueriesContext(connection) as small:
        response = client.get(reverse("decision_queue"))
    assert all(section.rows for section in response.context["sections"])

    _many(staff, participant, QUEUE_ROWS + 5, start=10)
    with django_assert_max_num_queries(len(small)):
        response = client.get(reverse("decision_queue"))
    sections = response.context["sections"]
    assert [len(section.rows) for section in sections] == [QUEUE_ROWS] * 5
    assert all(not section.page.is_last for section in sections)
    # The next page of one section reads as few.
    next_page = reverse("decision_queue") + "?" + sections[0].page.next_query
    with django_assert_max_num_queries(len(small)):
        assert client.get(next_page).context["sections"][0].rows
