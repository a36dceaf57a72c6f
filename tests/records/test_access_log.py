"""Confidentiality (Rules, paragraph 5): reads and searches of personal data are logged, and
only auditors and heads read the log."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from records.models import AccessLog
from tests.audit_trail import triggers_off

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.force_login(user)
    return client


def test_opening_a_participant_page_writes_a_row(make_user, participant) -> None:
    specialist = make_user("specialist")
    response = signed_in(specialist).get(reverse("participant_detail", args=[participant.pk]))
    assert response.status_code == 200
    assert "ИВАНОВ" in response.content.decode()
    entry = AccessLog.objects.get()
    assert (entry.user, entry.kind, entry.participant, entry.view) == (
        specialist,
        AccessLog.Kind.VIEW,
        participant,
        "participant_detail",
    )
    assert entry.ip_address == "10.1.2.3"


def test_a_search_is_logged_with_its_query_and_count(make_user, participant) -> None:
    specialist = make_user("specialist")
    response = signed_in(specialist).get(reverse("participant_search"), {"last_name": "иван", "first_name": "ив"})
    assert response.status_code == 200
    assert participant.iin in response.content.decode()
    entry = AccessLog.objects.get()
    assert entry.kind == AccessLog.Kind.SEARCH
    assert entry.query == {"last_name": "иван", "first_name": "ив", "iins": [participant.iin]}
    assert entry.row_count == 1


def test_an_incomplete_or_bad_search_shows_an_error_and_logs_nothing(make_user) -> None:
    client = signed_in(make_user("specialist"))
    response = client.get(reverse("participant_search"), {"first_name": "ИВАН"})
    assert response.status_code == 200
    assert response.context["form"].errors
    response = client.get(reverse("participant_search"), {"last_name": "И"})
    assert response.context["form"].errors["last_name"]
    response = client.get(reverse("participant_search"), {"iin": "791028302727"})
    assert "iin" in response.context["form"].errors
    assert not AccessLog.objects.exists()


def test_the_api_read_is_logged(make_user, participant) -> None:
    auditor = make_user("auditor")
    response = signed_in(auditor).get(reverse("api_participant_detail", args=[participant.iin]))
    assert response.status_code == 200
    assert response.json()["last_name"] == "ИВАНОВ"
    assert AccessLog.objects.get().view == "api:participant_detail"


def test_the_api_answers_404_for_an_unknown_or_invalid_iin_and_logs_nothing(make_user) -> None:
    client = signed_in(make_user("specialist"))
    assert client.get(reverse("api_participant_detail", args=["850615300012"])).status_code == 404
    assert client.get(reverse("api_participant_detail", args=["not-an-iin"])).status_code == 404
    assert not AccessLog.objects.exists()


def test_the_admin_change_view_is_logged(make_user, participant) -> None:
    auditor = make_user("auditor")
    response = signed_in(auditor).get(reverse("admin:records_participant_change", args=[participant.pk]))
    assert response.status_code == 200
    assert AccessLog.objects.get().view == "admin:participant_change"


def test_a_user_without_a_role_sees_no_personal_data(make_user, participant) -> None:
    client = signed_in(make_user(None))
    assert client.get(reverse("participant_detail", args=[participant.pk])).status_code == 403
    home = client.get(reverse("home")).content.decode()
    assert "ИВАНОВ" not in home
    assert reverse("participant_search") not in home
    assert not AccessLog.objects.exists()


def test_auditor_and_heads_read_the_log_a_specialist_cannot(make_user, participant) -> None:
    specialist = make_user("specialist")
    signed_in(specialist).get(reverse("participant_detail", args=[participant.pk]))
    for role in ("auditor", "head_of_unit", "head_of_service"):
        page = signed_in(make_user(role)).get(reverse("access_log"))
        assert page.status_code == 200
        assert specialist.username in page.content.decode()
    assert signed_in(specialist).get(reverse("access_log")).status_code == 403
    assert signed_in(make_user("senior_specialist")).get(reverse("access_log")).status_code == 403


def test_the_log_is_filtered_by_who_what_whom_and_when(make_user, participant, people) -> None:
    """An auditor's questions: what did this user open, who opened or looked up this
    participant, on which days (whole local days). A filter that is wrong matches nothing,
    never everything, and says why."""
    from datetime import datetime

    from django.utils import timezone

    specialist = make_user("specialist", username="spec-a")
    other = make_user("specialist", username="spec-b")
    signed_in(specialist).get(reverse("participant_detail", args=[participant.pk]))
    signed_in(other).get(reverse("participant_search"), {"iin": participant.iin})
    late = AccessLog.objects.create(user=other, kind=AccessLog.Kind.EXPORT, view="admin:records.participant")
    # 23:30 in Almaty on 15 January is 18:30 UTC: a UTC day would still count it as the 15th,
    # but 00:30 on the 16th in Almaty (19:30 UTC on the 15th) must not be.
    with triggers_off():
        AccessLog.objects.filter(pk=late.pk).update(at=timezone.make_aware(datetime(2026, 1, 15, 23, 30)))
    after_midnight = AccessLog.objects.create(user=other, kind=AccessLog.Kind.VIEW, view="order_detail")
    with triggers_off():
        AccessLog.objects.filter(pk=after_midnight.pk).update(at=timezone.make_aware(datetime(2026, 1, 16, 0, 30)))
    auditor = signed_in(make_user("auditor"))

    def rows(**filters) -> list[tuple[str, str]]:
        response = auditor.get(reverse("access_log"), filters, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        return [(e.user.username, e.kind) for e in response.context["page"].object_list if e.user]

    assert rows(user="spec-a") == [("spec-a", "view")]
    assert sorted(rows(user="SPEC-B")) == [("spec-b", "export"), ("spec-b", "search"), ("spec-b", "view")]
    # The IIN finds the read of the participant's page and the search that named the IIN.
    assert sorted(rows(iin=participant.iin)) == [("spec-a", "view"), ("spec-b", "search")]
    assert rows(kind="export") == [("spec-b", "export")]
    assert rows(date_from="2026-01-15", date_to="2026-01-15") == [("spec-b", "export")]
    assert rows(date_from="2026-01-16", date_to="2026-01-16") == [("spec-b", "view")]
    assert rows(date_to="2026-01-14") == []
    # Wrong filters: an error on the page and no rows, never a server error.
    for bad in ({"iin": "123"}, {"date_to": "9999-12-31"}, {"date_from": "2026-02-01", "date_to": "2026-01-01"}):
        response = auditor.get(reverse("access_log"), bad, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, bad
        assert response.context["page"].count == 0
        assert response.context["form"].errors, bad


def test_the_log_names_views_in_the_readers_language(make_user, participant) -> None:
    from django.utils import translation

    from records.formatting import view_label

    assert view_label("participant_detail") == "Participant page"
    assert view_label("admin:records.participant_changelist") == "Admin list: participants"
    assert view_label("admin:contributions.ledgerentry") == "Admin export: personal account entries"
    assert view_label("order_detail") == "Payment order page"  # registered by contributions
    assert view_label("something:else") == "something:else"
    assert view_label("admin:nosuch.model_changelist") == "admin:nosuch.model_changelist"
    with translation.override("ru"):
        assert view_label("participant_detail") != "Participant page"
        assert view_label("admin:records.participant_changelist").startswith("Админ")
    signed_in(make_user("specialist")).get(reverse("participant_detail", args=[participant.pk]))
    page = signed_in(make_user("auditor")).get(reverse("access_log"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Participant page<" in page


def test_the_log_records_who_connected_not_a_forged_forwarded_for(make_user, participant) -> None:
    """Without a trusted proxy, X-Forwarded-For is the client's own claim: the log keeps REMOTE_ADDR."""
    client = signed_in(make_user("specialist"))
    response = client.get(reverse("participant_detail", args=[participant.pk]), HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 200
    assert AccessLog.objects.get().ip_address == "10.1.2.3"


@pytest.mark.parametrize(
    ("forwarded_for", "logged"),
    [
        ("203.0.113.9", "203.0.113.9"),  # the client, as the proxy saw it
        ("192.0.2.1, 203.0.113.9", "203.0.113.9"),  # the left entry is the client's own claim
        ("203.0.113.9, 10.1.2.4", "203.0.113.9"),  # two proxies, both trusted
        ("not-an-address, 203.0.113.9", "203.0.113.9"),
        ("203.0.113.9, not-an-address", "10.1.2.3"),  # a malformed hop: the last address known good
        ("", "10.1.2.3"),  # no header: the proxy itself
        ("::ffff:203.0.113.9", "203.0.113.9"),
    ],
)
def test_behind_a_trusted_proxy_the_log_records_the_forwarded_client(
    make_user, participant, forwarded_for: str, logged: str
) -> None:
    client = signed_in(make_user("specialist"))
    with override_settings(TRUSTED_PROXIES=["10.1.2.0/24"]):
        response = client.get(reverse("participant_detail", args=[participant.pk]), HTTP_X_FORWARDED_FOR=forwarded_for)
    assert response.status_code == 200
    assert AccessLog.objects.get().ip_address == logged


def test_an_untrusted_network_is_not_a_proxy(make_user, participant) -> None:
    client = signed_in(make_user("specialist"))
    with override_settings(TRUSTED_PROXIES=["10.9.0.0/16", "2001:db8::/32"]):
        client.get(reverse("participant_detail", args=[participant.pk]), HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert AccessLog.objects.get().ip_address == "10.1.2.3"
