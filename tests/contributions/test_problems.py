"""Problems with an order are stored as templates with parameters and worded in the reader's
language (contributions/problems.py): a page in Kazakh or Russian shows them translated, the
programs' doors (ingest --json, the API) in English."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from contributions.models import OrderStatus, PaymentOrder
from contributions.parsers.mt102 import parse_mt102
from contributions.problems import MAX_PROBLEMS, Amount, Problem, capped, stored, word
from contributions.services import intake_file
from records.services import Actor
from tests.conftest import line_for, order_text

ACTOR = Actor(label="test")


def test_a_problem_is_worded_in_english_and_in_the_active_language() -> None:
    problem = Problem(12, "unknown tag :%(tag)s:", tag="99")
    stored = problem.as_json()
    assert stored == {"line": 12, "message": "unknown tag :%(tag)s:", "params": {"tag": "99"}}
    assert word(stored, translate=False) == "line 12: unknown tag :99:"
    assert str(problem) == "line 12: unknown tag :99:"
    with translation.override("ru"):
        assert word(stored) == "строка 12: неизвестное поле :99:"
    with translation.override("kk"):
        assert word(stored) == "12-жол: белгісіз өріс :99:"


def test_a_reason_inside_a_problem_is_translated_too() -> None:
    order = parse_mt102(order_text([line_for_amount("12,345")]).encode()).orders[0]
    (problem,) = order.errors
    assert problem.message == ":32B: amount '12,345' has more than two decimals"
    stored = json.loads(json.dumps(problem.as_json()))  # as it comes back from the JSON column
    with translation.override("ru"):
        assert word(stored).endswith(":32B: в сумме '12,345' больше двух знаков после запятой")


def test_an_amount_in_a_problem_is_written_as_the_readers_language_writes_money() -> None:
    from decimal import Decimal

    problem = Problem(
        0,
        "the lines add up to %(sum)s, the order total is %(total)s",
        sum=Amount(Decimal("35000")),
        total=Amount(Decimal("1234567.5")),
    )
    stored = json.loads(json.dumps(problem.as_json()))
    assert stored["params"] == {"sum": {"amount": "35000.00"}, "total": {"amount": "1234567.50"}}
    # The programs' doors keep plain figures.
    assert word(stored, translate=False) == "the lines add up to 35000.00, the order total is 1234567.50"
    with translation.override("en"):
        assert word(stored) == "the lines add up to 35,000.00, the order total is 1,234,567.50"
    with translation.override("ru"):
        assert "35\xa0000,00" in word(stored)
        assert "1\xa0234\xa0567,50" in word(stored)
    with translation.override("kk"):
        assert "35\xa0000,00" in word(stored)
    # Rows stored before amounts were marked hold plain strings, shown as they are.
    with translation.override("ru"):
        assert "35000.00" in word(
            {"line": 0, "message": stored["message"], "params": {"sum": "35000.00", "total": "1.00"}}
        )


def test_text_stored_before_problems_had_templates_is_shown_as_it_is() -> None:
    with translation.override("ru"):
        assert word("line 3: garbled tag: ':2x'") == "line 3: garbled tag: ':2x'"


def test_a_template_without_a_translation_is_shown_in_english() -> None:
    with translation.override("kk"):
        assert word({"line": 0, "message": "no such template %(x)s", "params": {"x": 1}}) == "no such template 1"


def test_problems_are_stored_up_to_a_limit_and_counted_after_it() -> None:
    """Megabytes of garbage must not store tens of thousands of problems on one order."""
    problems = [Problem(line, "text outside a message") for line in range(1, 15_001)]
    kept = stored(problems)
    assert len(kept) == MAX_PROBLEMS + 1
    assert kept[:MAX_PROBLEMS] == [problem.as_json() for problem in problems[:MAX_PROBLEMS]]
    assert word(kept[-1], translate=False) == f"line {MAX_PROBLEMS + 1}: 14900 further problems are not listed"
    with translation.override("ru"):
        assert word(kept[-1]) == f"строка {MAX_PROBLEMS + 1}: ещё проблем, не вошедших в список: 14900"
    assert stored(problems[:MAX_PROBLEMS]) == [problem.as_json() for problem in problems[:MAX_PROBLEMS]]
    assert capped(problems[:3], limit=2) == [
        *problems[:2],
        Problem(3, "%(count)s further problems are not listed", count=1),
    ]


def line_for_amount(amount: str):
    from contributions.synthetic import LineSpec

    return LineSpec("000321576296", "ОМАРОВ", "ИВАН", "", date(1990, 1, 1), "102023", amount)


@pytest.mark.django_db
def test_the_order_page_shows_problems_in_the_readers_language(make_user, people) -> None:
    text = order_text([line_for(people[1])], knp="010")
    (order,) = intake_file(raw=text.encode(), file_name="o.mt102", door="upload", actor=ACTOR).orders
    assert order.status == OrderStatus.NEEDS_REVIEW
    client = Client()
    client.force_login(make_user("head_of_service"))
    url = reverse("order_detail", args=[order.pk])
    russian = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "КНП 010 не входит в коды, которые зачисляет Госкорпорация" in russian
    assert "is not a code" not in russian
    kazakh = client.get(url, HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    assert "ТМК 010 Мемлекеттік корпорация есепке алатын кодтарға жатпайды" in kazakh


@pytest.mark.django_db
def test_ingest_json_and_the_api_give_problems_in_english(make_user, people, tmp_path) -> None:
    path = tmp_path / "o.mt102"
    path.write_text(order_text([line_for(people[2])], knp="010"))
    out = StringIO()
    with translation.override("kk"):
        call_command("ingest", str(path), "--json", stdout=out)
    (summary,) = json.loads(out.getvalue())
    assert summary["errors"] == ["line 1: KNP 010 is not a code the State Corporation posts"]
    order = PaymentOrder.objects.get()
    client = Client()
    client.force_login(make_user("head_of_service"))
    answer = client.get(f"/api/v1/orders/{order.pk}/", HTTP_ACCEPT_LANGUAGE="ru").json()
    assert answer["errors"] == summary["errors"]


@pytest.mark.django_db
def test_the_admin_shows_problems_worded_and_escaped(make_user, people) -> None:
    text = order_text([line_for(people[3])], knp="010").replace(":20:SO231124000009", ":20:<b>X</b>")
    (order,) = intake_file(raw=text.encode(), file_name="o.mt102", door="upload", actor=ACTOR).orders
    order.errors = [*order.errors, Problem(7, "garbled tag: %(text)s", text="'<script>'").as_json()]
    order.save(update_fields=["errors"])
    client = Client()
    client.force_login(make_user("head_of_service"))
    page = client.get(reverse("admin:contributions_paymentorder_change", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="ru")
    html = page.content.decode()
    assert "КНП 010 не входит в коды, которые зачисляет Госкорпорация" in html
    assert "строка 7: искаженное поле: &#x27;&lt;script&gt;&#x27;" in html
    assert "<script>'" not in html


def test_stored_parameters_that_no_longer_fit_the_template_are_shown_not_raised() -> None:
    stored = {"line": 2, "message": "unknown tag :%(tag)s:", "params": {"other": "1"}}
    assert word(stored, translate=False) == "line 2: unknown tag :%(tag)s: (other=1)"
    with translation.override("ru"):
        assert word(stored).startswith("строка 2: unknown tag :%(tag)s:")


def po_entries(path) -> list[dict[str, str]]:
    """The entries of a .po file as {keyword: text} (msgid, msgstr, msgid_plural, ...)."""
    import ast

    entries: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            if current:
                entries.append(current)
            current, key = {}, ""
            continue
        if line.startswith('"'):
            current[key] += ast.literal_eval(line)
            continue
        key, _, rest = line.partition(" ")
        current[key] = ast.literal_eval(rest)
    if current:
        entries.append(current)
    return entries


def test_every_translation_keeps_the_placeholders_of_its_message() -> None:
    """msgfmt -c does not catch a named placeholder dropped or misspelt in a translation; a page
    would then show the problem without its value (or in English)."""
    import re
    from pathlib import Path

    from django.conf import settings

    placeholder = re.compile(r"%\((\w+)\)[sd]")
    files = sorted(Path(settings.BASE_DIR, "locale").glob("*/LC_MESSAGES/django.po"))
    assert len(files) == 2
    checked, wrong = 0, []
    for po in files:
        for entry in po_entries(po):
            msgid, msgstr = entry.get("msgid", ""), entry.get("msgstr", "")
            if not msgid or not msgstr:
                continue
            checked += 1
            if sorted(placeholder.findall(msgid)) != sorted(placeholder.findall(msgstr)):
                wrong.append((po.parent.parent.name, msgid, msgstr))
    assert checked > 400
    assert wrong == []
