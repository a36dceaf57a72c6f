"""API rate limits (``REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]``), counted per client as
``records.access.client_address`` reads it.

DRF's own classes would take the client from ``X-Forwarded-For`` whoever sent it, so a client
rotating that header would never be limited; and they bind the rates when DRF is imported,
these read them per request. Kept apart from ``records.api``: DRF imports this module while it
defines ``APIView``, which must not be imported back from here.
"""

from __future__ import annotations

from rest_framework import throttling
from rest_framework.request import Request
from rest_framework.settings import api_settings


class ClientRateThrottle(throttling.SimpleRateThrottle):
    def get_ident(self, request: Request) -> str:
        from records.access import client_address

        return client_address(request._request) or ""

    def get_rate(self) -> str | None:
        # The stubs type the rates as numbers; they are "60/min" strings.
        self.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return super().get_rate()


class AnonRateThrottle(ClientRateThrottle, throttling.AnonRateThrottle):
    """Requests without an account: the ``anon`` rate per client address."""


class UserRateThrottle(ClientRateThrottle, throttling.UserRateThrottle):
    """Requests with an account (a bank's token, a signed-in member of staff): the ``user``
    rate per account; without one, per client address."""
