"""The access checks and the access log (Rules, paragraph 5): what the mutants of
``records.access`` showed no test looked at (docs/testing.md). The views are decorated when
their modules are imported, before a mutation run switches a mutant on, so the guard is applied
here to a view of the test's own; and the client's address is asked for directly, as the login
lockout, the access log and the throttles ask for it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import path, reverse

from records.access import LOGGED_IN, MAX_LOGGED_IINS, client_address, public, requires, shown_iins
from tests.test_permission_matrix import declared_permission


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("personal data")


@pytest.mark.django_db
def test_a_guarded_view_sends_a_stranger_to_sign_in_and_refuses_a_user_without_the_permission(
    rf: RequestFactory, make_user
) -> None:
    """Whoever is not signed in is sent to the login page; a signed-in user without the
    permission gets 403; only one holding it is served."""
    view = requires("records.view_participant")(hello)
    request = rf.get("/people/1/")
    request.user = AnonymousUser()
    response = view(request)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    request.user = make_user(None)
    with pytest.raises(PermissionDenied):
        view(request)
    request.user = make_user("specialist")
    assert view(request).content == b"personal data"


def test_the_permission_matrix_reads_what_each_view_declares() -> None:
    """The URL x role matrix (tests/test_permission_matrix.py) lists each view by its declared
    permission; a view declared with another one, or a public view declared as anything but
    public, would be checked against the wrong row without anyone noticing."""
    guarded = path("x/", requires("contributions.view_paymentorder")(hello))
    signed_in = path("y/", requires(LOGGED_IN)(hello))
    open_to_all = path("z/", public(hello))
    assert declared_permission(guarded) == "contributions.view_paymentorder"
    assert declared_permission(signed_in) == LOGGED_IN
    assert declared_permission(open_to_all) == "public"


def test_a_proxy_may_be_listed_by_any_address_of_its_network(rf: RequestFactory, settings) -> None:
    """``TRUSTED_PROXIES`` written as an address with its prefix (``10.1.2.3/24``, as the
    operator reads it off the proxy's interface) names the network it is in; it must not stop
    every request with a ValueError."""
    settings.TRUSTED_PROXIES = ["10.7.2.3/24"]
    request = rf.get("/", REMOTE_ADDR="10.7.2.40", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_address(request) == "203.0.113.9"


def test_a_trusted_proxy_that_forwards_no_header_is_the_client_itself(rf: RequestFactory, settings) -> None:
    """A request from a trusted proxy without ``X-Forwarded-For`` (its own health probe, say)
    is logged with the proxy's address, not turned into an error."""
    settings.TRUSTED_PROXIES = ["10.1.2.0/24"]
    request = rf.get("/", REMOTE_ADDR="10.1.2.3")
    assert "HTTP_X_FORWARDED_FOR" not in request.META
    assert client_address(request) == "10.1.2.3"


def test_a_page_of_exactly_the_most_people_logged_claims_no_more() -> None:
    """The access log row says how many people a page showed (``iins_total``) only when it
    could not name them all; a page that showed exactly as many as are logged names everyone,
    and the auditor must not read that there were more."""
    exactly = [f"{n:012d}" for n in range(MAX_LOGGED_IINS)]
    assert shown_iins(exactly) == {"iins": exactly}
    assert shown_iins(exactly[:3], limit=3) == {"iins": exactly[:3]}
    assert shown_iins(exactly[:4], limit=3) == {"iins": exactly[:3], "iins_total": 4}
