"""Periodic tasks, defined in code and written to django-celery-beat's tables by
``manage.py setup_periodic_tasks`` on every deploy (compose's migrate job, the quick start)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    task: str
    crontab: dict[str, str]
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str = "default"


PERIODIC_TASKS = [
    # Every minute: queue payment orders that were never queued or are stuck (conventions:
    # "Within one working day"; a broker outage at intake must not lose an order).
    PeriodicSpec(
        name="contributions.sweep_orders (every minute)",
        task="contributions.sweep_orders",
        crontab={"minute": "*"},
    ),
    # Every five minutes: apply registry snapshots stored but never applied (the process or the
    # database went away between storing the file and applying its rows).
    PeriodicSpec(
        name="records.sweep_registry_loads (every five minutes)",
        task="records.sweep_registry_loads",
        crontab={"minute": "*/5"},
    ),
    # Each December, load next year's holidays and transfers from the package (administrator
    # edits are kept); the calendar refuses to answer for a year it has no data for.
    PeriodicSpec(
        name="records.refresh_calendar (yearly)",
        task="records.refresh_calendar",
        crontab={"minute": "0", "hour": "3", "day_of_month": "1", "month_of_year": "12,1"},
    ),
    # Every hour: propose recalculations and terminations that a signal missed (the proposals
    # follow the ledger and the registry as they change; this catches up after an outage).
    PeriodicSpec(
        name="payments.propose (hourly)",
        task="payments.propose",
        crontab={"minute": "17"},
    ),
    # Hourly: start the month's payment run from its configured day on (PAYMENT_RUN_DAY), and
    # queue again any run a killed worker left being built (conventions: "Monthly payments").
    PeriodicSpec(
        name="payments.start_runs (hourly)",
        task="payments.start_runs",
        crontab={"minute": "41"},
    ),
    # Hourly: from its configured day (MONTHLY_REPORT_DAY), the previous month's report to the
    # authorized body, if it has none (Rules, paragraph 5).
    PeriodicSpec(
        name="payments.monthly_report (hourly)",
        task="payments.monthly_report",
        crontab={"minute": "53"},
    ),
    # Every five minutes: the current month's dashboard computed again before the kept one
    # expires (DASHBOARD_REFRESH_SECONDS, default ten minutes): the heads never wait for it.
    PeriodicSpec(
        name="payments.refresh_dashboard (every five minutes)",
        task="payments.refresh_dashboard",
        crontab={"minute": "*/5"},
    ),
    # Nightly: check the audit trail's hash chains and write their heads to the log, a copy of
    # them outside the database (records.audit_chain).
    PeriodicSpec(
        name="records.verify_audit_log (nightly)",
        task="records.verify_audit_log",
        crontab={"minute": "23", "hour": "2"},
    ),
    # Hourly: export jobs a killed worker left running are marked failed (records.export_jobs).
    PeriodicSpec(
        name="records.sweep_exports (hourly)",
        task="records.sweep_exports",
        crontab={"minute": "29"},
    ),
]
