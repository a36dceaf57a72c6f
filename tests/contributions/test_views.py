"""The staff screens: upload, filters, an order, the deadline page, returns, a payer."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from contributions.models import IncomingFile, OrderStatus, PaymentOrder, ReturnReason
from contributions.services import intake_file, process_order
from records.services import Actor
from tests.conftest import PAYER, line_for, order_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user) -> Client:
    client = Client()
    client.force_login(make_user("head_of_service"))
    return client


def test_upload_many_files_stores_each_and_shows_their_orders(staff, people) -> None:
    good = order_text([line_for(people[1])])
    response = staff.post(
        reverse("order_upload"),
        {
            "order_files": [
                SimpleUploadedFile("a.mt102", good.encode()),
                SimpleUploadedFile("junk.txt", b"not an order"),
            ],
            "received": "24.11.2023",
        },
    )
    assert response.status_code == 302
    assert IncomingFile.objects.count() == 2
    assert set(IncomingFile.objects.values_list("door", flat=True)) == {"upload"}
    page = staff.get(response["Location"])
    body = page.content.decode()
    assert "SO231124000009" in body
    assert "hx-trigger" in body  # live progress while an order is open
    statuses = set(PaymentOrder.objects.values_list("status", flat=True))
    assert statuses == {OrderStatus.RECEIVED, OrderStatus.NEEDS_REVIEW}


def test_a_future_receipt_date_is_refused(staff, people) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).strftime("%d.%m.%Y")
    response = staff.post(
        reverse("order_upload"),
        {"order_files": [SimpleUploadedFile("a.mt102", b"x")], "received": tomorrow},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["received"]
    assert not IncomingFile.objects.exists()


def _processed(people, received: date, **kwargs) -> PaymentOrder:
    result = intake_file(
        raw=order_text([line_for(people[2]), line_for(people[3], iin="850615300012")], **kwargs).encode(),
        file_name="o.mt102",
        door="command",
        actor=Actor(label="test"),
        received=received,
    )
    process_order(order_id=result.orders[0].pk, actor=Actor(label="test"))
    return PaymentOrder.objects.get(pk=result.orders[0].pk)


def test_filters_and_the_order_page(staff, people) -> None:
    order = _processed(people, date(2023, 11, 24))
    listing = staff.get(reverse("order_list"), {"status": "partially_returned", "payer": PAYER}).content.decode()
    assert order.reference in listing
    assert order.reference not in staff.get(reverse("order_list"), {"status": "posted"}).content.decode()
    with translation.override("kk"):  # the pages' default language: labels, not codes
        partially, unknown = str(OrderStatus.PARTIALLY_RETURNED.label), str(ReturnReason.UNKNOWN_IIN.label)
    assert f"{partially}: 1" in listing
    assert "partially_returned:" not in listing
    bad = staff.get(reverse("order_list"), {"payer": "123"})
    assert bad.context["form"].errors["payer"]
    assert order.reference not in bad.content.decode()  # a wrong filter matches nothing
    detail = staff.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert unknown in detail
    assert ">unknown_iin<" not in detail
    assert "unknown_iin:" not in detail
    assert order.return_document.number in detail
    from records.models import AccessLog

    read = AccessLog.objects.get(view="order_detail")
    shown = sorted([PAYER, people[2].iin, "850615300012"])
    assert (read.kind, read.query) == ("view", {"order": order.pk, "page": 1, "iins": shown})


def test_the_deadline_page_lists_late_and_due_orders(staff, people) -> None:
    late = intake_file(
        raw=order_text([line_for(people[4])], reference="LATE1", number="1").encode(),
        file_name="late.mt102",
        door="command",
        actor=Actor(label="test"),
        received=date(2026, 11, 18),  # deadline: the end of Thu 19 November 2026, long past
    ).orders[0]
    review = intake_file(
        raw=order_text([line_for(people[5])], reference="LATE2", number="2", knp="010").encode(),
        file_name="review.mt102",
        door="command",
        actor=Actor(label="test"),
        received=date(2026, 11, 18),
    ).orders[0]
    assert review.status == OrderStatus.NEEDS_REVIEW
    page = staff.get(reverse("deadlines"))
    assert page.status_code == 200
    sections = {section["state"]: section for section, _title, _css in page.context["sections"]}
    assert set(sections["late"]["orders"]) == {late, review}  # waiting for a worker or for a person
    assert sections["late"]["count"] == 2
    assert "LATE1" in page.content.decode()


def test_the_deadline_page_shows_the_full_count_and_links_to_the_rest(staff, people, monkeypatch) -> None:
    from contributions import views

    monkeypatch.setattr(views, "DEADLINE_ROWS", 1)
    for number in ("1", "2"):
        intake_file(
            raw=order_text([line_for(people[4])], reference=f"LATE{number}", number=number).encode(),
            file_name="late.mt102",
            door="command",
            actor=Actor(label="test"),
            received=date(2026, 11, 18),
        )
    page = staff.get(reverse("deadlines"))
    sections = {section["state"]: section for section, _title, _css in page.context["sections"]}
    assert (len(sections["late"]["orders"]), sections["late"]["count"]) == (1, 2)
    assert f"{reverse('order_list')}?deadline_state=late" in page.content.decode()


def test_returns_page_download_and_payer_page(staff, people) -> None:
    order = _processed(people, date(2023, 11, 24))
    document = order.return_document
    assert document.number in staff.get(reverse("return_document_list")).content.decode()
    csv = staff.get(reverse("return_document_download", args=[document.pk, "csv"]))
    assert csv["Content-Disposition"].startswith("attachment")
    from records.models import AccessLog

    export = AccessLog.objects.get(view="return_document_download")
    assert (export.kind, export.row_count) == ("export", 1)
    assert "850615300012" in csv.content.decode()
    assert staff.get(reverse("return_document_download", args=[document.pk, "exe"])).status_code == 404
    payer = staff.get(reverse("payer_detail", args=[PAYER])).content.decode()
    assert order.reference in payer
    assert document.number in payer  # the payer's return documents are on his page
    assert payer.count(f'href="{reverse("payer_detail", args=[PAYER])}"') == 0  # no column of himself
    assert staff.get(reverse("payer_detail", args=["990140004654"])).status_code == 404
    listing = reverse("return_document_list")
    assert document.number in staff.get(listing, {"payer": PAYER}).content.decode()
    assert document.number not in staff.get(listing, {"payer": "990140004654"}).content.decode()
    assert document.number not in staff.get(listing, {"payer": "' OR 1=1"}).content.decode()  # matches nothing


def test_the_sweep_flags_due_and_late_orders_once(people) -> None:
    from contributions.services import flag_deadlines
    from records.models import AuditEvent

    late = intake_file(
        raw=order_text([line_for(people[5])], reference="LATE2", number="2").encode(),
        file_name="l.mt102",
        door="command",
        actor=Actor(label="test"),
        received=date(2026, 11, 18),
    ).orders[0]
    friday = timezone.make_aware(datetime(2026, 11, 19, 9, 0))  # the deadline day itself
    assert flag_deadlines(actor=Actor(label="test"), now=friday) == {"due_today": 1, "late": 0}
    late.refresh_from_db()
    assert late.deadline_flag == "due_today"
    assert flag_deadlines(actor=Actor(label="test")) == {"due_today": 0, "late": 1}
    assert flag_deadlines(actor=Actor(label="test")) == {"due_today": 0, "late": 0}  # flagged once
    late.refresh_from_db()
    assert (late.deadline_flag, late.flagged_at is not None) == ("late", True)
    event = AuditEvent.objects.get(action="orders.late")
    assert event.data["orders"] == [late.pk]


def test_error_pages_are_the_apps_own_and_translated(make_user) -> None:
    from django.test import RequestFactory
    from django.views.defaults import server_error

    specialist = Client(HTTP_ACCEPT_LANGUAGE="ru")
    specialist.force_login(make_user("specialist"))
    denied = specialist.get(reverse("deadlines"))  # a specialist does not monitor the deadlines
    assert denied.status_code == 403
    assert "Доступ запрещен" in denied.content.decode()
    assert reverse("order_list") in denied.content.decode()  # the menu is there, to go on working
    missing = specialist.get(reverse("order_detail", args=[999_999]))
    assert missing.status_code == 404
    assert "Страница не найдена" in missing.content.decode()
    with translation.override("kk"):
        failed = server_error(RequestFactory().get("/"))
    assert failed.status_code == 500
    assert "Сервер қатесі" in failed.content.decode()


def test_an_administrator_without_a_role_is_not_told_he_has_none(admin_client) -> None:
    page = admin_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You hold no role yet" not in page
    assert "every permission is yours" in page
    assert reverse("order_list") in page


@pytest.mark.parametrize(
    ("seconds", "english", "russian"),
    [
        (None, "—", "—"),
        (2.345, "2.3 s", "2,3 с"),
        (59.97, "1 min 0 s", "1 мин 0 с"),
        (125, "2 min 5 s", "2 мин 5 с"),
        (3 * 3600 + 60 * 7, "3 h 7 min", "3 ч 7 мин"),
        (2 * 86400 + 3600, "2 d 1 h", "2 д 1 ч"),
    ],
)
def test_processing_time_is_worded_in_the_readers_language(seconds, english, russian) -> None:
    from contributions.templatetags.contributions_labels import duration_label

    assert duration_label(seconds) == english
    with translation.override("ru"):
        assert duration_label(seconds) == russian


@pytest.mark.parametrize(
    ("value", "english", "russian"),
    [
        (None, "—", "—"),
        (Decimal("0"), "0.00", "0,00"),
        (Decimal("35000"), "35,000.00", "35\xa0000,00"),
        (Decimal("-1234567.5"), "-1,234,567.50", "-1\xa0234\xa0567,50"),
    ],
)
def test_money_is_written_with_grouped_thousands_in_the_readers_language(value, english, russian) -> None:
    from records.formatting import money

    with translation.override("en"):
        assert money(value) == english
    with translation.override("ru"):
        assert money(value) == russian
    with translation.override("kk"):
        assert money(value) == russian


def test_the_favicon_is_the_apps_icon(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")


def test_the_personal_account_is_read_a_page_at_a_time_newest_first(settings, people, make_user) -> None:
    """A participant with more entries than a page: the newest periods first, the rest on the
    next page of the account (its own page parameter, so other lists keep theirs)."""
    from contributions.panels import ACCOUNT_PAGE_SIZE
    from records.models import Participant

    person = people[3]
    months = ACCOUNT_PAGE_SIZE + 5
    periods = [(2010 * 12 + i) for i in range(months)]
    lines = [line_for(person, period=f"{p % 12 + 1:02d}{p // 12}") for p in periods]
    raw = order_text(lines, reference="ACC1", number="1")
    (order,) = intake_file(
        raw=raw.encode(), file_name="a.mt102", door="upload", actor=Actor(label="test"), received=date(2023, 11, 24)
    ).orders
    process_order(order_id=order.pk, actor=Actor(label="test"))
    participant = Participant.objects.get(iin=person.iin)
    client = Client()
    client.force_login(make_user("specialist"))
    url = reverse("participant_detail", args=[participant.pk])

    first = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    newest, oldest = periods[-1], periods[0]
    assert f"{newest // 12}-{newest % 12 + 1:02d}" in first
    assert f"{oldest // 12}-{oldest % 12 + 1:02d}" not in first
    assert first.count("<td>Social contribution</td>") == ACCOUNT_PAGE_SIZE
    assert f"In all: {months}" in first
    following = re.search(r'rel="next" href="\?([^"]+)"', first)
    assert following is not None
    assert "account_after=" in following.group(1)

    second = client.get(f"{url}?{html.unescape(following.group(1))}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{oldest // 12}-{oldest % 12 + 1:02d}" in second
    assert second.count("<td>Social contribution</td>") == 5
    assert 'rel="next"' not in second
    assert 'rel="prev"' in second

    last = client.get(url, {"account_page": "last"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{oldest // 12}-{oldest % 12 + 1:02d}" in last  # the oldest page, whatever its size
    assert f'<td class="text-nowrap">{newest // 12}-{newest % 12 + 1:02d}</td>' not in last  # the chart has it


def test_the_review_queue_lists_only_the_orders_that_need_review(people, senior_specialist) -> None:
    """Emptying the queue's filter (it listed every order) survived the whole suite."""
    from contributions.services import order_resolve_review
    from tests.conftest import take_in

    (posted,) = take_in(order_text([line_for(people[20])], reference="Q1", number="1"))
    (waiting,) = take_in(order_text([line_for(people[21])], reference="Q2", number="2", knp="010"))
    (resolved,) = take_in(order_text([line_for(people[22])], reference="Q3", number="3", knp="010"))
    order_resolve_review(order_id=resolved.pk, actor=senior_specialist, note="Не наш КНП")
    client = Client()
    client.force_login(senior_specialist)
    shown = [order.pk for order in client.get(reverse("review_queue")).context["page"].object_list]
    assert (posted.status, waiting.status) == ("posted", "needs_review")
    assert shown == [waiting.pk]
