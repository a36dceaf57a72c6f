"""The personal account on the participant page: entries by period, newest first, a page at a
time read from the index on (participant, period, posted_at, id), and a chart of monthly
contributions (Rules, paragraph 7 item 4)."""

from __future__ import annotations

from itertools import groupby

from django.http import HttpRequest

from contributions.models import EntryKind
from contributions.selectors import ENTRY_KEYS, account_entries, account_totals, monthly_contributions
from records.models import Participant
from records.paging import keyset_page
from records.panels import Panel

# Entries per page: a working life of monthly contributions from a few employers fits in a few
# pages; a participant with many employers is still read a page at a time.
ACCOUNT_PAGE_SIZE = 120
ACCOUNT_PAGE_PREFIX = "account_"  # account_page=last, account_after=…, account_before=…


def personal_account_panel(request: HttpRequest, participant: Participant) -> Panel | None:
    if not request.user.has_perm("contributions.view_ledgerentry"):
        return None
    page = keyset_page(
        request,
        account_entries(participant),
        ENTRY_KEYS,
        descending=True,
        per_page=ACCOUNT_PAGE_SIZE,
        prefix=ACCOUNT_PAGE_PREFIX,
    )
    periods = [(period, list(items)) for period, items in groupby(page.object_list, key=lambda e: e.period)]
    chart = monthly_contributions(participant)
    return Panel(
        template="contributions/_personal_account.html",
        context={
            "periods": periods,
            "page": page,
            "totals": [(EntryKind(kind).label, total) for kind, total in account_totals(participant).items()],
            "chart": {"labels": [m for m, _ in chart], "values": [v for _, v in chart]},
            "can_refund": request.user.has_perm("contributions.add_refund"),
        },
    )
