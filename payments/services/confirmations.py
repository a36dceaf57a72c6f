"""Taking in a bank's confirmation of a payment list (Rules, paragraph 12 item 25; conventions:
"Monthly payments"), like any incoming file: the raw bytes are kept first, in a transaction of
their own; the same bytes again are answered as a duplicate; then every line is matched to a
payment of the list in one transaction.

The file is CSV (UTF-8, ``;``) with a header::

    list;line;iin;amount;status;reason
    202401-01;1;850615300012;61284,27;credited;
    202401-01;2;791028302728;45020,25;not_credited;account closed

A file that cannot be read as such (not UTF-8, a cell too long, no such header, another list in
the same file, a list not released) is refused as a whole, with the place. A line that names no
payment of the list, does not match it (IIN, amount) or repeats one already confirmed is
reported with its line in the file (blank lines counted) and not taken; the other lines are.
The first ``MAX_PROBLEMS`` problems are listed, the others counted. A payment not credited
becomes a return (paid again once the account is corrected). A file kept whose reading failed
is read when the same bytes come again.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from contributions.services.common import DomainError
from payments.models import (
    ConfirmationFile,
    ConfirmationLine,
    ConfirmationState,
    Payment,
    PaymentList,
    PaymentReturn,
    RunState,
)
from records.services import Actor, audit_record, with_history_context

HEADER = ["list", "line", "iin", "amount", "status", "reason"]
CREDITED = {"credited": True, "1": True, "not_credited": False, "0": False}
MAX_BYTES = 50 * 1024 * 1024
# Lines with problems listed one by one; past it, one more entry counts them (a 50 MB file of
# bad lines would otherwise be a million entries on every page and answer that shows it).
MAX_PROBLEMS = 1000


@dataclass
class ConfirmationResult:
    file: ConfirmationFile
    duplicate: bool = False
    problems: list[dict[str, Any]] = field(default_factory=list)


Problem = dict[str, Any]


def _problem(line: int | None, message: str) -> Problem:
    return {"line": line, "message": message}


def _store(*, raw: bytes, file_name: str, actor: User) -> tuple[ConfirmationFile, bool]:
    """Kept first, committed on its own: whatever happens next, the bytes are there."""
    digest = hashlib.sha256(raw).hexdigest()
    existing = ConfirmationFile.objects.filter(sha256=digest).defer("raw").first()
    if existing is not None:
        # Kept but never read (the reading failed): the same bytes again are read now.
        return existing, existing.state != ConfirmationState.RECEIVED
    try:
        with transaction.atomic():
            stored = ConfirmationFile.objects.create(
                file_name=file_name[:255] or "confirmation.csv",
                raw=raw,
                sha256=digest,
                size=len(raw),
                received_by=actor,
            )
    except IntegrityError:  # the same bytes at the same moment from another request
        return ConfirmationFile.objects.defer("raw").get(sha256=digest), True
    return stored, False


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


Row = tuple[int, list[str]]  # the line of the file the row starts on, and its cells


class Unreadable(Exception):
    """The file cannot be read at all: ``problem`` says where and why."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.problem = _problem(line, message)


