"""The API fuzzed from its own OpenAPI schema (schemathesis): whatever a bank or a state system
sends, in the shapes the schema describes and outside them, no answer is a server error.

Runs in this process on the real PostgreSQL test database (Django's WSGI application), as the
bank's API account and as a staff member, with a bounded number of examples per operation."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_schema(db):
    # As Django's test client does: a request must not close the test's database connection
    # (and with it the test's transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(make_user, people, settings):
    # The throttles answer 429 long before a fuzzer runs out of examples; here they must not
    # hide what the views do.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    bank = make_user("api_client", username="bank-fuzz")
    staff = make_user("head_of_service", username="head-fuzz")
    return {
        "bank": Token.objects.create(user=bank).key,
        "staff": Token.objects.create(user=staff).key,
    }


def test_no_input_gives_a_server_error(api_schema, tokens) -> None:
    """Every operation of the schema, each example sent as the bank, as staff and anonymously.
    (Driven with Hypothesis directly: schemathesis's pytest plugin does not support pytest 9.)"""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 4

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def no_server_error(case) -> None:
            for who in ("bank", "staff", "anonymous"):
                headers = {} if who == "anonymous" else {"Authorization": f"Token {tokens[who]}"}
                response = case.call(headers=headers)
                assert response.status_code < 500, (who, case.method, case.formatted_path, response.text[:500])

        no_server_error()
