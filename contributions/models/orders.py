"""Incoming payment orders and their lines, as received and checked, and the documents that
return failed lines to the payer (Rules, paragraph 6; conventions: "Incoming payment orders").
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from records.formatting import money
from records.models import history_options, in_language


class Door(models.TextChoices):
    UPLOAD = "upload", _("Staff upload")
    API = "api", _("API")
    COMMAND = "command", _("Command line")


class IncomingFile(models.Model):
    """What a payer's bank or a state system sent, byte for byte with its checksum, stored before
    anything else happens to it: nothing a payer sent is ever lost."""

    door = models.CharField(_("door"), max_length=10, choices=Door.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    raw = models.BinaryField(_("raw content"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    received = models.DateField(_("receipt date"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_label = models.CharField(_("submitted by"), max_length=150)
    created_at = models.DateTimeField(_("taken in at"), auto_now_add=True)
    split_at = models.DateTimeField(
        _("split into orders at"),
        null=True,
        blank=True,
        help_text=_("Empty while the stored file waits to be read and split into payment orders."),
    )

    class Meta:
        verbose_name = _("incoming file")
        verbose_name_plural = _("incoming files")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({timezone.localtime(self.created_at):%Y-%m-%d %H:%M})"


class OrderStatus(models.TextChoices):
    RECEIVED = "received", _("Received")  # stored and queued; a worker holds it locked while it works
    POSTED = "posted", _("Posted")
    PARTIALLY_RETURNED = "partially_returned", _("Partially returned")
    RETURNED = "returned", _("Returned")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    DUPLICATE = "duplicate", _("Duplicate")


FINAL_STATUSES = frozenset(
    {
        OrderStatus.POSTED,
        OrderStatus.PARTIALLY_RETURNED,
        OrderStatus.RETURNED,
        OrderStatus.NEEDS_REVIEW,
        OrderStatus.DUPLICATE,
    }
)
OPEN_STATUSES = frozenset({OrderStatus.RECEIVED})


class DeadlineState(models.TextChoices):
    """Where an order stands against its one-working-day deadline (conventions, "Within one
    working day"): open and due today or late, or finished in time or late."""

    DUE_TODAY = "due_today", _("Open, due today")
    LATE = "late", _("Open, late")
    MET = "met", _("Finished in time")
    MISSED = "missed", _("Finished late")


class PurposeCode(models.Model):
    """A payment purpose code (KNP) the State Corporation posts, effective-dated data: 012 social
    contributions, 017 penalties (Rules, paragraph 7(4); NB Board resolution No. 203)."""

    code = models.CharField(_("KNP"), max_length=3)
    ledger_kind = models.CharField(_("entry kind"), max_length=12)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment purpose code")
        verbose_name_plural = _("payment purpose codes")
        ordering = ["code", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["code", "valid_from"], name="knp_code_from_unique")]

    def __str__(self) -> str:
        return f"{self.code} {in_language(kk=self.name_kk, ru=self.name_ru, en=self.name_en)}"


