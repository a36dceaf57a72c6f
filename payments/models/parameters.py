"""The effective-dated legal parameters that the benefit amounts and the approval of decisions
use (conventions: "Benefit amounts"; reference.md §4-5): data an administrator corrects, with
history, never constants in code."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from records.models import history_options


class Confidence(models.TextChoices):
    """How sure the reference is of a value: anything but confirmed is flagged wherever the
    value is used (conventions: "values marked LIKELY or OPEN ... are flagged on screen")."""

    CONFIRMED = "confirmed", _("Confirmed")
    LIKELY = "likely", _("Likely")
    OPEN = "open", _("Open question")


class ParameterName(models.TextChoices):
    """Every legal parameter of the benefit formulas; none is a constant in code."""

    MZP = "mzp", _("Minimum monthly wage (МЗП), KZT")
    CONTRIBUTION_RATE = "contribution_rate", _("Social contribution rate")
    INCOME_CAP_MZP = "income_cap_mzp", _("Monthly income cap, in МЗП")
    DEDUCTION_MZP = "deduction_mzp", _("Deduction in the disability and breadwinner formulas, share of МЗП")
    REPLACEMENT = "replacement", _("Replacement rate (КЗД) of disability and breadwinner")
    JOB_LOSS_REPLACEMENT = "job_loss_replacement", _("Replacement rate (КЗД) of job loss")
    CHILD_CARE_REPLACEMENT = "child_care_replacement", _("Replacement rate of child care")
    CHILD_CARE_MAX_MZP = "child_care_max_mzp", _("Child care maximum, in МЗП")
    CHILD_CARE_MINIMUM = "child_care_minimum", _("Child care minimum (the monthly state allowance), KZT")
    WINDOW_MONTHS = "window_months", _("Months of the income window")
    MATERNITY_WINDOW_MONTHS = "maternity_window_months", _("Months of the income window, pregnancy and childbirth")
    MATERNITY_DAYS_DIVISOR = "maternity_days_divisor", _("Days of a month in the maternity formula")
    KSU_BELOW_6 = "ksu_below_6", _("КСУ below 6 months of participation")
    KSU_6 = "ksu_6", _("КСУ, 6-11 months")
    KSU_12 = "ksu_12", _("КСУ, 12-23 months")
    KSU_24 = "ksu_24", _("КСУ, 24-35 months")
    KSU_36 = "ksu_36", _("КСУ, 36-47 months")
    KSU_48 = "ksu_48", _("КСУ, 48-59 months")
    KSU_60 = "ksu_60", _("КСУ, 60-71 months")
    KSU_STEP = "ksu_step", _("КСУ added per full year above 60 months")
    KSU_CAP = "ksu_cap", _("КСУ cap")
    KI_1 = "ki_1", _("КИ, one dependant")
    KI_2 = "ki_2", _("КИ, two dependants")
    KI_3 = "ki_3", _("КИ, three dependants")
    KI_4 = "ki_4", _("КИ, four or more dependants")
    JOB_LOSS_MIN_MONTHS = "job_loss_min_months", _("Months of participation that give a right to job-loss payments")
    JOB_LOSS_MONTHS_6 = "job_loss_months_6", _("Months of job-loss payments, 6-11 months of participation")
    JOB_LOSS_MONTHS_12 = "job_loss_months_12", _("Months of job-loss payments, 12-23 months of participation")
    JOB_LOSS_MONTHS_24 = "job_loss_months_24", _("Months of job-loss payments, 24-35 months of participation")
    JOB_LOSS_MONTHS_36 = "job_loss_months_36", _("Months of job-loss payments, 36-47 months of participation")
    JOB_LOSS_MONTHS_48 = "job_loss_months_48", _("Months of job-loss payments, 48-59 months of participation")
    JOB_LOSS_MONTHS_60 = "job_loss_months_60", _("Months of job-loss payments, 60 months of participation or more")
    CHILD_CARE_MONTHS = "child_care_months", _("Months of child-care payments (until the child's age)")
    DECISION_WORKING_DAYS = "decision_working_days", _("Working days from the application to the decision")
    JOB_LOSS_DECISION_WORKING_DAYS = (
        "job_loss_decision_working_days",
        _("Working days from the application to the decision, job loss"),
    )
    APPROVAL_MONTHLY_THRESHOLD = (
        "approval_monthly_threshold",
        _("Monthly amount above which the head of the service approves, KZT"),
    )
    APPROVAL_LUMP_THRESHOLD = "approval_lump_threshold", _("Lump sum above which the head of the service approves, KZT")
    # Each row of an indexation is a step on its date (not a value that a later row supersedes):
    # amounts assigned before the date are raised by the percentage from it (reference.md §4.5).
    INDEXATION_0701 = "indexation_0701", _("Indexation of loss of breadwinner payments from this date, %")
    INDEXATION_0702 = "indexation_0702", _("Indexation of loss of ability to work payments from this date, %")
    WITHHOLDING_0701 = "withholding_0701", _("Pension contributions withheld, loss of breadwinner")
    WITHHOLDING_0702 = "withholding_0702", _("Pension contributions withheld, loss of ability to work")
    WITHHOLDING_0703 = "withholding_0703", _("Pension contributions withheld, loss of job")
    WITHHOLDING_0704 = "withholding_0704", _("Pension contributions withheld, pregnancy and childbirth")
    WITHHOLDING_0705 = "withholding_0705", _("Pension contributions withheld, care of a child")


@pghistory.track(**history_options(_("legal parameter history entry"), _("legal parameter history")))
class LegalParameter(models.Model):
    """A legal parameter's value from a date on (the date the right arises, or the period for
    the contribution rate): a later row supersedes it. Corrected by an administrator; the row
    history keeps every earlier value, and a computed amount names the rows it used."""

    name = models.CharField(_("parameter"), max_length=40, choices=ParameterName.choices)
    valid_from = models.DateField(_("valid from"))
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4)
    confidence = models.CharField(
        _("confidence"), max_length=10, choices=Confidence.choices, default=Confidence.CONFIRMED
    )
    basis = models.CharField(_("legal basis"), max_length=300)

    class Meta:
        verbose_name = _("legal parameter")
        verbose_name_plural = _("legal parameters")
        ordering = ["name", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["name", "valid_from"], name="parameter_one_value_per_date"),
            models.CheckConstraint(condition=Q(value__gte=0), name="parameter_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_name_display()} {self.valid_from:%d.%m.%Y}: {self.value.normalize():f}"
