"""Decisions on social payments and what the system proposes for a specialist to draft (Rules,
paragraphs 11 and 14; conventions: "Recipients and decisions").

A decision assigns, suspends, resumes, terminates or recalculates a payment. It is drafted by a
specialist, verified by a level-6 specialist and approved by a head: ``draft`` -> ``submitted``
-> ``verified`` -> ``approved``, or ``rejected`` back to the drafter with a reason from
``submitted`` or ``verified``. The steps are django-fsm transitions taken only through
``records.approval.take_step``; who may take them is the ``rules`` predicates below, and the
separation of the three parts also holds in the database (check constraints).
"""

from __future__ import annotations

from typing import Any

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from rules.predicates import Predicate

from payments.models.recipients import Recipient
from records.approval import ApprovalModel, fsm_permission
from records.models import history_options

NUMBER_REGEX = r"^[0-9]{4}-070[1-5]-[0-9]{6}$"


class DecisionKind(models.TextChoices):
    ASSIGN = "assign", _("Assign")
    SUSPEND = "suspend", _("Suspend")
    RESUME = "resume", _("Resume")
    TERMINATE = "terminate", _("Terminate")
    RECALCULATE = "recalculate", _("Recalculate")


class DecisionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for verification")
    VERIFIED = "verified", _("Verified, awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Returned to the drafter")


class EndReason(models.TextChoices):
    """Why a payment ends (reference.md §4.5, "Payment")."""

    DEATH = "death", _("Death of the recipient")
    REQUEST = "request", _("At the recipient's request")
    DEREGISTERED = "deregistered", _("Removed from the unemployed register")
    END_OF_RIGHT = "end_of_right", _("The right has ended")
    OTHER = "other", _("Other reason")


# --- Who may take which step (rules predicates; the role permissions are checked first) --------


def _is_drafter(user: Any, decision: Decision) -> bool:
    return bool(decision.drafted_by_id == user.pk)


def _acted_from(user: Any, decision: Decision, state: str) -> bool:
    """Whether ``user`` took a step from ``state`` in any round: from ``submitted`` (verify, or
    return) is the verifier's part, from ``verified`` (approve, or return) the approver's."""
    return bool(decision.approval_steps().filter(actor_id=user.pk, from_state=state).exists())


def _has_verified(user: Any, decision: Decision) -> bool:
    """Verified it, or returned it as the verifier, now or in an earlier round."""
    return bool(decision.verified_by_id == user.pk or _acted_from(user, decision, DecisionState.SUBMITTED))


def _has_approved_or_rejected_as_approver(user: Any, decision: Decision) -> bool:
    return bool(decision.approved_by_id == user.pk or _acted_from(user, decision, DecisionState.VERIFIED))


def _within_approvers_limit(user: Any, decision: Decision) -> bool:
    """A decision above the amount threshold needs the head of the service."""
    return not decision.needs_head_of_service or bool(user.has_perm("payments.approve_decision_above_threshold"))


def _may_approve(user: Any, decision: Decision) -> bool:
    # Two arguments like the others: rules counts a predicate's parameters to call it.
    return bool(user.has_perm("payments.approve_decision"))


def _is_submitted(user: Any, decision: Decision) -> bool:
    return bool(decision.state == DecisionState.SUBMITTED)


is_drafter = Predicate(_is_drafter)
has_verified = Predicate(_has_verified)
has_approved_or_rejected_as_approver = Predicate(_has_approved_or_rejected_as_approver)
within_approvers_limit = Predicate(_within_approvers_limit)
may_approve = Predicate(_may_approve)
is_submitted = Predicate(_is_submitted)

can_submit = is_drafter
can_verify = ~is_drafter & ~has_approved_or_rejected_as_approver
can_approve = ~is_drafter & ~has_verified & within_approvers_limit
can_reject = ~is_drafter & (
    (is_submitted & ~has_approved_or_rejected_as_approver)
    | (~is_submitted & ~has_verified & within_approvers_limit & may_approve)
)


_STEP: dict[str, Any] = {"state_field": "state"}


