"""Monthly payments: the recipients' bank accounts, the month's payment run with one payment list
per bank, what the banks confirm, returns and recoveries (Rules, paragraph 12 items 22-25 and
paragraph 13; conventions: "Monthly payments").

A run is built for a month from the decisions in force, all or nothing, and approved by the head
of the pension service (four eyes: whoever started or rebuilt it cannot approve it), which
releases it to the banks. Nothing in a released run changes: what a bank confirms, a return and
a recovery are new records that point to the payment they concern (item 25).
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from rules.predicates import Predicate

from payments.models.decisions import Decision
from payments.models.recipients import Recipient
from records.approval import ApprovalModel, fsm_permission

IBAN_REGEX = r"^KZ[0-9]{2}[0-9]{3}[0-9A-Z]{13}$"
BIC_REGEX = r"^[A-Z0-9]{8}([A-Z0-9]{3})?$"
MONTH_START = Q(month__day=1)


def _released_frozen(name: str, run_of_old_row: str) -> pgtrigger.Trigger:
    """Nothing in a released run changes (item 25: confirmations, returns and recoveries are
    new rows that point to a payment), whatever writes: the services, the admin, raw SQL."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Update | pgtrigger.Delete,
        func=f"""
            IF EXISTS (SELECT 1 FROM payments_paymentrun r WHERE r.id = ({run_of_old_row}) AND r.state = 'released')
            THEN RAISE EXCEPTION 'pgtrigger: % of a released payment run cannot change', TG_TABLE_NAME;
            END IF;
            RETURN COALESCE(NEW, OLD);
        """,
    )


