"""Reads of personal data on the staff pages are logged with the people they show (Rules,
paragraph 5), so that "who read person X" finds them on the access log page by IIN: an order's
lines, the upload results, the order list, the review queue and the deadline page (their payers),
a payer's page, return documents and their downloads, refunds and the participant search."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from records.access import MAX_LOGGED_IINS, shown_iins
from records.models import AccessLog
from records.synthetic import synthetic_people
from tests.conftest import PAYER, line_for, order_text, take_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(head_of_service) -> Client:
    client = Client()
    client.force_login(head_of_service)
    return client


def found_by_iin(client: Client, iin: str, view: str) -> list[AccessLog]:
    """The access log page's IIN filter, as an auditor uses it."""
    page = client.get(reverse("access_log"), {"iin": iin}).context["page"]
    return [entry for entry in page.object_list if entry.view == view]


def test_an_order_with_a_hundred_lines_logs_its_hundred_people_in_one_row(staff) -> None:
    people = list(synthetic_people(100, seed=5))
    (order,) = take_in(order_text([line_for(person) for person in people]), process=False)
    assert staff.get(reverse("order_detail", args=[order.pk])).status_code == 200
    (entry,) = AccessLog.objects.filter(view="order_detail")
    assert entry.query["order"] == order.pk
    assert entry.query["iins"] == sorted({PAYER, *(person.iin for person in people)})
    assert entry.row_count == 100
    for person in (people[0], people[57], people[99]):
        assert found_by_iin(staff, person.iin, "order_detail") == [entry]
    assert found_by_iin(staff, "791028302728", "order_detail") == []  # someone not on the order


def test_an_order_page_logs_only_the_lines_it_shows(staff, monkeypatch) -> None:
    from contributions import views

    monkeypatch.setattr(views, "ORDER_LINES_PAGE", 3)
    people = list(synthetic_people(5, seed=6))
    (order,) = take_in(order_text([line_for(person) for person in people]), process=False)
    staff.get(reverse("order_detail", args=[order.pk]), {"page": 2})
    (entry,) = AccessLog.objects.filter(view="order_detail")
    assert entry.query["page"] == 2
    assert entry.query["iins"] == sorted({PAYER, people[3].iin, people[4].iin})


def test_the_upload_results_log_the_payers_once_not_at_every_poll(staff, people) -> None:
    (order,) = take_in(order_text([line_for(people[1])]), process=False)
    url = f"{reverse('order_upload')}?ids={order.pk}"
    assert staff.get(url).status_code == 200
    assert staff.get(url, HTTP_HX_REQUEST="true").status_code == 200  # the progress poll
    (entry,) = AccessLog.objects.filter(view="order_upload")
    assert (entry.query["orders"], entry.query["iins"]) == ([order.pk], [PAYER])
    assert found_by_iin(staff, PAYER, "order_upload") == [entry]


ENTREPRENEUR = "791028302728"  # a payer who is an individual: his IIN is personal data


def test_the_order_list_logs_the_payers_it_shows_once_not_at_every_refresh(staff, people) -> None:
    (open_order,) = take_in(order_text([line_for(people[1])]), process=False)  # open: the list refreshes it
    take_in(order_text([line_for(people[2])], reference="IP1", number="2", payer_idn=ENTREPRENEUR), process=False)
    page = staff.get(reverse("order_list"))
    assert page.status_code == 200
    # The live refresh asks for the open orders' changing cells only: no payer, nothing to log.
    live = staff.get(reverse("order_live"), {"ids": str(open_order.pk)}, HTTP_HX_REQUEST="true")
    assert live.status_code == 200
    assert PAYER not in live.content.decode()
    assert ENTREPRENEUR not in live.content.decode()
    (listing,) = AccessLog.objects.filter(view="order_list")
    assert (listing.kind, listing.row_count) == (AccessLog.Kind.VIEW, 2)
    assert listing.query == {"iins": sorted([PAYER, ENTREPRENEUR])}
    assert found_by_iin(staff, ENTREPRENEUR, "order_list") == [listing]

    staff.get(reverse("order_list"), {"payer": ENTREPRENEUR})
    search = AccessLog.objects.filter(view="order_list").exclude(pk=listing.pk).get()
    assert (search.kind, search.query) == (
        AccessLog.Kind.SEARCH,
        {"payer": ENTREPRENEUR, "iins": [ENTREPRENEUR]},
    )


def test_the_review_queue_logs_the_payers_it_shows(staff, people) -> None:
    (order,) = take_in(order_text([line_for(people[3])], knp="010", payer_idn=ENTREPRENEUR))
    assert order.status == "needs_review"
    assert staff.get(reverse("review_queue")).status_code == 200
    (entry,) = AccessLog.objects.filter(view="review_queue")
    assert (entry.kind, entry.query, entry.row_count) == (AccessLog.Kind.VIEW, {"iins": [ENTREPRENEUR]}, 1)
    assert found_by_iin(staff, ENTREPRENEUR, "review_queue") == [entry]


