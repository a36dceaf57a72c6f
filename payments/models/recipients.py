"""Recipients of social payments and their case files (Rules, paragraphs 10-12; conventions:
"Recipients and decisions").

A recipient is registered from the date of the application (paragraph 10) and carries the items
of paragraph 12 that its payment type needs. Items 1-9 (IIN, names, birth date, address,
identity document, citizenship) are the participant's own personal data with their paragraph 9
change records (``records.PersonalDataChange``); items 10-23 live here, and a change of any of
them is a dated ``RecipientChange``, never an overwrite.
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models import IIN_REGEX, Participant, history_options


class PaymentType(models.TextChoices):
    """The Fund's payment types (social risks) by their codes (conventions)."""

    BREADWINNER = "0701", _("Loss of breadwinner")
    DISABILITY = "0702", _("Loss of ability to work")
    JOB_LOSS = "0703", _("Loss of job")
    MATERNITY = "0704", _("Loss of income due to pregnancy and childbirth, adoption of a newborn")
    CHILD_CARE = "0705", _("Loss of income due to care of a child")


class RecipientStatus(models.TextChoices):
    APPLIED = "applied", _("Application registered")
    IN_FORCE = "in_force", _("Payment in force")
    SUSPENDED = "suspended", _("Payment suspended")
    TERMINATED = "terminated", _("Payment terminated")


@pghistory.track(**history_options(_("recipient history entry"), _("recipient history")))
class Recipient(models.Model):
    """A recipient of one social payment, registered from one application (Rules, paragraphs
    10-12): the application and its case file, the items of paragraph 12 and the decisions."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="recipients", verbose_name=_("recipient")
    )
    payment_type = models.CharField(_("payment type"), max_length=4, choices=PaymentType.choices)
    application_date = models.DateField(_("date of the application"))
    status = models.CharField(_("status"), max_length=12, choices=RecipientStatus.choices, default="applied")
    # Paragraph 12 items 10-13: the dates of the social risk, of the decision and of the end.
    risk_date = models.DateField(_("date of the social risk"))
    decision_date = models.DateField(_("date of the decision"), null=True, blank=True)
    end_date = models.DateField(_("date the payment ends"), null=True, blank=True)
    # Items 14-15, computed from the personal account when an amount is decided.
    participation_months = models.PositiveIntegerField(_("participation length, months"), null=True, blank=True)
    average_income = models.DecimalField(
        _("average monthly income"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    # Item 17: disability.
    loss_degree = models.PositiveSmallIntegerField(_("degree of lost ability to work, %"), null=True, blank=True)
    # Item 18: loss of breadwinner: the deceased participant whose account the amount comes from.
    deceased = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="breadwinner_recipients",
        verbose_name=_("deceased breadwinner"),
    )
    # Item 19: job loss.
    unemployed_registered_on = models.DateField(_("registered as unemployed on"), null=True, blank=True)
    unemployed_certificate = models.CharField(_("unemployed registration certificate"), max_length=50, blank=True)
    # Item 20: pregnancy and childbirth.
    leave_days = models.PositiveSmallIntegerField(_("days of maternity leave"), null=True, blank=True)
    # Item 21: child care.
    child_birth_order = models.PositiveSmallIntegerField(_("birth order of the child"), null=True, blank=True)
    # Items 22-23: the amount and period in force (from the approved decisions).
    amount = models.DecimalField(_("amount in force"), max_digits=16, decimal_places=2, null=True, blank=True)
    # What the monthly run reads beside the status and amount: from when a suspension in force
    # stops payment, and whether an approved decision changed what is due for months already
    # paid (the next run then settles every month since the start: arrears or recoveries).
    suspended_from = models.DateField(_("payment suspended from"), null=True, blank=True)
    settle_requested_at = models.DateTimeField(
        _("the next run settles the months already paid (asked at)"), null=True, blank=True
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("registered by")
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["-application_date", "-id"]
        permissions = [("check_casedocument", _("Can check the documents of a case file"))]
        indexes = [
            models.Index(fields=["application_date", "id"], name="recipient_list_idx"),
            models.Index(fields=["payment_type", "application_date", "id"], name="recipient_type_idx"),
            models.Index(fields=["status", "application_date", "id"], name="recipient_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(loss_degree__isnull=True) | Q(loss_degree__gte=1, loss_degree__lte=100),
                name="recipient_loss_degree_percent",
            ),
            models.CheckConstraint(
                condition=Q(leave_days__isnull=True) | Q(leave_days__gte=1, leave_days__lte=366),
                name="recipient_leave_days_range",
            ),
            models.CheckConstraint(
                condition=~Q(payment_type="0701") | Q(deceased__isnull=False), name="recipient_breadwinner_deceased"
            ),
            models.CheckConstraint(
                condition=~Q(payment_type="0702") | Q(loss_degree__isnull=False), name="recipient_disability_degree"
            ),
            models.CheckConstraint(
                condition=~Q(payment_type="0704") | Q(leave_days__isnull=False), name="recipient_maternity_days"
            ),
            models.CheckConstraint(
                condition=Q(risk_date__lte=models.F("application_date")), name="recipient_risk_first"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant.iin} {self.get_payment_type_display()} ({self.application_date:%d.%m.%Y})"

    @property
    def case_number(self) -> str:
        """The case file's number: the payment type and the recipient's number."""
        return f"{self.payment_type}-{self.pk:08d}"

    @property
    def account_holder(self) -> Participant:
        """Whose personal account the amount comes from: the deceased breadwinner's for 0701,
        the recipient's own otherwise."""
        return self.deceased if self.payment_type == PaymentType.BREADWINNER and self.deceased else self.participant


