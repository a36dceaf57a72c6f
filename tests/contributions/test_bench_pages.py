"""``manage.py bench_pages``: at a tiny size, the benchmark builds both databases, requests every
page on both as the role that uses it (each answered 200, or the command fails), prints one
JSON line with every figure, and drops its databases. No time is asserted."""

from __future__ import annotations

import io
import json

import psycopg
from django.core.management import call_command
from django.db import connection

from contributions.benchmarks.pages import PAGE_NAMES

PARTICIPANTS = 2_000
ENTRIES = 20_000

PAGES = {
    "participant_typical",
    "participant_typical_last",
    "participant_heavy",
    "participant_heavy_last",
    "search_iin",
    "search_common_prefix",
    "search_rare_prefix",
    "orders",
    "orders_last",
    "orders_payer",
    "orders_payer_last",
    "orders_status",
    "orders_status_last",
    "order_detail",
    "returns",
    "access_log",
    "access_log_iin",
    "refunds",
    "api_participant",
    "api_order",
}


def _bench_databases() -> set[str]:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params, autocommit=True) as admin:
        rows = admin.execute("SELECT datname FROM pg_database WHERE datname LIKE 'benchpages\\_%'").fetchall()
    return {row[0] for row in rows}


def test_bench_pages_measures_every_page_at_both_sizes(django_db_blocker) -> None:
    before = _bench_databases()
    name_before = connection.settings_dict["NAME"]
    out = io.StringIO()
    with django_db_blocker.unblock():  # the command opens its own databases, never the test one
        call_command(
            "bench_pages", participants=PARTICIPANTS, entries=ENTRIES, requests=3, stdout=out, stderr=io.StringIO()
        )
    result = json.loads(out.getvalue().strip().splitlines()[-1])

    assert set(PAGE_NAMES) == PAGES
    assert [page["page"] for page in result["pages"]] == list(PAGE_NAMES)
    for page in result["pages"]:
        for size in ("full", "small"):
            figures = page[size]
            assert figures["p50_ms"] > 0, page
            assert figures["p95_ms"] >= figures["p50_ms"], page
            assert isinstance(figures["queries"], int), page
            assert figures["queries"] > 0, page
        assert page["ratio_p95"] > 0
        assert page["same_queries"] == (page["full"]["queries"] == page["small"]["queries"])
    targets = result["targets"]
    assert set(targets) == {"ratio_p95", "full_p95_ms", "same_queries", "all_met"}
    assert all(set(target["missed"]) <= PAGES for key, target in targets.items() if key != "all_met")

    # The sizes asked for, the small database at 1/100 of them, counted in the databases.
    full, small = result["sizes"]["full"], result["sizes"]["small"]
    assert (full["participants"], full["ledger_entries"]) == (PARTICIPANTS, ENTRIES)
    assert (small["participants"], small["ledger_entries"]) == (PARTICIPANTS // 100, ENTRIES // 100)
    assert (full["payment_orders"], small["payment_orders"]) == (ENTRIES // 100, ENTRIES // 10_000)
    assert full["order_lines"] > ENTRIES  # one per entry, the returned lines and those of open orders
    assert (full["heavy_participants"], full["heavy_entries_each"]) == (1, 2_000)
    assert all(full[table] > 0 for table in ("incoming_files", "return_documents", "refunds", "access_log"))
    assert set(result["build_seconds"]) == {"full", "small"}
    assert result["requests"] == 3

    assert not _bench_databases() - before  # both throwaway databases are dropped
    assert connection.settings_dict["NAME"] == name_before  # and Django points where it did