def test_the_deadline_page_logs_the_payers_it_shows(staff, people) -> None:
    # Received on RECEIVED (2023) and not processed: open and long late.
    take_in(order_text([line_for(people[4])], payer_idn=ENTREPRENEUR), process=False)
    take_in(order_text([line_for(people[5])], reference="P2", number="2"), process=False)
    assert staff.get(reverse("deadlines")).status_code == 200
    (entry,) = AccessLog.objects.filter(view="deadlines")
    assert (entry.kind, entry.query, entry.row_count) == (
        AccessLog.Kind.VIEW,
        {"iins": sorted([PAYER, ENTREPRENEUR])},
        2,
    )
    assert found_by_iin(staff, ENTREPRENEUR, "deadlines") == [entry]


def test_the_three_lists_are_named_on_the_access_log_page() -> None:
    from records.formatting import view_label

    assert [view_label(view) for view in ("order_list", "review_queue", "deadlines")] == [
        "Payment order list",
        "Review queue",
        "Deadline page",
    ]


def test_the_payer_page_and_the_return_documents_log_who_they_show(staff, people) -> None:
    (order,) = take_in(order_text([line_for(people[2]), line_for(people[3], iin="850615300012")]))
    document = order.return_document
    staff.get(reverse("payer_detail", args=[PAYER]))
    (payer_read,) = AccessLog.objects.filter(view="payer_detail")
    assert payer_read.query["payer"] == PAYER
    assert found_by_iin(staff, PAYER, "payer_detail") == [payer_read]

    staff.get(reverse("return_document_list"), {"payer": PAYER})
    (listing,) = AccessLog.objects.filter(view="return_document_list")
    assert (listing.kind, listing.query["iins"]) == (AccessLog.Kind.SEARCH, [PAYER])

    for fmt in ("csv", "mt102"):
        assert staff.get(reverse("return_document_download", args=[document.pk, fmt])).status_code == 200
    downloads = AccessLog.objects.filter(view="return_document_download")
    assert [entry.query["iins"] for entry in downloads] == [sorted([PAYER, "850615300012"])] * 2
    assert set(found_by_iin(staff, "850615300012", "return_document_download")) == set(downloads)
    assert found_by_iin(staff, people[2].iin, "return_document_download") == []  # posted, not returned


def test_the_api_download_of_a_return_document_logs_its_people(make_user, people) -> None:
    (order,) = take_in(order_text([line_for(people[4]), line_for(people[5], iin="850615300012")]))
    client = Client()
    client.force_login(make_user("auditor"))
    assert client.get(reverse("api_return_document", args=[order.pk, "csv"])).status_code == 200
    (entry,) = AccessLog.objects.filter(view="api:return_document")
    assert entry.query["iins"] == sorted([PAYER, "850615300012"])


def test_the_refund_list_and_the_search_log_the_participants_shown(staff, make_user, people) -> None:
    from decimal import Decimal

    from contributions.models import LedgerEntry
    from contributions.services import refund_register

    take_in(order_text([line_for(people[6])]))
    refund_register(
        entry_id=LedgerEntry.objects.get().pk,
        amount=Decimal("1.00"),
        request_number="R-1",
        request_date=date(2023, 12, 1),
        reason="r",
        actor=make_user("specialist"),
    )
    staff.get(reverse("refund_list"))
    (listing,) = AccessLog.objects.filter(view="refund_list")
    assert listing.query["iins"] == [people[6].iin]
    staff.get(reverse("participant_search"), {"last_name": people[6].last_name[:3]})
    (search,) = AccessLog.objects.filter(view="participant_search")
    assert people[6].iin in search.query["iins"]
    assert found_by_iin(staff, people[6].iin, "participant_search") == [search]


def test_the_people_logged_are_bounded_and_counted() -> None:
    many = [f"{n:012d}" for n in range(MAX_LOGGED_IINS + 5)]
    logged = shown_iins([*many, many[0], "123", "", "12345678901x"])
    assert len(logged["iins"]) == MAX_LOGGED_IINS
    assert logged["iins_total"] == MAX_LOGGED_IINS + 5
    assert shown_iins(["850615300012", "850615300012", "junk"]) == {"iins": ["850615300012"]}


def test_the_access_log_page_shows_how_many_people_a_row_names(staff) -> None:
    people = list(synthetic_people(3, seed=7))
    (order,) = take_in(order_text([line_for(person) for person in people]), process=False)
    staff.get(reverse("order_detail", args=[order.pk]))
    page = staff.get(reverse("access_log"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "4 people shown" in page  # three lines and the payer
    assert people[1].iin in page


def test_the_file_as_sent_downloads_byte_for_byte_and_logs_everyone_in_it(people, specialist) -> None:
    """Staff reviewing an order read the payer's file itself; every person in it is logged."""
    raw = order_text([line_for(people[1]), line_for(people[2])], reference="RAW1", number="1").encode()
    (order,) = take_in(raw, name="Төлем №1.mt102")
    client = Client()
    client.force_login(specialist)
    page = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    url = reverse("incoming_file_download", args=[order.file_id])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == raw
    assert "filename*=utf-8''%D0%A2%D3%A9%D0%BB%D0%B5%D0%BC" in response["Content-Disposition"]
    entry = AccessLog.objects.get(view="incoming_file_download")
    assert entry.kind == AccessLog.Kind.EXPORT
    assert set(entry.query["iins"]) >= {people[1].iin, people[2].iin, order.payer_idn}
    assert client.get(reverse("incoming_file_download", args=[10**9])).status_code == 404
