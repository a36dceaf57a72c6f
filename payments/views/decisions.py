"""Staff pages of decisions (Rules, paragraphs 11 and 14; conventions: "Recipients and
decisions", "Benefit amounts"): the amount preview, drafting and correcting a decision, the
decision with its history and the steps of its approval, each role's queue, and what the system
proposes. Thin: the reads are in ``payments.selectors.decisions``, the writes and every rule in
``payments.services.decisions`` and ``records.approval``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import ConcurrentTransition

from contributions.services import DomainError
from payments.benefits import NoAmount
from payments.forms.decisions import DecisionDraftForm, DecisionRedraftForm, DecisionStepForm, ProposalDismissForm
from payments.models import Decision, DecisionKind, DecisionProposal, DecisionState, Recipient
from payments.selectors.decisions import (
    PERIOD_END_TYPES,
    STEPS,
    Deadline,
    decision_history,
    decision_queue,
    decisions_with_people,
    difference_rows,
    explain_calculation,
    kinds_allowed,
    open_decision,
    open_proposal,
    proposal_page,
    queue_people,
    recipients_with_people,
    submission_deadline,
    threshold_of,
)
from payments.services import (
    amount_for,
    decision_approve,
    decision_draft,
    decision_redraft,
    decision_reject,
    decision_submit,
    decision_verify,
    proposal_dismiss,
)
from payments.services.decisions import legal_basis
from records.access import log_access, requires, shown_iins
from records.approval import SecondFactorMissing, StalePage, StepNotPermitted, WrongState
from records.approval import step_allowed as may_take
from records.formatting import VIEW_LABELS
from records.models import AccessLog

# What the access log page calls the reads these pages log.
DECISION_VIEW_LABELS = {
    "amount_preview": gettext_lazy("Amount preview"),
    "decision_new": gettext_lazy("Draft a decision"),
    "decision_detail": gettext_lazy("Decision page"),
    "decision_redraft": gettext_lazy("Correct the decision"),
    "decision_queue": gettext_lazy("Decisions: my queue"),
    "proposal_list": gettext_lazy("Proposed by the system"),
}


def register_view_labels() -> None:
    """Called by ``PaymentsConfig.ready``."""
    VIEW_LABELS.update(DECISION_VIEW_LABELS)


def _staff(request: HttpRequest) -> User:
    """The signed-in user (every view here requires sign-in)."""
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - requires() lets no anonymous user in
    return user


def _log_recipient(request: HttpRequest, recipient: Recipient, *, view: str, **query: Any) -> None:
    """A page showing a recipient is a read of their personal data (and, for loss of breadwinner,
    of the deceased's account): one access-log row naming them (Rules, paragraph 5)."""
    people = [recipient.participant.iin, recipient.account_holder.iin]
    log_access(
        request,
        kind=AccessLog.Kind.VIEW,
        view=view,
        participant=recipient.participant,
        query={"recipient": recipient.pk, **query, **shown_iins(people)},
    )


def _form_errors(form: Any) -> str:
    return " ".join(
        str(message) if name == "__all__" else f"{form[name].label}: {message}"
        for name, errors in form.errors.items()
        for message in errors
    )


# --- The amount preview ----------------------------------------------------------------------------


@requires("payments.view_recipient")
@require_GET
def amount_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The amount computed now from the personal account, with its formula, every input and
    the parameters used; or the reason there is none."""
    recipient = get_object_or_404(recipients_with_people(), pk=pk)
    _log_recipient(request, recipient, view="amount_preview")
    context: dict[str, Any] = {"recipient": recipient}
    try:
        context["calculation"] = explain_calculation(amount_for(recipient).as_json())
    except NoAmount as exc:
        context["no_amount"] = str(exc)
    context["legal_basis"] = legal_basis(recipient.payment_type, recipient.risk_date)
    return render(request, "payments/decisions/amount_preview.html", context)


# --- Drafting and correcting ------------------------------------------------------------------------


def _proposal_id(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 19 else None


@requires("payments.add_decision")
@require_http_methods(["GET", "POST"])
def decision_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Draft a decision on a recipient: the kinds its status allows; optionally from a proposal."""
    recipient = get_object_or_404(recipients_with_people(), pk=pk)
    user = _staff(request)
    kinds = kinds_allowed(recipient)
    in_progress = open_decision(recipient)
    proposal_id = _proposal_id(
        request.POST.get("proposal") if request.method == "POST" else request.GET.get("proposal")
    )
    proposal = open_proposal(recipient, proposal_id) if proposal_id else None
    initial: dict[str, Any] = {}
    if proposal is not None and proposal.kind in kinds:
        initial = {"kind": proposal.kind, "proposal": proposal.pk, "note": proposal.get_reason_display()}
    form = DecisionDraftForm(
        request.POST or None, initial=initial, kinds=kinds, period_end=recipient.payment_type in PERIOD_END_TYPES
    )
    if request.method == "GET":
        if proposal_id and proposal is None:
            messages.warning(request, _("This proposal is no longer open: draft without it, or go back to the list."))
    elif form.is_valid():
        if proposal_id and proposal is None:
            form.add_error(None, _("This proposal is no longer open for this kind of decision."))
        else:
            try:
                decision = decision_draft(
                    recipient_id=recipient.pk,
                    kind=form.cleaned_data["kind"],
                    actor=user,
                    note=form.cleaned_data["note"],
                    proposal_id=proposal.pk if proposal is not None else None,
                    **form.decision_values(),
                )
            except DomainError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The decision was drafted. Check it, then submit it for verification."))
                return redirect("decision_detail", pk=decision.pk)
    _log_recipient(request, recipient, view="decision_new")  # the form, new or with its errors, names them
    context = {"recipient": recipient, "form": form, "kinds": kinds, "in_progress": in_progress, "proposal": proposal}
    return render(request, "payments/decisions/decision_new.html", context)


def _redraft_refusal(decision: Decision, user: User) -> str | None:
    if decision.drafted_by_id != user.pk:
        return _("Only the drafter corrects a decision.")
    if decision.state not in (DecisionState.DRAFT, DecisionState.REJECTED):
        return _("Only a draft or a decision returned to the drafter can be corrected.")
    return None


@requires("payments.add_decision")
@require_http_methods(["GET", "POST"])
def decision_redraft_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The drafter corrects a draft or a decision returned to them; the amount is computed again."""
    decision = get_object_or_404(decisions_with_people(), pk=pk)
    user = _staff(request)
    refusal = _redraft_refusal(decision, user)
    if refusal is not None:  # the page says why; a form posted anyway goes back to the decision
        if request.method == "POST":
            messages.error(request, refusal)
            return redirect("decision_detail", pk=decision.pk)
        _log_recipient(request, decision.recipient, view="decision_redraft", decision=decision.pk)
        context = {"decision": decision, "recipient": decision.recipient, "refusal": refusal}
        return render(request, "payments/decisions/decision_redraft.html", context)
    initial = {
        "version": decision.version,
        "effective_date": decision.effective_date,
        "suspend_deadline": decision.suspend_deadline,
        "end_reason": decision.end_reason,
        "period_end": decision.period_end,
        "note": decision.note,
    }
    form = DecisionRedraftForm(
        request.POST or None,
        initial=initial,
        kind=decision.kind,
        period_end=decision.kind == DecisionKind.ASSIGN and decision.recipient.payment_type in PERIOD_END_TYPES,
    )
    if request.method == "POST" and form.is_valid():
        try:
            decision_redraft(
                decision_id=decision.pk,
                actor=user,
                version=form.cleaned_data["version"],
                note=form.cleaned_data["note"],
                **form.decision_values(),
            )
        except (StalePage, ConcurrentTransition):
            messages.error(request, _stale_message())
            return redirect("decision_detail", pk=decision.pk)
        except (StepNotPermitted, WrongState) as exc:
            messages.error(request, " ".join(_words(exc)))
            return redirect("decision_detail", pk=decision.pk)
        except DomainError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The decision was corrected and its amount computed again."))
            return redirect("decision_detail", pk=decision.pk)
    _log_recipient(request, decision.recipient, view="decision_redraft", decision=decision.pk)
    context = {"decision": decision, "recipient": decision.recipient, "form": form}
    return render(request, "payments/decisions/decision_redraft.html", context)


# --- The decision and the steps of its approval -------------------------------------------------------


@requires("payments.view_decision")
@require_GET
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The decision as a document, its calculation, its history and the steps this user may
    take now (each a form carrying the version the page shows)."""
    decision = get_object_or_404(decisions_with_people(), pk=pk)
    user = _staff(request)
    recipient = decision.recipient
    _log_recipient(request, recipient, view="decision_detail", decision=decision.pk)
    steps = [step for step in STEPS if may_take(decision, step, user)]
    deadline_day = submission_deadline(decision)
    deadline = None
    if deadline_day is not None:
        done = decision.verified_at if decision.state != DecisionState.SUBMITTED else None
        deadline = Deadline.of(
            deadline_day, today=timezone.localdate(), done_on=timezone.localdate(done) if done else None
        )
    context = {
        "decision": decision,
        "recipient": recipient,
        "calculation": explain_calculation(decision.calculation) if decision.calculation else None,
        "legal_basis": legal_basis(recipient.payment_type, recipient.risk_date),
        "history": decision_history(decision),
        "threshold": threshold_of(decision),
        "difference_months": difference_rows(decision),
        "steps": steps,
        "deadline": deadline,
        "may_redraft": user.has_perm("payments.add_decision") and _redraft_refusal(decision, user) is None,
    }
    return render(request, "payments/decisions/decision_detail.html", context)


STEP_SERVICES = {
    "submit": decision_submit,
    "verify": decision_verify,
    "approve": decision_approve,
}


def _stale_message() -> str:
    return _("Someone changed this decision after you opened it: nothing was changed. Here it is as it is now.")


def _words(exc: Exception) -> list[str]:
    found = getattr(exc, "messages", None) or [str(exc)]
    return [str(message) for message in found if str(message)]


@requires("payments.view_decision")
@require_POST
def decision_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    """Take one step of the approval. Whether this user may take it, in this state, on this
    version of the page, with the second factor where it is needed: ``records.approval``
    decides; every refusal is said on the decision's page and changes nothing."""
    if step not in STEPS:
        raise Http404
    decision = get_object_or_404(Decision.objects.only("pk", "version"), pk=pk)
    user = _staff(request)
    form = DecisionStepForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, _("The page sent was incomplete: nothing was changed. %(errors)s") % {"errors": _form_errors(form)}
        )
        return redirect("decision_detail", pk=decision.pk)
    version = form.cleaned_data["version"]
    try:
        if step == "reject":
            done = decision_reject(
                decision_id=decision.pk, actor=user, reason=form.cleaned_data["reason"], version=version
            )
        else:
            done = STEP_SERVICES[step](decision_id=decision.pk, actor=user, version=version)
    except SecondFactorMissing:
        messages.error(
            request,
            _(
                "This step needs a sign-in with the one-time code of your authenticator app: sign in with"
                " the code, then take the step again. Nothing was changed."
            ),
        )
        return redirect(_sign_in_with_the_code(reverse("decision_detail", args=[decision.pk])))
    except StepNotPermitted as exc:
        messages.error(request, " ".join([*_words(exc), _("Nothing was changed.")]))
    except (StalePage, ConcurrentTransition):
        messages.error(request, _stale_message())
    except WrongState as exc:
        messages.error(request, " ".join([_stale_message(), *_words(exc)]))
    except DomainError as exc:
        messages.error(request, " ".join([*_words(exc), _("Nothing was changed.")]))
    else:
        messages.success(request, _step_done(step, done))
    return redirect("decision_detail", pk=decision.pk)