class Relation(models.TextChoices):
    CHILD = "child", _("Child")
    SPOUSE = "spouse", _("Spouse")
    PARENT = "parent", _("Parent")
    SIBLING = "sibling", _("Brother or sister")
    GRANDCHILD = "grandchild", _("Grandchild")
    OTHER = "other", _("Other dependant")


@pghistory.track(**history_options(_("dependant history entry"), _("dependant history")))
class Dependant(models.Model):
    """A dependant of a deceased breadwinner (paragraph 12 item 18), linked to the recipient;
    an end of dependency is a dated end, never a deletion."""

    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="dependants", verbose_name=_("recipient")
    )
    iin = models.CharField(_("IIN"), max_length=12)
    full_name = models.CharField(_("full name"), max_length=300)
    birth_date = models.DateField(_("date of birth"))
    relation = models.CharField(_("relation to the deceased"), max_length=12, choices=Relation.choices)
    since = models.DateField(_("dependant since"))
    until = models.DateField(_("dependant until"), null=True, blank=True)

    class Meta:
        verbose_name = _("dependant")
        verbose_name_plural = _("dependants")
        ordering = ["recipient", "birth_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(iin__regex=IIN_REGEX), name="dependant_iin_12_digits"),
            models.UniqueConstraint(fields=["recipient", "iin"], name="dependant_once_per_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.iin} {self.full_name}"


class RecipientChange(models.Model):
    """A dated change of one of a recipient's paragraph 12 items: the old and the new value,
    from when, why and who entered it (as paragraph 9 does for participants)."""

    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="changes", verbose_name=_("recipient")
    )
    item = models.CharField(_("item"), max_length=40)
    old_value = models.CharField(_("old value"), max_length=300, blank=True)
    new_value = models.CharField(_("new value"), max_length=300, blank=True)
    changed_on = models.DateField(_("changed on"))
    reason = models.TextField(_("reason"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)

    class Meta:
        verbose_name = _("recipient change record")
        verbose_name_plural = _("recipient change records")
        ordering = ["-entered_at", "-id"]

    def __str__(self) -> str:
        return f"{self.changed_on:%d.%m.%Y} {self.item}: {self.old_value} → {self.new_value}"


class DocumentKind(models.TextChoices):
    """Documents of a case file (reference.md §4.5, "Case file")."""

    APPLICATION = "application", _("Application")
    IDENTITY = "identity", _("Identity document")
    DISABILITY = "disability", _("Medical and social expertise (МСЭ) certificate")
    DEATH = "death", _("Death certificate or notice")
    BIRTH = "birth", _("Birth certificate")
    KINSHIP = "kinship", _("Proof of kinship or dependency")
    STUDY = "study", _("Certificate of full-time study")
    UNEMPLOYED = "unemployed", _("Certificate of registration as unemployed")
    SICK_LEAVE = "sick_leave", _("Sick-leave sheet (pregnancy and childbirth)")
    BANK = "bank", _("Bank account details")
    OTHER = "other", _("Other document")


class CaseDocument(models.Model):
    """A document received for an application, with the scanned file as received (kept first,
    like every incoming file) and who checked it and when (the standard's "case file")."""

    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="documents", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind of document"), max_length=12, choices=DocumentKind.choices)
    number = models.CharField(_("document number"), max_length=50, blank=True)
    issued_on = models.DateField(_("document date"), null=True, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("file type"), max_length=50)
    size = models.PositiveIntegerField(_("size, bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    content = models.BinaryField(_("scanned file"), editable=False)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("received by")
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case file document")
        verbose_name_plural = _("case file documents")
        ordering = ["recipient", "received_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(checked_by__isnull=True, checked_at__isnull=True)
                | Q(checked_by__isnull=False, checked_at__isnull=False),
                name="case_document_checked_by_and_when",
            ),
            models.UniqueConstraint(fields=["recipient", "sha256"], name="case_document_file_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}".strip()