@pghistory.track(**history_options(_("payment order history entry"), _("payment order history")))
class PaymentOrder(models.Model):
    """One payment order (one MT102 message, one order of a list, one JSON order).

    Ends in exactly one of the five final statuses of the conventions. ``is_original`` is false
    for duplicates and for orders whose key could not be read, so the partial unique index
    guarantees one original per payer, reference, number and document date.
    """

    file = models.ForeignKey(
        IncomingFile, on_delete=models.PROTECT, related_name="orders", verbose_name=_("incoming file")
    )
    position = models.PositiveIntegerField(_("position in the file"))
    first_line = models.PositiveIntegerField(_("first line in the file"), default=0)
    reference = models.CharField(_("reference"), max_length=35, blank=True)
    number = models.CharField(_("number"), max_length=35, blank=True)
    document_date = models.DateField(_("document date"), null=True, blank=True)
    payer_idn = models.CharField(_("payer IIN/BIN"), max_length=12, blank=True)
    payer_name = models.CharField(_("payer"), max_length=200, blank=True)
    payer_account = models.CharField(_("payer account"), max_length=34, blank=True)
    payer_bic = models.CharField(_("payer bank BIC"), max_length=11, blank=True)
    payee_idn = models.CharField(_("payee BIN"), max_length=12, blank=True)
    payee_bic = models.CharField(_("payee bank BIC"), max_length=11, blank=True)
    payee_account = models.CharField(
        _("payee account"),
        max_length=34,
        blank=True,
        help_text=_("The State Corporation account the order paid into; returns are paid back from it."),
    )
    knp = models.CharField(_("KNP"), max_length=3, blank=True)
    value_date = models.DateField(_("value date"), null=True, blank=True)
    total = models.DecimalField(_("order total"), max_digits=16, decimal_places=2, null=True, blank=True)
    received = models.DateField(_("receipt date"), db_index=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.RECEIVED)
    is_original = models.BooleanField(default=True, verbose_name=_("original"))
    key = models.CharField(
        _("duplicate key"),
        max_length=100,
        blank=True,
        help_text=_("Payer IIN/BIN, reference, number and document date, normalised (see docs/intake.md)."),
    )
    content_sha256 = models.CharField(_("content checksum"), max_length=64, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    lines_total = models.PositiveIntegerField(_("lines"), default=0)
    lines_posted = models.PositiveIntegerField(_("lines posted"), default=0)
    lines_returned = models.PositiveIntegerField(_("lines returned"), default=0)
    amount_lines = models.DecimalField(_("sum of lines"), max_digits=16, decimal_places=2, default=Decimal("0"))
    amount_posted = models.DecimalField(_("amount posted"), max_digits=16, decimal_places=2, default=Decimal("0"))
    amount_returned = models.DecimalField(_("amount returned"), max_digits=16, decimal_places=2, default=Decimal("0"))
    errors = models.JSONField(_("errors"), default=list, blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    started_at = models.DateTimeField(_("processing started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("processing finished"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    deadline_flag = models.CharField(
        _("deadline flag"),
        max_length=10,
        blank=True,
        choices=[("due_today", _("Due today")), ("late", _("Late"))],
        help_text=_("Set by the periodic sweep while the order is open; kept once it is late."),
    )
    flagged_at = models.DateTimeField(_("flagged at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolution_note = models.TextField(_("resolution"), blank=True)
    created_at = models.DateTimeField(_("taken in at"), default=timezone.now)

    class Meta:
        verbose_name = _("payment order")
        verbose_name_plural = _("payment orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("submit_order", _("Can submit payment orders")),
            ("resolve_review", _("Can resolve orders that need review")),
            ("monitor_deadlines", _("Can see orders due today and late orders")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(is_original=True), name="order_one_original_per_key"),
            models.CheckConstraint(condition=Q(is_original=False) | ~Q(key=""), name="order_original_has_a_key"),
            models.CheckConstraint(
                condition=~Q(status="duplicate") | Q(duplicate_of__isnull=False), name="order_duplicate_points_to_first"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="order_status_deadline_idx"),
            models.Index(fields=["created_at"], name="order_open_idx", condition=Q(status="received")),
            # The order list newest first, a page at a time, unfiltered, by status and by payer
            # (contributions.selectors.ORDER_KEYS); the status counts read the second.
            models.Index(fields=["created_at", "id"], name="order_list_idx"),
            models.Index(fields=["status", "created_at", "id"], name="order_list_status_idx"),
            models.Index(fields=["payer_idn", "created_at", "id"], name="order_list_payer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference or '?'} /{self.number or '?'} {self.payer_idn or '?'}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def deadline_met(self) -> bool | None:
        if self.deadline is None or self.finished_at is None:
            return None
        return self.finished_at <= self.deadline

    @property
    def processing_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.created_at).total_seconds()

    def deadline_state(self, now: datetime | None = None) -> str:
        """``met``/``missed`` once final; ``late``/``due_today``/``on_time`` while open."""
        if self.deadline is None:
            return "unknown"
        if self.finished_at is not None:
            return "met" if self.finished_at <= self.deadline else "missed"
        now = now or timezone.now()
        if now > self.deadline:
            return "late"
        if timezone.localdate(now) == timezone.localdate(self.deadline):
            return "due_today"
        return "on_time"


class ReturnReason(models.TextChoices):
    """Line return reasons (conventions: "Incoming payment orders", paragraph 6)."""

    INVALID_IIN = "invalid_iin", _("The IIN fails the length, digits or check-digit test")
    UNKNOWN_IIN = "unknown_iin", _("The IIN is not in the state registry")
    NAME_MISMATCH = "name_mismatch", _("The name differs from the registry")
    BIRTH_DATE_MISMATCH = "birth_date_mismatch", _("The birth date differs from the registry")
    DECEASED = "deceased", _("The registry's date of death is before the period")
    INVALID_AMOUNT = "invalid_amount", _("The amount is not positive")
    INVALID_PERIOD = "invalid_period", _("The period is missing or not a real month")
    ORDER_RETURNED = "order_returned", _("The whole order was returned after review")


class LineStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    POSTED = "posted", _("Posted")
    RETURNED = "returned", _("Returned")


class OrderLine(models.Model):
    """One individual of an order's list, as sent, with the outcome of the line checks."""

    # Indexed through line_sequence_unique (order, sequence): a separate index would only cost.
    order = models.ForeignKey(
        PaymentOrder, on_delete=models.PROTECT, related_name="lines", db_index=False, verbose_name=_("payment order")
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    file_line = models.PositiveIntegerField(_("line in the file"), default=0)
    iin = models.CharField(_("IIN"), max_length=40)
    last_name = models.CharField(_("surname"), max_length=200, blank=True)
    first_name = models.CharField(_("first name"), max_length=200, blank=True)
    patronymic = models.CharField(_("patronymic"), max_length=200, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    period = models.DateField(_("period"), null=True, blank=True)
    period_text = models.CharField(_("period as sent"), max_length=20, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=LineStatus.choices, default=LineStatus.PENDING)
    reason = models.CharField(_("return reason"), max_length=20, choices=ReturnReason.choices, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="line_sequence_unique"),
            models.CheckConstraint(
                condition=Q(status="returned", reason__gt="") | (~Q(status="returned") & Q(reason="")),
                name="line_reason_iff_returned",
            ),
        ]
        indexes = [models.Index(fields=["iin"], name="line_iin_idx")]

    def __str__(self) -> str:
        return gettext("order %(order)s, line %(sequence)s: %(iin)s %(amount)s") % {
            "order": self.order_id,
            "sequence": self.sequence,
            "iin": self.iin,
            "amount": money(self.amount),
        }


class ReturnDocument(models.Model):
    """The document that returns an order's failed lines to the payer (Rules, paragraph 6)."""

    order = models.OneToOneField(
        PaymentOrder, on_delete=models.PROTECT, related_name="return_document", verbose_name=_("payment order")
    )
    number = models.CharField(_("number"), max_length=30, unique=True)
    lines_count = models.PositiveIntegerField(_("lines"))
    total = models.DecimalField(_("total"), max_digits=16, decimal_places=2)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("return document")
        verbose_name_plural = _("return documents")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at", "id"], name="return_document_list_idx")]

    def __str__(self) -> str:
        return self.number
