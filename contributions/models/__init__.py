"""Incoming payment orders, their lines, the personal account (ledger), return documents and
refunds (Rules, paragraphs 6-9; conventions: "Incoming payment orders", "The personal account").

Two modules of the one ``contributions`` app (app label, tables and migrations unchanged):
``orders`` (files, orders, lines, return documents) and ``ledger`` (entries, refunds), which
stands on ``orders``. Import from ``contributions.models``.
"""

from contributions.models.ledger import EntryKind, LedgerEntry, Refund, RefundStatus
from contributions.models.orders import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    DeadlineState,
    Door,
    IncomingFile,
    LineStatus,
    OrderLine,
    OrderStatus,
    PaymentOrder,
    PurposeCode,
    ReturnDocument,
    ReturnReason,
)

__all__ = [
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "DeadlineState",
    "Door",
    "EntryKind",
    "IncomingFile",
    "LedgerEntry",
    "LineStatus",
    "OrderLine",
    "OrderStatus",
    "PaymentOrder",
    "PurposeCode",
    "Refund",
    "RefundStatus",
    "ReturnDocument",
    "ReturnReason",
]
