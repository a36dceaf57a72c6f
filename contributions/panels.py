"""The personal account on the participant page: entries by period and a chart of monthly
contributions (Rules, paragraph 7 item 4)."""

from __future__ import annotations

from itertools import groupby

from django.http import HttpRequest

from contributions.models import EntryKind
from contributions.selectors import account_entries, account_totals, monthly_contributions
from records.models import Participant
from records.panels import Panel


def personal_account_panel(request: HttpRequest, participant: Participant) -> Panel | None:
    if not request.user.has_perm("contributions.view_ledgerentry"):
        return None
    entries = list(account_entries(participant))
    periods = [(period, list(items)) for period, items in groupby(reversed(entries), key=lambda e: e.period)]
    chart = monthly_contributions(participant)
    return Panel(
        template="contributions/_personal_account.html",
        context={
            "periods": periods,
            "totals": [(EntryKind(kind).label, total) for kind, total in account_totals(participant).items()],
            "chart": {"labels": [m for m, _ in chart], "values": [v for _, v in chart]},
            "can_refund": request.user.has_perm("contributions.add_refund"),
        },
    )