class Bank(models.Model):
    """A bank that pays social payments to accounts it keeps: its BIC and the three-digit code
    that its accounts' IBANs carry (positions 5-7), so that an account is checked against its
    bank when it is entered."""

    bic = models.CharField(_("BIC"), max_length=11, primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    iban_code = models.CharField(_("bank code in the IBAN"), max_length=3, unique=True)
    # The API accounts of the bank: the only accounts, besides staff who may take in any bank's
    # confirmation, that may confirm its payment lists (a false "credited" from another bank
    # would leave a recipient unpaid and never paid again).
    confirmers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="confirming_banks",
        verbose_name=_("API accounts that confirm its lists"),
    )

    class Meta:
        verbose_name = _("bank")
        verbose_name_plural = _("banks")
        ordering = ["bic"]
        constraints = [
            models.CheckConstraint(condition=Q(bic__regex=BIC_REGEX), name="bank_bic_format"),
            models.CheckConstraint(condition=Q(iban_code__regex=r"^[0-9]{3}$"), name="bank_iban_code_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.bic} {self.name}"


class BankAccount(models.Model):
    """The recipient's bank account from a date on (paragraph 12 item 22: where the payment is
    paid). A change is a new row from its date, never an overwrite; the run pays to the account
    in force on the last day of its month."""

    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="bank_accounts", verbose_name=_("recipient")
    )
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+", verbose_name=_("bank"))
    iban = models.CharField(_("account (IBAN)"), max_length=20)
    valid_from = models.DateField(_("valid from"))
    reason = models.TextField(_("reason"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)

    class Meta:
        verbose_name = _("bank account of a recipient")
        verbose_name_plural = _("bank accounts of recipients")
        ordering = ["recipient", "-valid_from", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(iban__regex=IBAN_REGEX), name="bank_account_iban_format"),
            models.UniqueConstraint(fields=["recipient", "valid_from"], name="bank_account_one_per_date"),
        ]
        indexes = [models.Index(fields=["recipient", "valid_from"], name="bank_account_current_idx")]

    def __str__(self) -> str:
        return f"{self.iban} ({self.bank_id}) {self.valid_from:%d.%m.%Y}"


class RunState(models.TextChoices):
    BUILDING = "building", _("Being built")
    BUILT = "built", _("Built, awaiting approval")
    RELEASED = "released", _("Approved and released to the banks")


def _took_part(user: Any, run: PaymentRun) -> bool:
    """Started the run, or rebuilt it: either changed what the approver would approve."""
    return bool(run.started_by_id == user.pk or run.approval_steps().filter(actor_id=user.pk).exists())


took_part = Predicate(_took_part)
can_approve_run = ~took_part


def _anyone(run: Any, user: Any) -> bool:
    return True


class PaymentRun(ApprovalModel):
    """The payment run of a month (paragraph 13): one payment per recipient, grouped into one
    list per bank. Built all or nothing; approved by the head of the pension service, which
    releases it; nothing in a released run changes."""

    month = models.DateField(_("month"), unique=True)
    state = FSMField(_("state"), max_length=10, choices=RunState.choices, default="building", protected=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
        help_text=_("Empty when the schedule started it."),
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    built_at = models.DateTimeField(_("built at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    count = models.PositiveIntegerField(_("payments"), default=0)
    gross = models.DecimalField(_("gross"), max_digits=18, decimal_places=2, default=0)
    withheld = models.DecimalField(_("pension contributions withheld"), max_digits=18, decimal_places=2, default=0)
    net = models.DecimalField(_("net"), max_digits=18, decimal_places=2, default=0)
    held_back = models.PositiveIntegerField(_("held back"), default=0)
    parameters = models.JSONField(_("parameters used"), default=dict, blank=True)
    # Written by a connection of its own while the build's transaction is open, so that the
    # run's page shows how far it got (the build itself commits all or nothing).
    progress = models.JSONField(_("progress"), default=dict, blank=True)

    class Meta:
        verbose_name = _("payment run")
        verbose_name_plural = _("payment runs")
        ordering = ["-month"]
        permissions = [("approve_paymentrun", _("Can approve a payment run and release it to the banks"))]
        triggers = [
            pgtrigger.Protect(
                name="payment_run_released_frozen",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__state="released"),
            )
        ]
        constraints = [
            models.CheckConstraint(condition=MONTH_START, name="payment_run_month_start"),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | Q(started_by__isnull=True)
                | ~Q(approved_by=models.F("started_by")),
                name="payment_run_approver_not_starter",
            ),
            models.CheckConstraint(
                condition=~Q(state="released") | Q(approved_by__isnull=False, approved_at__isnull=False),
                name="payment_run_released_is_approved",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"

    @transition(
        field=state,
        source=RunState.BUILT,
        target=RunState.BUILDING,
        permission=_anyone,
        custom={
            "state_field": "state",
            "permission": "payments.add_paymentrun",
            "second_factor": False,
            "refusal": _("This run cannot be rebuilt."),
        },
    )
    def rebuild(self, *, actor: Any, reason: str) -> None:
        """Built again (after bank details were corrected): the rebuilder took part in it."""
        self.built_at = None

    @transition(
        field=state,
        source=RunState.BUILT,
        target=RunState.RELEASED,
        permission=fsm_permission(can_approve_run),
        custom={
            "state_field": "state",
            "permission": "payments.approve_paymentrun",
            "second_factor": True,
            "refusal": _("Whoever started or rebuilt a payment run cannot approve it."),
        },
    )
    def approve(self, *, actor: Any, reason: str) -> None:
        self.approved_by, self.approved_at = actor, timezone.now()


class PaymentList(models.Model):
    """The payment list of one bank in a run (paragraph 13): its number, count, totals and a
    SHA-256 checksum over its lines, which the outgoing message and the downloads carry."""

    run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="lists", verbose_name=_("run"))
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+", verbose_name=_("bank"))
    number = models.CharField(_("number"), max_length=20, unique=True)
    count = models.PositiveIntegerField(_("payments"))
    gross = models.DecimalField(_("gross"), max_digits=18, decimal_places=2)
    withheld = models.DecimalField(_("pension contributions withheld"), max_digits=18, decimal_places=2)
    net = models.DecimalField(_("net"), max_digits=18, decimal_places=2)
    checksum = models.CharField(_("checksum (SHA-256)"), max_length=64)

    class Meta:
        verbose_name = _("payment list")
        verbose_name_plural = _("payment lists")
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "bank"], name="payment_list_one_per_bank")]
        triggers = [_released_frozen("payment_list_released_frozen", "OLD.run_id")]

    def __str__(self) -> str:
        return self.number


class HeldReason(models.TextChoices):
    NO_ACCOUNT = "no_account", _("No bank account in force")
    REPORTED_DEAD = "reported_dead", _("The state registry reports the recipient dead")


