"""Duplicates and conflicts of incoming payment orders (conventions: "Incoming payment orders").

The key (payer IIN/BIN, reference, number, document date) is normalised before comparison, so
``0777`` and ``777`` or a lowercase reference cannot post the same money twice. An order whose
key was taken before *and whose contents are the same* is a duplicate; the same key with *other*
contents is a conflict for staff to review, never silently dropped.
"""

from __future__ import annotations

import hashlib
import unicodedata
from decimal import Decimal

from django.db import connection
from django.utils.translation import gettext_noop

from contributions.models import PaymentOrder
from contributions.parsers.base import ParsedOrder
from contributions.problems import Problem


def _text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).split()).upper()


def order_key(order: ParsedOrder) -> str | None:
    """The normalised duplicate key, or None when the order has none: payer IIN/BIN, reference
    (case and spacing ignored), number (also leading zeros ignored) and document date."""
    key = order.duplicate_key
    if key is None:
        return None
    payer, reference, number, on = key
    return "|".join((payer.strip(), _text(reference), _text(number).lstrip("0") or "0", on.isoformat()))


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"  # 7000, 7000.0 and 7000.00 read alike


def content_checksum(order: ParsedOrder, key: str | None) -> str:
    """SHA-256 of what the order says (key, parties, totals and every line, in order): two orders
    with the same key are the same order only when this is equal too."""
    parts: list[str] = [
        key or "",
        order.payer_name,
        order.payer_account,
        order.payer_bic,
        order.payee_idn,
        order.payee_bic,
        order.payee_account,
        order.knp,
        str(order.value_date or ""),
        order.currency,
        _amount(order.total),
    ]
    parts += [
        f"{ln.iin}\x1f{ln.last_name}\x1f{ln.first_name}\x1f{ln.patronymic}\x1f{ln.birth_date or ''}\x1f"
        f"{ln.period or ln.period_text}\x1f{'' if ln.amount is None else f'{ln.amount:.2f}'}"
        for ln in order.lines
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def lock_payers(payers: set[str]) -> None:
    """Serialise intake per payer so two files with the same order cannot both be originals."""
    with connection.cursor() as cursor:
        for payer in sorted(payers):
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", [f"payer:{payer}"])


def existing_originals(keys: list[str]) -> dict[str, tuple[int, str]]:
    """Key -> (order id, content checksum) of the originals already taken in."""
    if not keys:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT key, id, content_sha256 FROM contributions_paymentorder WHERE is_original AND key = ANY(%s)",
            [keys],
        )
        return {key: (pk, checksum) for key, pk, checksum in cursor.fetchall()}


def conflict(
    order: ParsedOrder,
    first_id: int | None,
    first_in_file: dict[str, tuple[int, str]],
    key: str,
    originals: list[tuple[ParsedOrder, PaymentOrder]],
) -> Problem:
    """The same key as an order taken in before, with other contents: not a duplicate to drop
    silently but a conflict for staff (conventions: "Incoming payment orders")."""
    if first_id is not None:
        return Problem(
            order.first_line,
            gettext_noop(
                "payment order %(order)s has the same payer, reference, number and document date"
                " but other contents: a staff member must review this order"
            ),
            order=first_id,
        )
    first = originals[first_in_file[key][0]][0]
    return Problem(
        order.first_line,
        gettext_noop(
            "the order at line %(first)s of this file has the same payer, reference, number and"
            " document date but other contents: a staff member must review this order"
        ),
        first=first.first_line,
    )
