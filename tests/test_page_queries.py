"""Every staff page and API read runs the same number of queries whatever the size of the data
(issue "National scale"; docs/performance.md): measured on a small set of orders, entries,
return documents, refunds and log rows, then again after each has grown past a page. A page
whose query count grew would read per row (an N+1), which no timing on a small sample shows.
The cost of each query at national scale is measured by ``manage.py bench_pages``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from contributions.models import LedgerEntry, OrderStatus, PaymentOrder
from contributions.panels import ACCOUNT_PAGE_SIZE
from contributions.services import refund_register
from contributions.views import PAGE
from records.models import Participant
from tests.conftest import PAYER, line_for, order_text, take_in

pytestmark = pytest.mark.django_db


def _orders(people, count: int, *, start: int) -> None:
    """``count`` orders in one file: every third returns a line (a return document)."""
    texts = []
    for n in range(start, start + count):
        lines = [line_for(people[1 + n % 20]), line_for(people[2 + n % 20], amount="3000,00")]
        if n % 3 == 0:
            lines.append(line_for(people[3], iin="123"))
        texts.append(order_text(lines, reference=f"Q{n}", number=str(n)))
    take_in("".join(texts), name=f"q{start}.mt102")


def _entries(person, count: int, *, reference: str) -> None:
    """``count`` monthly contributions of one person (a heavy account)."""
    periods = [2000 * 12 + i for i in range(count)]
    lines = [line_for(person, period=f"{p % 12 + 1:02d}{p // 12}") for p in periods]
    take_in(order_text(lines, reference=reference, number="1"), name=f"{reference}.mt102")


def _refunds(head, count: int) -> None:
    entries = LedgerEntry.objects.filter(kind="contribution", refunds__isnull=True).order_by("id")[:count]
    for n, entry in enumerate(entries):
        refund_register(
            entry_id=entry.pk,
            amount=Decimal("100.00"),
            request_number=f"R-{entry.pk}-{n}",
            request_date=date(2023, 12, 1),
            reason="Излишне уплачено",
            actor=head,
        )


def _measure(pages: dict[str, tuple[Client, Callable[[], str]]]) -> dict[str, int]:
    counts = {}
    for name, (client, url) in pages.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url())
        assert response.status_code == 200, (name, url(), response.status_code)
        counts[name] = len(queries)
        # A stored file's bytes (megabytes) are read only by its download, never by a page.
        assert not [q for q in queries.captured_queries if '"contributions_incomingfile"."raw"' in q["sql"]], name
    return counts


def test_every_page_runs_as_many_queries_with_more_data(people, make_user, specialist, head_of_service) -> None:
    typical, heavy = people[4], people[5]
    _orders(people, 3, start=1)
    _entries(heavy, 3, reference="HEAVY0")
    _refunds(make_user("specialist"), 2)

    staff = Client()
    staff.force_login(head_of_service)
    auditor = Client()
    auditor.force_login(make_user("auditor"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=specialist).key}")  # a state system
    bank_order = take_in(order_text([line_for(people[6])], reference="API1", number="1"), door="api")[0]

    def participant(person) -> int:
        return Participant.objects.get(iin=person.iin).pk

    def an_order() -> int:
        return (
            PaymentOrder.objects.filter(status=OrderStatus.PARTIALLY_RETURNED)
            .order_by("pk")
            .values_list("pk", flat=True)[0]
        )

    surname = typical.last_name[:3]
    pages: dict[str, tuple[Client, Callable[[], str]]] = {
        "participant typical": (staff, lambda: reverse("participant_detail", args=[participant(typical)])),
        "participant typical last": (
            staff,
            lambda: reverse("participant_detail", args=[participant(typical)]) + "?account_page=last",
        ),
        "participant heavy": (staff, lambda: reverse("participant_detail", args=[participant(heavy)])),
        "participant heavy last": (
            staff,
            lambda: reverse("participant_detail", args=[participant(heavy)]) + "?account_page=last",
        ),
        "search by IIN": (staff, lambda: reverse("participant_search") + f"?iin={typical.iin}"),
        "search by surname": (staff, lambda: reverse("participant_search") + f"?last_name={surname}"),
        "orders": (staff, lambda: reverse("order_list")),
        "orders last": (staff, lambda: reverse("order_list") + "?page=last"),
        "orders by payer": (staff, lambda: reverse("order_list") + f"?payer={PAYER}"),
        "orders by payer last": (staff, lambda: reverse("order_list") + f"?payer={PAYER}&page=last"),
        "orders by status": (staff, lambda: reverse("order_list") + "?status=partially_returned"),
        "orders by status last": (staff, lambda: reverse("order_list") + "?status=partially_returned&page=last"),
        "order": (staff, lambda: reverse("order_detail", args=[an_order()])),
        "upload results": (
            staff,
            lambda: (
                reverse("order_upload")
                + "?ids="
                + ",".join(map(str, PaymentOrder.objects.values_list("pk", flat=True)))
            ),
        ),
        "return documents": (staff, lambda: reverse("return_document_list")),
        "refunds": (staff, lambda: reverse("refund_list")),
        "payer": (staff, lambda: reverse("payer_detail", args=[PAYER])),
        "review queue": (staff, lambda: reverse("review_queue")),
        "deadlines": (staff, lambda: reverse("deadlines")),
        "access log": (auditor, lambda: reverse("access_log")),
        "access log of a person": (auditor, lambda: reverse("access_log") + f"?iin={typical.iin}"),
        "API participant": (api, lambda: reverse("api_participant_detail", args=[typical.iin])),
        "API order": (api, lambda: reverse("api_order_detail", args=[bank_order.pk])),
    }
    small = _measure(pages)

    _orders(people, PAGE + 10, start=100)  # the order list and the return documents past a page
    _entries(heavy, ACCOUNT_PAGE_SIZE + 10, reference="HEAVY1")  # the account past a page
    _refunds(make_user("specialist"), PAGE + 5)
    for _ in range(PAGE):
        staff.get(reverse("order_list"))  # the access log past a page
    assert PaymentOrder.objects.count() > PAGE + 10
    large = _measure(pages)

    assert large == small
