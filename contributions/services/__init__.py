"""Writes of the contributions app, one module per stage of the pipeline, read top down:

``intake`` (every door's bytes stored, then split into orders and lines; ``duplicates`` tells a
re-sent order from a conflict) → ``queueing`` (orders handed to the workers, and the sweeper) →
``posting`` (lines checked against the registry and posted to the personal accounts) → staff
decisions: ``review`` (orders returned in full) and ``refunds``; ``deadlines`` flags the
one-working-day clock. ``common`` holds what they share.

Rules, paragraphs 6-9; conventions: "Incoming payment orders", "The personal account", "Within
one working day". The names below are the services' public face; import from here.
"""

from contributions.services.common import DomainError, purpose_kinds
from contributions.services.deadlines import flag_deadlines, receipt_date_problem
from contributions.services.intake import IntakeResult, intake_file, split_file, sweep_files
from contributions.services.posting import IncompletePosting, order_count_failed_attempt, process_order
from contributions.services.queueing import enqueue_orders, sweep_orders
from contributions.services.refunds import refund_decide, refund_register, refundable
from contributions.services.review import order_resolve_review
from records.services import NOTE_MAX_LENGTH

__all__ = [
    "NOTE_MAX_LENGTH",
    "DomainError",
    "IncompletePosting",
    "IntakeResult",
    "enqueue_orders",
    "flag_deadlines",
    "intake_file",
    "order_count_failed_attempt",
    "order_resolve_review",
    "process_order",
    "purpose_kinds",
    "receipt_date_problem",
    "refund_decide",
    "refund_register",
    "refundable",
    "split_file",
    "sweep_files",
    "sweep_orders",
]
