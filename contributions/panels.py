"""The personal account on the participant page: entries by period, newest first, a page at a
time, and a chart of monthly contributions (Rules, paragraph 7 item 4)."""

from __future__ import annotations

from itertools import groupby

from django.core.paginator import Paginator
from django.http import HttpRequest

from contributions.models import EntryKind
from contributions.selectors import account_entries, account_totals, monthly_contributions
from records.models import Participant
from records.panels import Panel

# Entries per page: a working life of monthly contributions from a few employers fits in a few
# pages; a participant with many employers is still read a page at a time.
ACCOUNT_PAGE_SIZE = 120
ACCOUNT_PAGE_PARAM = "account_page"


def personal_account_panel(request: HttpRequest, participant: Participant) -> Panel | None:
    if not request.user.has_perm("contributions.view_ledgerentry"):
        return None
    entries = account_entries(participant).reverse()
    page = Paginator(entries, ACCOUNT_PAGE_SIZE).get_page(request.GET.get(ACCOUNT_PAGE_PARAM))
    periods = [(period, list(items)) for period, items in groupby(page.object_list, key=lambda e: e.period)]
    chart = monthly_contributions(participant)
    return Panel(
        template="contributions/_personal_account.html",
        context={
            "periods": periods,
            "page": page,
            "page_param": ACCOUNT_PAGE_PARAM,
            "totals": [(EntryKind(kind).label, total) for kind, total in account_totals(participant).items()],
            "chart": {"labels": [m for m, _ in chart], "values": [v for _, v in chart]},
            "can_refund": request.user.has_perm("contributions.add_refund"),
        },
    )
