"""The line checks made in SQL next to the registry table equal the checks made in Python
(``contributions.checks.line_reason``), line by line, on lines that differ from the registry in
every way the checks look at."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from contributions.models import LedgerEntry, OrderLine
from contributions.services import intake_file, process_order
from records.services import Actor
from tests.conftest import line_for, order_text
from tests.contributions.registries import ELSEWHERE, IN_DATABASE

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")


def _variants(people) -> list[dict[str, Any]]:
    """Lines that differ from the registry in every way the checks look at: each deviation alone
    and every pair of them, for a living person and for two deceased ones (627 lines)."""
    import itertools
    from dataclasses import replace

    from records.registry import registry_load_snapshot
    from records.synthetic import registry_csv

    alive, dead = people[12], people[0]  # people[0] died on 2023-06-10
    dead_on_the_first = replace(people[1], death_date=date(2023, 6, 1))  # the first day of a period
    registry_load_snapshot(raw=registry_csv([dead_on_the_first]), file_name="dead.csv", actor=ACTOR)
    options: dict[str, list[Any]] = {  # the first option of each is the line as the registry has it
        "iin": ["same", "bad checksum", "unknown", "spaced"],
        "last_name": ["same", "lower", "double space", "other", "yo"],
        "first_name": ["same", "lower", "other"],
        "patronymic": ["same", "empty", "spaces", "lower", "other"],
        "birth_date": ["same", "other", "none"],
        "period": [date(2023, 10, 1), date(2023, 5, 1), date(2023, 6, 1), None],
        "amount": [Decimal("100.00"), Decimal("0.00"), Decimal("-1.00"), None],
    }
    base = {name: values[0] for name, values in options.items()}
    deviations = [(name, value) for name, values in options.items() for value in values[1:]]
    variants: list[dict[str, Any]] = [{}] + [dict([d]) for d in deviations]
    variants += [dict([a, b]) for a, b in itertools.combinations(deviations, 2) if a[0] != b[0]]
    persons = (alive, dead, dead_on_the_first)
    return [{**base, **variant, "person": person} for person in persons for variant in variants]


def _apply(line: OrderLine, variant: dict[str, Any]) -> None:
    person = variant["person"]
    iin = {"same": person.iin, "bad checksum": person.iin[:-1] + str((int(person.iin[-1]) + 1) % 10),
           "unknown": "850615300012", "spaced": f" {person.iin}"}[variant["iin"]]  # fmt: skip
    line.iin = iin
    line.last_name = {"same": person.last_name, "lower": person.last_name.lower(),
                      "double space": f"{person.last_name[:2]}  {person.last_name[2:]}", "other": "ДРУГОЙ",
                      "yo": person.last_name.replace("Е", "Ё")}[variant["last_name"]]  # fmt: skip
    line.first_name = {"same": person.first_name, "lower": person.first_name.lower(), "other": "ДРУГОЙ"}[
        variant["first_name"]
    ]
    line.patronymic = {"same": person.patronymic, "empty": "", "spaces": "  ", "lower": person.patronymic.lower(),
                       "other": "ДРУГОВИЧ"}[variant["patronymic"]]  # fmt: skip
    line.birth_date = {"same": person.birth_date, "other": date(1950, 1, 2), "none": None}[variant["birth_date"]]
    line.period = variant["period"]
    line.amount = variant["amount"]


def test_checks_in_the_database_equal_the_checks_in_python(people, settings) -> None:
    """The same 627 varied lines give the same reason, line by line, and the same entries,
    whether the registry is checked in SQL (names only when exactly equal, the rest left to
    ``line_reason``) or every line in Python."""
    variants = _variants(people)
    outcomes = {}
    for backend, reference in ((IN_DATABASE, "INDB"), (ELSEWHERE, "ELSE")):
        settings.STATE_REGISTRY_BACKEND = backend
        raw = order_text([line_for(people[12])] * len(variants), reference=reference, number=reference).encode()
        (order,) = intake_file(raw=raw, file_name=f"{reference}.mt102", door="command", actor=ACTOR).orders
        lines = list(order.lines.order_by("sequence"))
        for line, variant in zip(lines, variants, strict=True):
            _apply(line, variant)
        OrderLine.objects.bulk_update(lines, ["iin", "last_name", "first_name", "patronymic", "birth_date",
                                              "period", "amount"])  # fmt: skip
        process_order(order_id=order.pk, actor=ACTOR)
        order.refresh_from_db()
        outcomes[backend] = (
            list(order.lines.order_by("sequence").values_list("status", "reason")),
            (order.status, order.lines_posted, order.lines_returned, order.amount_posted, order.amount_returned),
            sorted(LedgerEntry.objects.filter(order=order).values_list("line__sequence", "amount")),
        )
    assert outcomes[IN_DATABASE] == outcomes[ELSEWHERE]
    reasons_seen = {reason for _, reason in outcomes[IN_DATABASE][0]}
    assert reasons_seen >= {"", "invalid_iin", "unknown_iin", "invalid_amount", "invalid_period", "name_mismatch",
                            "birth_date_mismatch", "deceased"}  # fmt: skip
