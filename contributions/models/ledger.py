"""The personal account (ledger) and refunds of excess contributions (Rules, paragraphs 7(4)
and 9; conventions: "The personal account").
"""

from __future__ import annotations

from typing import Any

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from contributions.models.orders import OrderLine, PaymentOrder
from records.approval import ApprovalModel
from records.formatting import money
from records.models import Participant, history_options
from records.signals import ledger_changed


class EntryKind(models.TextChoices):
    CONTRIBUTION = "contribution", _("Social contribution")
    PENALTY = "penalty", _("Penalty")
    REFUND = "refund", _("Refund")


class LedgerEntry(models.Model):
    """An entry of a participant's personal account. Immutable: a database trigger refuses every
    UPDATE and DELETE; a correction is a new negative entry that points to what it corrects
    (conventions: "The personal account"; Rules, paragraphs 7(4) and 9). No row-history trigger:
    an append-only row is its own history."""

    # Indexed through entry_account_idx.
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="entries", db_index=False, verbose_name=_("participant")
    )
    period = models.DateField(_("period"))
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    payer_idn = models.CharField(_("payer IIN/BIN"), max_length=12)
    order = models.ForeignKey(
        PaymentOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("payment order"),
    )
    line = models.OneToOneField(
        OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="entry", verbose_name=_("order line")
    )
    received = models.DateField(_("receipt date"))
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        db_index=False,
        verbose_name=_("corrects"),
    )

    class Meta:
        verbose_name = _("personal account entry")
        verbose_name_plural = _("personal account entries")
        ordering = ["participant", "period", "posted_at", "id"]
        indexes = [
            # A participant's account a page at a time, in its order, and its totals and monthly
            # chart from the index alone (kind and amount included): docs/performance.md.
            models.Index(
                fields=["participant", "period", "posted_at", "id"],
                include=["kind", "amount"],
                name="entry_account_idx",
            ),
            # Only refunds correct an entry: the others need no index entry.
            models.Index(fields=["corrects"], name="entry_corrects_idx", condition=Q(corrects__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="refund") & Q(amount__lt=0) & Q(corrects__isnull=False))
                | (~Q(kind="refund") & Q(amount__gt=0) & Q(line__isnull=False)),
                name="entry_sign_and_source",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="entry_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.participant.iin} {self.period:%Y-%m}: {self.get_kind_display()} {money(self.amount)}"


class RefundStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    POSTED = "posted", _("Approved and posted")
    REJECTED = "rejected", _("Rejected")


def _not_the_registrar(refund: Any, user: Any) -> bool:
    return bool(refund.registered_by_id != user.pk)


@pghistory.track(**history_options(_("refund history entry"), _("refund history")))
class Refund(ApprovalModel):
    """A refund of excess (erroneously) paid contributions at a payer's request (Rules,
    paragraphs 7(4) and 9): registered by a specialist, approved by a head who is not the person
    who registered it, then posted as a negative entry that corrects the original one. Its two
    steps go through the one approval mechanism (``records.approval``)."""

    entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("personal account entry")
    )
    amount = models.DecimalField(_("amount to refund"), max_digits=16, decimal_places=2)
    payer_idn = models.CharField(_("payer IIN/BIN"), max_length=12)
    request_number = models.CharField(_("payer's request number"), max_length=50)
    request_date = models.DateField(_("payer's request date"))
    reason = models.TextField(_("reason"))
    status = FSMField(
        _("status"), max_length=10, choices=RefundStatus.choices, default=RefundStatus.REGISTERED, protected=True
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by")
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    posted_entry = models.OneToOneField(
        LedgerEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund_posted",
        verbose_name=_("posted entry"),
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-registered_at", "-id"]
        permissions = [("approve_refund", _("Can approve refunds"))]
        indexes = [models.Index(fields=["registered_at", "id"], name="refund_list_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("registered_by")),
                name="refund_four_eyes",
            ),
            models.CheckConstraint(
                condition=~Q(status="posted") | Q(posted_entry__isnull=False), name="refund_posted_has_entry"
            ),
        ]

    _STEP = {
        "permission": "contributions.approve_refund",
        "second_factor": True,
        "state_field": "status",
        "refusal": _("A refund cannot be approved or rejected by the person who registered it."),
    }

    @transition(
        field=status,
        source=RefundStatus.REGISTERED,
        target=RefundStatus.POSTED,
        permission=_not_the_registrar,
        custom={**_STEP, "audit_action": "refunds.approve"},
    )
    def approve(self, *, actor: Any, reason: str) -> None:
        """Post the refund as a negative entry that corrects the original (paragraph 9)."""
        entry = self.entry
        self.decided_by, self.decided_at, self.decision_note = actor, timezone.now(), reason
        self.posted_entry = LedgerEntry.objects.create(
            participant_id=entry.participant_id,
            period=entry.period,
            kind=EntryKind.REFUND,
            amount=-self.amount,
            payer_idn=entry.payer_idn,
            order=None,
            line=None,
            received=timezone.localdate(),
            corrects=entry,
        )
        participant_id = entry.participant_id
        transaction.on_commit(
            lambda: ledger_changed.send(sender=LedgerEntry, participant_ids=[participant_id]), robust=True
        )

    @transition(
        field=status,
        source=RefundStatus.REGISTERED,
        target=RefundStatus.REJECTED,
        permission=_not_the_registrar,
        custom={**_STEP, "audit_action": "refunds.reject"},
    )
    def reject(self, *, actor: Any, reason: str) -> None:
        self.decided_by, self.decided_at, self.decision_note = actor, timezone.now(), reason

    def __str__(self) -> str:
        return gettext("request %(number)s, %(amount)s to refund") % {
            "number": self.request_number,
            "amount": money(self.amount),
        }
