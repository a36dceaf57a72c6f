"""No staff URL answers 500 to bad input: a record that does not exist (404), or a query string a
page does not expect (NUL, very long text, a page number that is not one, an unknown filter
value): an error on the form, an empty list, or the page as if the parameter were absent."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from tests.test_permission_matrix import named_patterns

pytestmark = pytest.mark.django_db

SKIP = {"logout"}  # would sign the client out of the rest of the walk
HOSTILE_VALUES = [
    "\x00", "a\x00b", "x" * 5000, "-1", "0", "abc", "1e10", "99999999999999999999", "²", "١٢",
    "31.02.2026", "0001-01-01", "9999-12-31", "' OR 1=1 --", "%s", "<script>",
]  # fmt: skip
QUERY_PARAMETERS = [
    "page", "account_page", "status", "payer", "received_from", "received_to", "deadline_state",
    "kind", "user", "iin", "date_from", "date_to", "ids", "last_name", "first_name", "q", "fmt",
]  # fmt: skip
RAW_VALUES = ["%ff", "%ED%A0%80", "%", "%zz", "%00"]  # not UTF-8, a lone surrogate, broken escapes
MISSING_IDS = [0, 99_999_999, 2**31, 2**63, 10**30]
BAD_TEXT_IDS = ["\x00", "x" * 300, "990140004654", "1/2", "..", "%"]


@pytest.fixture
def sample(sample, payments_sample):
    """The shared sample objects, a registry load (its page) and issue 17's objects (the URL
    kwargs of the permission matrix's parts)."""
    from records.registry import registry_load_snapshot
    from records.services import Actor
    from tests.test_permission_matrix import MATRIX_PARTS

    load = registry_load_snapshot(raw=b"iin\n", file_name="bad.csv", actor=Actor(label="test"))
    merged = {**sample, "registry_load_detail": {"pk": load.pk}, "export_download": {"pk": 1}}
    for part in MATRIX_PARTS:
        merged.update(part.kwargs(payments_sample))
    return merged


@pytest.fixture
def walker(sample) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_superuser("walker", password="pw-123456789"))
    return client


def staff_patterns() -> list[tuple[str, URLPattern]]:
    return [(name, pattern) for name, pattern in named_patterns(get_resolver()) if name not in SKIP]


def converters(pattern: URLPattern) -> dict[str, str]:
    return {name: type(converter).__name__ for name, converter in pattern.pattern.converters.items()}


def assert_no_server_error(response, what: object) -> None:
    assert response.status_code < 500, (what, response.status_code)


def test_every_url_with_hostile_query_strings_answers_without_a_server_error(walker, sample) -> None:
    for name, _pattern in staff_patterns():
        url = reverse(name, kwargs=sample.get(name, {}))
        for value in HOSTILE_VALUES:
            query = dict.fromkeys(QUERY_PARAMETERS, value)
            assert_no_server_error(walker.get(url, query), (name, value[:20]))
            assert_no_server_error(walker.get(url, {"page": value}, HTTP_HX_REQUEST="true"), (name, "htmx", value[:20]))
        for raw in RAW_VALUES:
            raw_query = "&".join(f"{parameter}={raw}" for parameter in QUERY_PARAMETERS)
            assert_no_server_error(walker.get(f"{url}?{raw_query}"), (name, raw))


def test_every_url_with_a_record_that_does_not_exist_answers_404(walker, sample) -> None:
    checked = 0
    for name, pattern in staff_patterns():
        kinds = converters(pattern)
        if not kinds:
            continue
        for missing in MISSING_IDS + BAD_TEXT_IDS:
            kwargs = dict(sample.get(name, {}))
            for key, kind in kinds.items():
                if key == "fmt":
                    continue  # the format of an existing document: the id is what is missing
                fits = isinstance(missing, int) if kind == "IntConverter" else isinstance(missing, str)
                if not fits:
                    break
                kwargs[key] = missing
            else:
                if isinstance(missing, str) and "/" in missing:
                    continue  # a value the URL cannot hold: no request to make
                url = reverse(name, kwargs=kwargs)
                for response in (walker.get(url), walker.post(url, {})):
                    assert_no_server_error(response, (name, str(missing)[:20]))
                assert walker.get(url).status_code in (404, 405), (name, missing)
                checked += 1
    assert checked > 20


@pytest.mark.parametrize("name", ["refund_decide", "order_resolve"])
def test_a_decision_on_a_record_that_does_not_exist_is_404(walker, name: str) -> None:
    """The reported case: /refunds/999999/decide/ and /orders/99999999/resolve/ answered 500
    (the service's DoesNotExist); a complete, confirmed form makes no difference."""
    data = {"decision": "approve", "note": "x", "confirm": "on"}
    response = walker.post(reverse(name, args=[99_999_999]), data)
    assert response.status_code == 404


def test_hostile_form_bodies_never_give_a_server_error(walker, sample) -> None:
    fields = ["decision", "note", "confirm", "amount", "request_number", "request_date", "reason", "received",
              "user_id", "role_key", "language", "next", "file", "order_files"]  # fmt: skip
    for name, _pattern in staff_patterns():
        url = reverse(name, kwargs=sample.get(name, {}))
        for value in HOSTILE_VALUES:
            assert_no_server_error(walker.post(url, dict.fromkeys(fields, value)), (name, value[:20]))