def _sign_in_with_the_code(then: str) -> str:
    """The page where a session signed in with the password only gives the one-time code, and
    comes back to ``then`` (the decision's page itself if the site has no such page)."""
    try:
        return f"{reverse('otp_verify')}?{urlencode({'next': then})}"
    except NoReverseMatch:
        return then


def _step_done(step: str, decision: Decision) -> str:
    if step == "submit":
        return _("The decision was submitted for verification.")
    if step == "verify":
        return _("The decision was verified; a head approves it.")
    if step == "approve":
        return _("The decision was approved: number %(number)s.") % {"number": decision.number}
    return _("The decision was returned to the drafter.")


# --- Queues and proposals ---------------------------------------------------------------------------------


@requires("payments.view_decision")
@require_GET
def decision_queue_view(request: HttpRequest) -> HttpResponse:
    """Each role's queue: to verify, to approve (within the approver's limit), returned to me, my
    drafts and the applications waiting for a decision, with their deadlines."""
    sections, calendar_complete = decision_queue(request, _staff(request))
    people = queue_people(sections)
    log_access(
        request, kind=AccessLog.Kind.VIEW, view="decision_queue", query=shown_iins(people), row_count=len(people)
    )
    context = {"sections": sections, "calendar_complete": calendar_complete, "today": timezone.localdate()}
    return render(request, "payments/decisions/decision_queue.html", context)


@requires("payments.view_decisionproposal")
@require_GET
def proposal_list(request: HttpRequest) -> HttpResponse:
    """What the system proposes for a specialist to draft: recalculations, terminations."""
    page = proposal_page(request)
    people = [proposal.recipient.participant.iin for proposal in page.object_list]
    log_access(request, kind=AccessLog.Kind.VIEW, view="proposal_list", query=shown_iins(people), row_count=len(people))
    return render(request, "payments/decisions/proposal_list.html", {"page": page, "form": ProposalDismissForm()})


@requires("payments.add_decision")
@require_POST
def proposal_dismiss_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A proposal that needs no decision is dismissed with the reason why."""
    proposal = get_object_or_404(DecisionProposal.objects.only("pk"), pk=pk)
    form = ProposalDismissForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("proposal_list")
    try:
        proposal_dismiss(proposal_id=proposal.pk, actor=_staff(request), note=form.cleaned_data["note"])
    except DomainError as exc:
        messages.error(request, " ".join(_words(exc)))
    else:
        messages.success(request, _("The proposal was dismissed."))
    return redirect(reverse("proposal_list"))
