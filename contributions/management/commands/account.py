"""``manage.py account IIN [--json]``: a participant's personal account (Rules, paragraph 7)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contributions.selectors import account_entries, account_totals, money
from records.identifiers import identifier_error
from records.models import AccessLog, Participant


class Command(BaseCommand):
    help = "Print a participant's personal data and personal account entries, with totals per kind."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("iin")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, iin: str, json: bool, **options: Any) -> None:
        if identifier_error(iin) is not None:
            raise CommandError(f"{iin!r} is not a valid IIN")
        participant = Participant.objects.filter(iin=iin).first()
        if participant is None:
            raise CommandError(f"no participant with IIN {iin}")
        AccessLog.objects.create(
            actor_label="command:account", kind=AccessLog.Kind.VIEW, view="command:account", participant=participant
        )
        entries = [
            {
                "period": f"{e.period:%Y-%m}",
                "kind": e.kind,
                "amount": money(e.amount),
                "payer": e.payer_idn,
                "order_reference": e.order.reference if e.order else None,
                "received": e.received.isoformat(),
            }
            for e in account_entries(participant)
        ]
        totals = {kind: money(total) for kind, total in account_totals(participant).items()}
        data = {
            "iin": participant.iin,
            "last_name": participant.last_name,
            "first_name": participant.first_name,
            "patronymic": participant.patronymic,
            "birth_date": participant.birth_date.isoformat(),
            "gender": participant.gender,
            "death_date": participant.death_date.isoformat() if participant.death_date else None,
            "entries": entries,
            "totals": totals,
        }
        if json:
            self.stdout.write(_dumps(data))
            return
        self.stdout.write(f"{participant.iin} {participant.full_name}, born {participant.birth_date:%Y-%m-%d}")
        for e in entries:
            self.stdout.write(
                f"  {e['period']}  {e['kind']:<12} {e['amount']:>14}  payer {e['payer']}"
                f"  order {e['order_reference'] or '-'}  received {e['received']}"
            )
        for kind, total in totals.items():
            self.stdout.write(f"  total {kind}: {total}")


def _dumps(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)
