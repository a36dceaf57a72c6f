"""The monthly report (``payments.selectors.reports``) as tables in the reader's language: the
same tables make the page, the XLSX (a sheet each) and the CSV (one section each), so that the
three never say different things.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from contributions.models import EntryKind, OrderStatus, ReturnReason
from payments.models import (
    DecisionKind,
    DecisionState,
    MonthlyReport,
    PaymentType,
    RecipientStatus,
    RecoveryReason,
)
from records.spreadsheets import table_csv, tables_xlsx


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: Sequence[str]
    rows: list[list[Any]]


def _money(text: str) -> Decimal:
    return Decimal(text)


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def report_tables(figures: dict[str, Any]) -> list[Table]:
    c, r, p = figures["contributions"], figures["recipients"], figures["payments"]
    kinds = c["by_kind"]
    summary = [
        [_("Payment orders received"), c["orders"]["received"], None],
        [_("Payment orders processed"), c["orders"]["processed"], None],
        [_("Participants credited with contributions"), c["participants"], None],
        [_label(EntryKind, "contribution"), kinds["contribution"]["count"], _money(kinds["contribution"]["sum"])],
        [_label(EntryKind, "penalty"), kinds["penalty"]["count"], _money(kinds["penalty"]["sum"])],
        [_("Lines returned to the payers"), c["returned"]["lines"], _money(c["returned"]["sum"])],
        [_("Refunds posted"), c["refunds"]["count"], _money(c["refunds"]["sum"])],
        [_("Recipients paid"), sum(r["paid_by_type"].values()), None],
        [_("Payments made (gross)"), p["made"]["count"], _money(p["made"]["gross"])],
        [_("Pension contributions withheld"), None, _money(p["made"]["withheld"])],
        [_("Payments made (net)"), p["made"]["count"], _money(p["made"]["net"])],
        [_("Payments returned by the banks"), p["returned"]["count"], _money(p["returned"]["sum"])],
        [_("Payments to recover"), p["recovered"]["count"], _money(p["recovered"]["sum"])],
    ]
    checks = []
    names = {"ledger": _("Posted = processed orders - returns"), "payments": _("Credited = released lists - returns")}
    for check in figures["reconciliation"]:
        verdict = _("Reconciled") if check["ok"] else _("Differs")
        checks.append(
            [
                names[check["check"]],
                "",
                _money(check["expected"]),
                _money(check["actual"]),
                _money(check["difference"]),
                verdict,
            ]
        )
        for item in check["items"]:
            where = (
                _("order %(reference)s of %(payer)s") % {"reference": item["reference"], "payer": item["payer"]}
                if check["check"] == "ledger"
                else _("list %(list)s (%(bank)s)") % {"list": item["list"], "bank": item["bank"]}
            )
            expected = (
                _money(item["paid"]) - _money(item["returned"])
                if check["check"] == "ledger"
                else _money(item["listed"]) - _money(item["returned"])
            )
            actual = _money(item["posted"] if check["check"] == "ledger" else item["credited"])
            checks.append(["", where, expected, actual, _money(item["difference"]), _("Differs")])
    statuses = [[_label(OrderStatus, status), count] for status, count in c["orders"]["by_status"].items() if count]
    returns = [
        [_label(ReturnReason, reason), row["count"], _money(row["sum"])]
        for reason, row in c["returned"]["by_reason"].items()
    ]
    payers = [
        [
            row["idn"],
            row["name"],
            row["orders"],
            _money(row["contributions"]),
            _money(row["penalties"]),
            row["returned_lines"],
            _money(row["returned"]),
        ]
        for row in c.get("payers", [])
    ]
    paid_types = [[_label(PaymentType, kind), count] for kind, count in sorted(r["paid_by_type"].items())]
    decisions = [
        [_label(PaymentType, row["type"]), _label(DecisionKind, row["kind"]), row["count"]] for row in r["decisions"]
    ]
    by_type = [
        [
            _label(PaymentType, kind),
            row["count"],
            _money(row["gross"]),
            _money(row["withheld"]),
            _money(row["net"]),
        ]
        for kind, row in sorted(p["by_type"].items())
    ]
    recoveries = [
        [_label(RecoveryReason, reason), row["count"], _money(row["sum"])]
        for reason, row in p["recovered"]["by_reason"].items()
    ]
    count, total = _("Count"), _("Sum, KZT")
    return [
        Table("summary", _("Summary"), [_("Figure"), count, total], summary),
        Table(
            "reconciliation",
            _("Reconciliation"),
            [_("Check"), _("Where"), _("Expected"), _("Actual"), _("Difference"), _("Result")],
            checks,
        ),
        Table("orders", _("Payment orders by status"), [_("Status"), count], statuses),
        Table("returns", _("Lines returned by reason"), [_("Reason"), count, total], returns),
        Table(
            "payers",
            _("Payers"),
            [
                _("Payer IIN/BIN"),
                _("Payer"),
                _("Orders"),
                _label(EntryKind, "contribution"),
                _label(EntryKind, "penalty"),
                _("Lines returned"),
                _("Returned, KZT"),
            ],
            payers,
        ),
        Table("recipients", _("Recipients paid by payment type"), [_("Payment type"), count], paid_types),
        Table(
            "decisions",
            _("Decisions approved by payment type and kind"),
            [_("Payment type"), _("Kind of decision"), count],
            decisions,
        ),
        Table(
            "payments",
            _("Payments made by payment type"),
            [_("Payment type"), count, _("Gross"), _("Pension contributions withheld"), _("Net")],
            by_type,
        ),
        Table("recoveries", _("Payments to recover by reason"), [_("Reason"), count, total], recoveries),
    ]


def report_footer(report: MonthlyReport) -> str:
    signed = (
        _("signed off by %(user)s on %(at)s")
        % {
            "user": report.signed_by.get_username() if report.signed_by else "",
            "at": formats.date_format(timezone.localtime(report.signed_at), "SHORT_DATETIME_FORMAT")
            if report.signed_at
            else "",
        }
        if report.signed_by_id
        else str(report.get_state_display())
    )
    return _("Report for %(month)s, version %(number)s, %(state)s. SHA-256 of the figures: %(sha)s") % {
        "month": f"{report.month:%m.%Y}",
        "number": report.number,
        "state": signed,
        "sha": report.sha256,
    }


def report_xlsx(report: MonthlyReport) -> bytes:
    tables = report_tables(report.figures)
    return tables_xlsx([(table.title, table.columns, table.rows) for table in tables], cut=report_footer(report))


def report_csv(report: MonthlyReport) -> bytes:
    """One file: each table under its title, a blank line between them, the footer last."""
    parts: list[bytes] = []
    for table in report_tables(report.figures):
        parts.append(table_csv([table.title], []).removeprefix(b"\xef\xbb\xbf"))
        parts.append(table_csv(table.columns, table.rows).removeprefix(b"\xef\xbb\xbf") + b"\r\n")
    parts.append(table_csv([report_footer(report)], []).removeprefix(b"\xef\xbb\xbf"))
    return b"\xef\xbb\xbf" + b"".join(parts)


def dashboard_charts(board: Any) -> dict[str, Any]:
    """The dashboard's charts as data for the vendored Chart.js (``static/js/dashboard.js``), in
    the reader's language; each chart's numbers are also shown in a table beside it."""
    figures = board.figures
    days = board.days
    statuses = sorted({row["status"] for row in board.applications})
    types = sorted({row["type"] for row in board.applications} | {row["type"] for row in board.decisions})
    paid_types = sorted({kind for month in board.payments_by_month for kind in month["by_type"]})

    def bucket(row: dict[str, Any]) -> str:
        if row["to"] is None:
            return _("%(days)s days or more") % {"days": row["from"]}
        return _("%(low)s–%(high)s days") % {"low": row["from"], "high": row["to"]}

    return {
        "orders": {
            "labels": [f"{day['day']:%d.%m}" for day in days],
            "datasets": [
                {"label": _("Received"), "data": [day["received"] for day in days]},
                {"label": _("Processed"), "data": [day["processed"] for day in days]},
                {"label": _("Processed within one working day"), "data": [day["in_time"] for day in days]},
            ],
        },
        "in_time": {
            "labels": [_("Within one working day"), _("Later")],
            "datasets": [{"label": _("Orders processed"), "data": [board.in_time["in_time"], board.in_time["late"]]}],
        },
        "returns": {
            "labels": [_label(ReturnReason, reason) for reason in figures["contributions"]["returned"]["by_reason"]],
            "datasets": [
                {
                    "label": _("Lines returned"),
                    "data": [row["count"] for row in figures["contributions"]["returned"]["by_reason"].values()],
                }
            ],
        },
        "applications": {
            "labels": [_label(PaymentType, kind) for kind in types],
            "datasets": [
                {
                    "label": _label(RecipientStatus, status),
                    "data": [
                        sum(r["count"] for r in board.applications if r["type"] == kind and r["status"] == status)
                        for kind in types
                    ],
                }
                for status in statuses
            ],
        },
        "decisions": {
            "labels": [_label(PaymentType, kind) for kind in types],
            "datasets": [
                {
                    "label": _label(DecisionState, state),
                    "data": [
                        sum(r["count"] for r in board.decisions if r["type"] == kind and r["state"] == state)
                        for kind in types
                    ],
                }
                for state in sorted({row["state"] for row in board.decisions})
            ],
        },
        "waiting": {
            "labels": [bucket(row) for row in board.waiting],
            "datasets": [{"label": _("Decisions waiting"), "data": [row["count"] for row in board.waiting]}],
        },
        "payments": {
            "labels": [f"{month['month']:%m.%Y}" for month in board.payments_by_month],
            "datasets": [
                {
                    "label": _label(PaymentType, kind),
                    "data": [month["by_type"].get(kind, {}).get("net", "0.00") for month in board.payments_by_month],
                }
                for kind in paid_types
            ],
        },
    }
