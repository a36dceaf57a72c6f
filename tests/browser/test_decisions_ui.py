"""A decision drafted, verified and approved in Kazakh in a real browser (issue 17): the
specialist opens the recipient, looks at the amount and drafts the assignment, a level-6
specialist verifies it, a head approves it with the one-time code; each sees the decision in
their queue. Screenshots of each step go to docs/screenshots/ (SAVE_SCREENSHOTS=1)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser.test_kazakh_pages import kk, shot, sign_in
from tests.payments.conftest import months, pay

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page: Page) -> None:
    page.context.clear_cookies()


def test_a_decision_is_drafted_verified_and_approved_in_kazakh(live_server, page: Page, make_user, people) -> None:
    from payments.models import Decision, DecisionState, RecipientStatus
    from payments.services import recipient_register

    drafter = make_user("specialist", username="aigul")
    make_user("senior_specialist", username="bauyrzhan")
    make_user("head_of_unit", username="dinara")
    person = people[4]
    pay(person, months((2021, 12), 24))
    recipient = recipient_register(
        iin=person.iin,
        payment_type="0702",
        application_date=date(2023, 12, 20),
        risk_date=date(2023, 12, 15),
        loss_degree=50,
        actor=drafter,
    )
    base = live_server.url

    # The specialist: the recipient, the amount with its formula, the draft.
    sign_in(page, base, "aigul")
    page.goto(f"{base}/recipients/{recipient.pk}/amount/")
    expect(page.locator("main")).to_contain_text("42 075,00")
    shot(page, "amount_preview_kk.png")
    page.goto(f"{base}/recipients/{recipient.pk}/decisions/new/")
    page.locator("input[name=kind][value=assign]").check()
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/decisions/" in url and url.rstrip("/").split("/")[-1].isdigit())
    decision = Decision.objects.get(recipient=recipient)
    assert (decision.state, decision.amount) == (DecisionState.DRAFT, Decimal("42075.00"))
    page.get_by_role("button", name=kk("Submit for verification")).click()
    expect(page.locator("main")).to_contain_text(kk("Submitted for verification"))
    shot(page, "decision_submitted_kk.png")
    sign_out(page)

    # The level-6 specialist finds it in the queue "to verify" and verifies it.
    sign_in(page, base, "bauyrzhan")
    page.goto(f"{base}/decisions/")
    expect(page.locator("main")).to_contain_text(person.iin)
    shot(page, "decision_queue_kk.png")
    page.goto(f"{base}/decisions/{decision.pk}/")
    page.get_by_role("button", name=kk("Verify")).click()
    expect(page.locator("main")).to_contain_text(kk("Verified, awaiting approval"))
    sign_out(page)

    # The head approves it: the decision gets its number and the payment is in force.
    sign_in(page, base, "dinara")
    page.goto(f"{base}/decisions/{decision.pk}/")
    expect(page.get_by_role("button", name=kk("Verify"))).to_have_count(0)
    page.get_by_role("button", name=kk("Approve the decision")).click()
    number = f"{timezone.localdate().year}-0702-000001"
    expect(page.locator("main")).to_contain_text(number)
    shot(page, "decision_approved_kk.png")
    decision.refresh_from_db()
    recipient.refresh_from_db()
    assert (decision.state, decision.number) == (DecisionState.APPROVED, number)
    assert (recipient.status, recipient.amount) == (RecipientStatus.IN_FORCE, Decimal("42075.00"))
    steps = list(decision.approval_steps().values_list("step", "actor__username"))
    assert steps == [("submit", "aigul"), ("verify", "bauyrzhan"), ("approve", "dinara")]
    # The decision's history is on its page, in Kazakh.
    expect(page.locator("main")).to_contain_text("bauyrzhan")