def _read(raw: bytes) -> list[Row]:
    """The data rows with the line of the file each starts on (blank lines skipped, but
    counted); ``Unreadable`` when the file cannot be read at all."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(None, _("The file is not UTF-8 text (byte %(at)s).") % {"at": exc.start + 1}) from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    rows: list[Row] = []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:  # a cell longer than the csv module takes (128 KB)
        raise Unreadable(start, _("Line %(line)s cannot be read: a cell is too long.") % {"line": start}) from exc
    if not rows or [cell.strip().lower() for cell in rows[0][1]] != HEADER:
        line = rows[0][0] if rows else 1
        raise Unreadable(
            line, _("Line %(line)s: the header must be %(header)s.") % {"line": line, "header": ";".join(HEADER)}
        )
    if len(rows) == 1:
        raise Unreadable(None, _("The file has no lines after its header."))
    return rows[1:]


def _refuse(stored: ConfirmationFile, problems: list[Problem], actor: User) -> ConfirmationResult:
    ConfirmationFile.objects.filter(pk=stored.pk).update(state=ConfirmationState.REFUSED, problems=problems)
    stored.state, stored.problems = ConfirmationState.REFUSED, problems
    audit_record(
        actor=Actor.of(actor), action="payments.confirmation_refused", obj=stored, data={"problems": problems[:20]}
    )
    return ConfirmationResult(stored, problems=problems)


@with_history_context
def confirmation_take_in(*, raw: bytes, file_name: str, actor: User) -> ConfirmationResult:
    """Keep the file, then take in its lines (see the module's docstring)."""
    if not actor.has_perm("payments.add_confirmationfile"):
        raise PermissionDenied
    if not raw:
        raise DomainError(_("The file is empty."))
    if len(raw) > MAX_BYTES:
        raise DomainError(_("The file is larger than %(mb)s MB.") % {"mb": MAX_BYTES // (1024 * 1024)})
    stored, duplicate = _store(raw=raw, file_name=file_name, actor=actor)
    if duplicate:
        return ConfirmationResult(stored, duplicate=True, problems=list(stored.problems))
    with transaction.atomic():
        stored = ConfirmationFile.objects.select_for_update().defer("raw").get(pk=stored.pk)
        if stored.state != ConfirmationState.RECEIVED:  # the same bytes, read meanwhile by another request
            return ConfirmationResult(stored, duplicate=True, problems=list(stored.problems))
        try:
            rows = _read(raw)
        except Unreadable as exc:
            return _refuse(stored, [exc.problem], actor)
        first_line, first = rows[0]
        number = first[0].strip()
        other = next((line for line, cells in rows if cells[0].strip() != number), None)
        if other is not None:
            return _refuse(
                stored, [_problem(other, _("A file confirms one payment list: this one names several."))], actor
            )
        payment_list = PaymentList.objects.select_related("run", "bank").filter(number=number).first()
        if payment_list is None:
            return _refuse(
                stored,
                [_problem(first_line, _("Unknown payment list: %(number)s.") % {"number": number[:30]})],
                actor,
            )
        if not _may_confirm(actor, payment_list):
            message = _("This account does not confirm the lists of bank %(bank)s.") % {"bank": payment_list.bank_id}
            return _refuse(stored, [_problem(first_line, message)], actor)
        if payment_list.run.state != RunState.RELEASED:
            message = _("Payment list %(number)s was not released to the banks.") % {"number": number}
            return _refuse(stored, [_problem(first_line, message)], actor)
        return _take_lines(stored, payment_list, rows, actor)


def _may_confirm(actor: User, payment_list: PaymentList) -> bool:
    """Staff who take in any bank's confirmation, or an account of the list's own bank
    (``Bank.confirmers``): a bank's system never confirms another bank's list."""
    if actor.has_perm("payments.confirm_any_list"):
        return True
    return payment_list.bank.confirmers.filter(pk=actor.pk).exists()


def _line_problem(cells: list[str], payment: Payment | None, number: str, repeated: bool) -> str | None:
    """What is wrong with one line of the file, or ``None``."""
    _list, line_text, iin, amount_text, status, reason = cells[:6]
    if payment is None:
        return _("List %(number)s has no line %(line)s.") % {"number": number, "line": line_text[:20]}
    if repeated:
        return _("Line %(line)s of the list was already confirmed.") % {"line": payment.line}
    if iin != payment.recipient.participant.iin:
        return _("The IIN is not the one of line %(line)s.") % {"line": payment.line}
    if _amount(amount_text) != payment.net:
        return _("The amount is not the %(net)s of line %(line)s.") % {
            "net": f"{payment.net:.2f}",
            "line": payment.line,
        }
    if status.lower() not in CREDITED:
        return _("Status must be credited or not_credited: %(value)s.") % {"value": status[:20]}
    if not CREDITED[status.lower()] and not reason:
        return _("A payment not credited needs its reason.")
    return None


def _take_lines(
    stored: ConfirmationFile, payment_list: PaymentList, rows: list[Row], actor: User
) -> ConfirmationResult:
    PaymentList.objects.select_for_update().filter(pk=payment_list.pk).first()  # one file of a list at a time
    payments = {
        payment.line: payment
        for payment in Payment.objects.filter(payment_list=payment_list).select_related("recipient__participant")
    }
    confirmed = set(
        ConfirmationLine.objects.filter(payment__payment_list=payment_list).values_list("payment__line", flat=True)
    )
    problems: list[Problem] = []
    problem_count = 0
    lines: list[ConfirmationLine] = []
    for index, row in rows:
        if len(row) > len(HEADER):
            problem_count += 1
            if problem_count <= MAX_PROBLEMS:
                problems.append(_problem(index, _("%(count)s cells, the header has 6.") % {"count": len(row)}))
            continue
        cells = [cell.strip() for cell in row] + [""] * (len(HEADER) - len(row))
        line_text = cells[1]
        line = int(line_text) if line_text.isascii() and line_text.isdigit() and len(line_text) < 10 else None
        payment = payments.get(line) if line is not None else None
        problem = _line_problem(cells, payment, payment_list.number, line in confirmed)
        if problem is not None or payment is None or line is None:
            problem_count += 1
            if problem_count <= MAX_PROBLEMS:
                problems.append(_problem(index, problem or ""))
            continue
        confirmed.add(line)
        credited = CREDITED[cells[4].lower()]
        reason = "" if credited else cells[5][:300]
        lines.append(ConfirmationLine(file=stored, line_no=index, payment=payment, credited=credited, reason=reason))
    if problem_count > MAX_PROBLEMS:
        message = _("%(count)s lines have problems in all: the first %(shown)s are listed.")
        problems.append(_problem(None, message % {"count": problem_count, "shown": MAX_PROBLEMS}))
    ConfirmationLine.objects.bulk_create(lines)
    returns = [
        PaymentReturn(payment_id=line.payment_id, line=line, reason=line.reason) for line in lines if not line.credited
    ]
    PaymentReturn.objects.bulk_create(returns)
    credited_count = len(lines) - len(returns)
    ConfirmationFile.objects.filter(pk=stored.pk).update(
        state=ConfirmationState.TAKEN,
        payment_list=payment_list,
        problems=problems,
        credited=credited_count,
        not_credited=len(returns),
    )
    stored.refresh_from_db(fields=["state", "payment_list", "problems", "credited", "not_credited"])
    audit_record(
        actor=Actor.of(actor),
        action="payments.confirmation_taken",
        obj=stored,
        data={"list": payment_list.number, "credited": credited_count, "returned": len(returns)}
        | {"problems": problem_count},
    )
    return ConfirmationResult(stored, problems=problems)
