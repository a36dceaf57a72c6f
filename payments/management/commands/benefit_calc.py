"""``manage.py benefit_calc --type TYPE --iin IIN --risk-date YYYY-MM-DD [...] [--json]``: the
amount of a social payment for any participant, with its formula's every input and the legal
parameters it used (conventions: "Benefit amounts"). No amount (an unknown participant, no
right, a missing input) is an error saying why, exit status 1."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.benefits import BenefitType, NoAmount, calculate


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--risk-date: {text!r} is not a date YYYY-MM-DD") from exc


def _percent(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:
        raise CommandError(f"--loss-degree: {text!r} is not a number") from exc


class Command(BaseCommand):
    help = "Compute a social payment's amount from a participant's personal account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--type", required=True, choices=sorted(BenefitType.CODES), dest="benefit")
        parser.add_argument("--iin", required=True)
        parser.add_argument("--risk-date", required=True, type=_day, help="the date the right arises")
        parser.add_argument("--loss-degree", type=_percent, help="disability: degree of lost ability, per cent")
        parser.add_argument("--dependents", type=int, help="loss of breadwinner: number of dependants")
        parser.add_argument("--leave-days", type=int, help="maternity: days of leave (126 or 140)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = calculate(
                benefit=options["benefit"],
                iin=options["iin"],
                risk_date=options["risk_date"],
                loss_degree=options["loss_degree"],
                dependents=options["dependents"],
                leave_days=options["leave_days"],
            )
        except NoAmount as exc:
            raise CommandError(str(exc)) from exc
        data = result.as_json()
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        self.stdout.write(
            f"{data['type']} ({data['payment_type']}), {data['iin']}, risk {data['risk_date']}, {data['law']}"
        )
        for month in data["inputs"]:
            self.stdout.write(f"  {month['period']}: {month['contributions']} ÷ {month['rate']} = {month['income']}")
        self.stdout.write(
            f"average monthly income {data['average_monthly_income']} over {data['months_in_window']} months"
        )
        self.stdout.write(f"participation {data['participation_months']} months")
        for name, value in data["coefficients"].items():
            self.stdout.write(f"  {name} = {value}")
        for note in data["notes"]:
            self.stdout.write(f"  {note}")
        for name in data["flagged"]:
            self.stdout.write(f"  not confirmed by the reference: {name}")
        duration = f" for {data['duration_months']} months" if data["duration_months"] else ""
        self.stdout.write(f"amount {data['amount']}{duration}")