class Payment(models.Model):
    """One recipient's payment in a run: the month's amount (the first and last month in
    proportion to their days) and any other items, the pension contributions withheld (item
    24) and the account it is paid to. Held back with the reason when it cannot be paid; never
    edited once built."""

    run = models.ForeignKey(PaymentRun, on_delete=models.PROTECT, related_name="payments", verbose_name=_("run"))
    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="payments", verbose_name=_("recipient")
    )
    payment_list = models.ForeignKey(
        PaymentList,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("payment list"),
    )
    line = models.PositiveIntegerField(_("line in the list"), null=True, blank=True)
    month = models.DateField(_("month"))
    monthly = models.DecimalField(_("for the month"), max_digits=16, decimal_places=2)
    days_paid = models.PositiveSmallIntegerField(_("days paid"))
    days_in_month = models.PositiveSmallIntegerField(_("days in the month"))
    other = models.DecimalField(_("other items"), max_digits=16, decimal_places=2, default=0)
    gross = models.DecimalField(_("gross"), max_digits=16, decimal_places=2)
    withholding_rate = models.DecimalField(_("pension contribution rate"), max_digits=6, decimal_places=4)
    withheld = models.DecimalField(_("pension contributions withheld"), max_digits=16, decimal_places=2)
    net = models.DecimalField(_("net"), max_digits=16, decimal_places=2)
    bank = models.ForeignKey(
        Bank, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("bank")
    )
    iban = models.CharField(_("account (IBAN)"), max_length=20, blank=True)
    held_reason = models.CharField(_("held back because"), max_length=14, choices=HeldReason.choices, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["run", "payment_list", "line", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "recipient"], name="payment_one_per_recipient_and_run"),
            models.CheckConstraint(condition=MONTH_START, name="payment_month_start"),
            models.CheckConstraint(
                condition=Q(gross=models.F("monthly") + models.F("other")), name="payment_gross_is_its_items"
            ),
            models.CheckConstraint(
                condition=Q(net=models.F("gross") - models.F("withheld")), name="payment_net_is_gross_less_withheld"
            ),
            models.CheckConstraint(condition=Q(gross__gte=0, withheld__gte=0), name="payment_not_negative"),
            models.CheckConstraint(
                condition=(Q(payment_list__isnull=True) & ~Q(held_reason=""))
                | (Q(payment_list__isnull=False, line__isnull=False) & Q(held_reason="")),
                name="payment_listed_or_held_back",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "month"], name="payment_recipient_month_idx"),
            models.Index(fields=["payment_list", "line"], name="payment_list_line_idx"),
        ]
        triggers = [_released_frozen("payment_released_frozen", "OLD.run_id")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.recipient_id}: {self.net}"


class ItemKind(models.TextChoices):
    ARREARS = "arrears", _("Arrears for an earlier month")
    LUMP_SUM = "lump_sum", _("Lump sum")
    REPAYMENT = "repayment", _("Paid again (returned or held back earlier)")


