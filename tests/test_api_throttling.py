"""The API's rate limits (REST_FRAMEWORK's DEFAULT_THROTTLE_RATES) are enforced: past the rate a
client gets 429 with a JSON error and Retry-After, per account or, without one, per address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LOW_RATES = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "3/min"}}


@pytest.fixture(autouse=True)
def _low_rates() -> Iterator[None]:
    """Rates low enough to exceed in a test, and counts that start from nothing."""
    cache.clear()
    with override_settings(REST_FRAMEWORK=LOW_RATES):
        yield
    cache.clear()


def bank_client(make_user, name: str) -> APIClient:
    client = APIClient(REMOTE_ADDR="198.51.100.7")
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user('api_client', username=name)).key}"
    )
    return client


@pytest.mark.parametrize("language", ["en", "kk", "ru"])
def test_a_bank_past_its_rate_gets_429_with_a_json_error(make_user, language: str) -> None:
    bank = bank_client(make_user, "bank-halyk")
    url = reverse("api_order_detail", args=[987654321])
    assert [bank.get(url).status_code for _ in range(3)] == [404] * 3
    response = bank.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
    assert int(response["Retry-After"]) > 0


def test_the_rate_is_per_account(make_user) -> None:
    """Two banks behind one address (a shared gateway) do not use up each other's rate."""
    url = reverse("api_order_detail", args=[987654321])
    first, second = bank_client(make_user, "bank-one"), bank_client(make_user, "bank-two")
    assert [first.get(url).status_code for _ in range(4)] == [404, 404, 404, 429]
    assert second.get(url).status_code == 404


def test_anonymous_requests_are_limited_per_address_whatever_they_forward() -> None:
    client = APIClient(REMOTE_ADDR="198.51.100.8")
    url = reverse("api_schema")
    codes = [client.get(url, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(1, 5)]
    assert codes == [200, 200, 429, 429]
    assert APIClient(REMOTE_ADDR="198.51.100.9").get(url).status_code == 200