@pghistory.track(**history_options(_("decision history entry"), _("decision history")))
class Decision(ApprovalModel):
    """A decision on a recipient's payment: a numbered document once approved
    (``YYYY-TTTT-NNNNNN``: year, payment type, a gapless sequence per year), with its legal
    basis, effective date, amount and period, and the calculation it was computed with."""

    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="decisions", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind of decision"), max_length=12, choices=DecisionKind.choices)
    state = FSMField(_("state"), max_length=10, choices=DecisionState.choices, default="draft", protected=True)
    number = models.CharField(_("number"), max_length=16, unique=True, null=True, blank=True)
    legal_basis = models.TextField(_("legal basis"))
    effective_date = models.DateField(_("effective date"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    lump_sum = models.BooleanField(_("lump sum"), default=False)
    period_start = models.DateField(_("paid from"), null=True, blank=True)
    period_end = models.DateField(_("paid until"), null=True, blank=True)
    previous_amount = models.DecimalField(_("amount before"), max_digits=16, decimal_places=2, null=True, blank=True)
    difference = models.DecimalField(
        _("difference for the months already paid"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    difference_months = models.JSONField(_("difference by month"), default=list, blank=True)
    suspend_deadline = models.DateField(_("suspended until (deadline to clear the reason)"), null=True, blank=True)
    suspension = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resumptions",
        verbose_name=_("suspension ended"),
    )
    withdrawn_in_time = models.BooleanField(_("suspension withdrawn by its deadline"), null=True, blank=True)
    end_reason = models.CharField(_("reason the payment ends"), max_length=14, choices=EndReason.choices, blank=True)
    note = models.TextField(_("grounds"), blank=True)
    calculation = models.JSONField(_("calculation"), default=dict, blank=True)
    computed_at = models.DateTimeField(_("amount computed at"), null=True, blank=True)
    # The income window the amount was computed on: contributions posted or refunded in it
    # after ``computed_at`` propose a recalculation.
    window_start = models.DateField(_("window from"), null=True, blank=True)
    window_end = models.DateField(_("window until"), null=True, blank=True)
    needs_head_of_service = models.BooleanField(_("above the threshold: the head of the service approves"))
    threshold = models.JSONField(_("threshold applied"), default=dict, blank=True)
    proposal = models.ForeignKey(
        "DecisionProposal",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        verbose_name=_("proposed by the system"),
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("drafted by")
    )
    drafted_at = models.DateTimeField(_("drafted at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejection_reason = models.TextField(_("reason it was returned"), blank=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["-drafted_at", "-id"]
        permissions = [
            ("verify_decision", _("Can verify decisions (and return them to the drafter)")),
            ("approve_decision", _("Can approve decisions")),
            ("approve_decision_above_threshold", _("Can approve decisions above the amount threshold")),
        ]
        indexes = [
            models.Index(fields=["state", "submitted_at", "id"], name="decision_queue_idx"),
            models.Index(fields=["drafted_by", "state", "id"], name="decision_drafter_idx"),
            models.Index(fields=["recipient", "state"], name="decision_recipient_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient"], condition=~Q(state="approved"), name="decision_one_open_per_recipient"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="decision_amount_not_negative"),
            models.CheckConstraint(condition=Q(number__regex=NUMBER_REGEX), name="decision_number_format"),
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=F("drafted_by")),
                name="decision_verifier_not_drafter",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("drafted_by")),
                name="decision_approver_not_drafter",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | Q(verified_by__isnull=True) | ~Q(approved_by=F("verified_by")),
                name="decision_approver_not_verifier",
            ),
            models.CheckConstraint(
                condition=~Q(state="approved")
                | Q(number__isnull=False, approved_by__isnull=False, verified_by__isnull=False),
                name="decision_approved_is_numbered",
            ),
            models.CheckConstraint(
                condition=~Q(state="rejected") | ~Q(rejection_reason=""), name="decision_rejection_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number or _('draft')} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.state not in (DecisionState.APPROVED,)

    @transition(
        field=state,
        source=[DecisionState.DRAFT, DecisionState.REJECTED],
        target=DecisionState.SUBMITTED,
        permission=fsm_permission(can_submit),
        custom={
            **_STEP,
            "permission": "payments.add_decision",
            "second_factor": False,
            "refusal": _("Only the drafter submits a decision."),
        },
    )
    def submit(self, *, actor: Any, reason: str) -> None:
        """Entered: the one-working-day clock of paragraph 14 runs from now."""
        self.submitted_at = timezone.now()

    @transition(
        field=state,
        source=DecisionState.SUBMITTED,
        target=DecisionState.VERIFIED,
        permission=fsm_permission(can_verify),
        custom={
            **_STEP,
            "permission": "payments.verify_decision",
            "second_factor": True,
            "refusal": _("The drafter or the approver of a decision cannot verify it."),
        },
    )
    def verify(self, *, actor: Any, reason: str) -> None:
        self.verified_by, self.verified_at = actor, timezone.now()

    @transition(
        field=state,
        source=DecisionState.VERIFIED,
        target=DecisionState.APPROVED,
        permission=fsm_permission(can_approve),
        custom={
            **_STEP,
            "permission": "payments.approve_decision",
            "second_factor": True,
            "refusal": _(
                "The drafter or the verifier of a decision cannot approve it, and a decision above the"
                " amount threshold needs the head of the service."
            ),
        },
    )
    def approve(self, *, actor: Any, reason: str, number: object) -> None:
        self.approved_by, self.approved_at, self.number = actor, timezone.now(), str(number)

    @transition(
        field=state,
        source=[DecisionState.SUBMITTED, DecisionState.VERIFIED],
        target=DecisionState.REJECTED,
        permission=fsm_permission(can_reject),
        custom={
            **_STEP,
            "permission": "payments.verify_decision",
            "second_factor": True,
            "refusal": _(
                "Only whoever may verify (when submitted) or approve (when verified) a decision returns it,"
                " and never its drafter."
            ),
        },
    )
    def reject(self, *, actor: Any, reason: str) -> None:
        """Back to the drafter with the reason; the next round starts from a new verification."""
        self.rejection_reason = reason
        self.submitted_at = None
        self.verified_by, self.verified_at = None, None


class ProposalReason(models.TextChoices):
    CONTRIBUTIONS_CHANGED = "contributions", _("Contributions in the window changed after the amount was computed")
    DEATH_REPORTED = "death", _("The state registry reports the recipient dead")


class ProposalStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DRAFTED = "drafted", _("Drafted")
    DISMISSED = "dismissed", _("Dismissed")


class DecisionProposal(models.Model):
    """What the system proposes by itself for a specialist to draft; nothing is decided
    automatically (issue 17): a recalculation when contributions inside the window are posted
    or refunded after the amount was computed, a termination when the registry reports the
    recipient dead."""

    recipient = models.ForeignKey(
        Recipient, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind of decision"), max_length=12, choices=DecisionKind.choices)
    reason = models.CharField(_("reason"), max_length=14, choices=ProposalReason.choices)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ProposalStatus.choices, default="open")
    created_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("proposed decision")
        verbose_name_plural = _("proposed decisions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind"], condition=Q(status="open"), name="proposal_one_open_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_reason_display()}"
