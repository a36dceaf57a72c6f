"""``manage.py verify_audit_log [--json]``: check the audit trail's hash chains
(``records.audit_chain``) from their first link and name the first broken one of each.

Exit status 0 when both chains are intact, 1 when one is broken. The heads printed (place and
hash) are worth keeping outside the database, e.g. in the operations log: a copy of an earlier
head shows whether events were later cut from the end together with the head.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from records.audit_chain import verify


class Command(BaseCommand):
    help = "Check the hash chains of the audit events and the access log; name the first broken link."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", dest="as_json", help="print one JSON object")

    def handle(self, *args: Any, as_json: bool = False, **options: Any) -> None:
        reports = verify()
        if as_json:
            self.stdout.write(
                json.dumps({"intact": all(r.intact for r in reports), "chains": [r.as_dict() for r in reports]})
            )
        else:
            for report in reports:
                if report.intact:
                    self.stdout.write(
                        f"{report.table}: intact, {report.events} events, head {report.head_seq} {report.head_hash}"
                    )
                else:
                    link = report.broken[0]
                    where = f"place {link['seq']}" if link["seq"] is not None else "outside the chain"
                    row = f", row id {link['id']}" if link["id"] is not None else ""
                    self.stdout.write(f"{report.table}: BROKEN at {where}{row}: {link['problem']}")
        if not all(report.intact for report in reports):
            raise SystemExit(1)
