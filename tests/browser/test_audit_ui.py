"""The auditor's view of the audit trail in Kazakh in a real browser (issue 19): a participant's
history page in the admin shows the row history (what each change changed), the domain events
naming the person, and the read is logged. Screenshots go to docs/screenshots/
(SAVE_SCREENSHOTS=1)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_kazakh_pages import kk, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_auditor_reads_a_participants_trail_in_kazakh(live_server, page: Page, make_user, participant) -> None:
    from records.models import AccessLog
    from records.services import Actor, participant_change_personal_data

    participant_change_personal_data(
        participant_id=participant.pk,
        changes={"last_name": "ПЕТРОВ"},
        actor=Actor(label="command:load_registry"),
        source="state registry",
    )
    make_user("auditor", username="dana")
    sign_in(page, live_server.url, "dana")
    page.goto(f"{live_server.url}/admin/records/participant/{participant.pk}/history/")
    expect(page.locator("#row-history h2")).to_have_text(kk("Row history"))
    expect(page.locator("#row-history")).to_contain_text("ИВАНОВ → ПЕТРОВ")
    expect(page.locator("#row-history")).to_contain_text("command:load_registry")
    expect(page.locator("#domain-events")).to_contain_text("participant.change_personal_data")
    expect(page.locator(".row-version")).to_have_count(2)
    shot(page, "record_trail_kk.png")
    assert AccessLog.objects.filter(
        view="admin:records.participant_history", user__username="dana", participant=participant
    ).exists()