class PaymentItem(models.Model):
    """A part of a payment beside the month's own amount: the arrears of an earlier month (a
    recalculation, a suspension withdrawn in time, an assignment from a past date), a lump sum,
    or a payment paid again after a return or a hold (the earlier payment it repays)."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="items", verbose_name=_("payment"))
    kind = models.CharField(_("kind"), max_length=10, choices=ItemKind.choices)
    for_month = models.DateField(_("for the month"))
    gross = models.DecimalField(_("gross"), max_digits=16, decimal_places=2)
    withheld = models.DecimalField(_("pension contributions withheld"), max_digits=16, decimal_places=2)
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decision")
    )
    repays = models.OneToOneField(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repaid_by",
        verbose_name=_("pays again"),
    )

    class Meta:
        verbose_name = _("payment item")
        verbose_name_plural = _("payment items")
        ordering = ["payment", "for_month", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(for_month__day=1), name="payment_item_month_start"),
            models.CheckConstraint(condition=Q(gross__gt=0, withheld__gte=0), name="payment_item_positive"),
            models.CheckConstraint(
                condition=Q(kind="repayment", repays__isnull=False) | (~Q(kind="repayment") & Q(repays__isnull=True)),
                name="payment_item_repayment_names_payment",
            ),
        ]
        triggers = [
            _released_frozen(
                "payment_item_released_frozen", "SELECT p.run_id FROM payments_payment p WHERE p.id = OLD.payment_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.for_month:%Y-%m}: {self.gross}"


class RecoveryReason(models.TextChoices):
    DEATH = "death", _("Paid after the recipient's death")
    END_OF_RIGHT = "end_of_right", _("Paid after the right ended")
    RECALCULATED = "recalculated", _("Recalculated downwards")
    SUSPENDED = "suspended", _("Paid for a month the payment was suspended")


class Recovery(models.Model):
    """Money paid that was not due (paragraph 12 item 25): a new record that points to the
    payment it concerns, with its reason; the payment itself is never edited."""

    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="recoveries", verbose_name=_("recipient")
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="recoveries", verbose_name=_("payment concerned")
    )
    for_month = models.DateField(_("for the month"))
    amount = models.DecimalField(_("amount to recover"), max_digits=16, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=14, choices=RecoveryReason.choices)
    decision = models.ForeignKey(
        Decision, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decision")
    )
    run = models.ForeignKey(
        PaymentRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recoveries",
        verbose_name=_("found by the run"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("recovery")
        verbose_name_plural = _("recoveries")
        ordering = ["recipient", "for_month", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="recovery_positive"),
            models.CheckConstraint(condition=Q(for_month__day=1), name="recovery_month_start"),
        ]

    def __str__(self) -> str:
        return f"{self.for_month:%Y-%m} {self.get_reason_display()}: {self.amount}"


class ConfirmationState(models.TextChoices):
    RECEIVED = "received", _("Received, being read")
    TAKEN = "taken", _("Taken in")
    REFUSED = "refused", _("Refused")


class ConfirmationFile(models.Model):
    """A bank's confirmation of a payment list (paragraph 12 item 25), kept as received before
    it is read, like every incoming file; the same bytes again are answered as a duplicate."""

    file_name = models.CharField(_("file name"), max_length=255)
    raw = models.BinaryField(_("file as received"), editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    size = models.PositiveIntegerField(_("size, bytes"))
    payment_list = models.ForeignKey(
        PaymentList,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="confirmations",
        verbose_name=_("payment list"),
    )
    state = models.CharField(_("state"), max_length=10, choices=ConfirmationState.choices, default="received")
    problems = models.JSONField(_("problems"), default=list, blank=True)
    credited = models.PositiveIntegerField(_("credited"), default=0)
    not_credited = models.PositiveIntegerField(_("not credited"), default=0)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("received by")
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("bank confirmation file")
        verbose_name_plural = _("bank confirmation files")
        ordering = ["-received_at", "-id"]
        permissions = [("confirm_any_list", _("Can take in the confirmation of any bank's payment list"))]

    def __str__(self) -> str:
        return self.file_name


class ConfirmationLine(models.Model):
    """What the bank says of one payment: credited, or not credited with its reason. One line
    per payment across every file (a repeated line is reported, not taken)."""

    file = models.ForeignKey(ConfirmationFile, on_delete=models.PROTECT, related_name="lines", verbose_name=_("file"))
    line_no = models.PositiveIntegerField(_("line in the file"))
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, related_name="confirmation", verbose_name=_("payment")
    )
    credited = models.BooleanField(_("credited"))
    reason = models.CharField(_("reason not credited"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("confirmation line")
        verbose_name_plural = _("confirmation lines")
        ordering = ["file", "line_no"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credited=True, reason="") | Q(credited=False) & ~Q(reason=""),
                name="confirmation_line_reason_when_not_credited",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_id}:{self.line_no}"


class PaymentReturn(models.Model):
    """A payment the bank could not credit (paragraph 12 item 25): the recipient is paid again
    in a later run once the bank details are corrected (``PaymentItem.repays``)."""

    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, related_name="payment_return", verbose_name=_("payment")
    )
    line = models.OneToOneField(
        ConfirmationLine, on_delete=models.PROTECT, related_name="payment_return", verbose_name=_("confirmation")
    )
    reason = models.CharField(_("reason"), max_length=300)
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("returned payment")
        verbose_name_plural = _("returned payments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.payment}: {self.reason}"
