"""The health check the load balancer and compose ask: it must really ask the database."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse


@pytest.mark.django_db(transaction=True)
def test_the_health_check_answers_503_when_the_database_does_not() -> None:
    client = Client()
    assert client.get(reverse("healthz")).json() == {"status": "ok"}
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["HOST"] = "/nonexistent-socket-dir"
    connection.settings_dict["PORT"] = "1"
    try:
        response = client.get(reverse("healthz"))
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert (response.status_code, response.json()) == (503, {"status": "database unavailable"})
    assert client.get(reverse("healthz")).status_code == 200  # and back once it answers


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_whose_server_went_away_is_unhealthy() -> None:
    """A persistent connection (CONN_MAX_AGE) outlives its server process: only a query tells."""
    import psycopg

    client = Client()
    assert client.get(reverse("healthz")).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    try:
        response = client.get(reverse("healthz"))
    finally:
        connection.close()
    assert response.status_code == 503
