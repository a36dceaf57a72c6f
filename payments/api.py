"""The payments API (issue 17): register a recipient from an application, draft a decision on
their payment and take it through its approval (Rules, paragraphs 10-14). Token or session
authentication, as the rest of the API.

The views are adapters: each reads its JSON with an input serializer, calls the service
(``payments.services``) as the signed-in user and answers with the body the output serializer
describes. What the services refuse becomes an answer, never a server error:

- a malformed body, a value of the wrong type, an unknown code: 400, a list of messages per field;
- a rule the request breaks (``DomainError``): 400, ``{"detail": ...}``;
- a step the user may not take (``records.approval.StepNotPermitted``, also without the second
  factor): 403; a step from the wrong state or on a stale version (``WrongState``, ``StalePage``):
  409; in each case nothing changes.

A token never carries the second factor, so a token user cannot verify, approve or return a
decision: those steps need a staff session signed in with it (``records.approval``). The app's
own messages are in English, as the rest of the API's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, cast

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone, translation
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contributions import api_schema
from payments.models import (
    Decision,
    DecisionKind,
    DecisionProposal,
    DecisionState,
    Dependant,
    EndReason,
    PaymentType,
    Recipient,
    RecipientStatus,
    Relation,
)
from payments.services import (
    DependantData,
    decision_approve,
    decision_draft,
    decision_reject,
    decision_submit,
    decision_verify,
    recipient_register,
)
from records.access import log_access, shown_iins
from records.api import model_permission
from records.approval import StepNotPermitted, WrongState
from records.identifiers import validate_iin_bin
from records.models import AccessLog
from records.services import PERSONAL_ITEM_FIELDS

# The largest value of the columns behind the integer inputs (an id, a version, a small count).
MAX_ID = 2**63 - 1
MAX_VERSION = 2**31 - 1
MAX_SMALL = 32767
MAX_DEPENDANTS = 50


def signed_in(request: Request) -> User:
    """The user of a request the view's ``IsAuthenticated`` let through."""
    return cast(User, request.user)


def not_in_the_future(value: date) -> None:
    """A date of something that has happened (an application, a birth, a document issued)."""
    if value > timezone.localdate():
        raise serializers.ValidationError("This date is in the future.")


# --- What the API reads -----------------------------------------------------------------------


class DependantInput(serializers.Serializer[dict[str, Any]]):
    iin = serializers.CharField(max_length=12, validators=[validate_iin_bin], help_text="12 digits.")
    full_name = serializers.CharField(max_length=300)
    birth_date = serializers.DateField(validators=[not_in_the_future], help_text="YYYY-MM-DD.")
    relation = serializers.ChoiceField(choices=Relation.choices, help_text="Relation to the deceased.")


class RecipientInput(serializers.Serializer[dict[str, Any]]):
    """An application for a social payment: the applicant, the payment type and the items of
    paragraph 12 the type needs (the others are ignored)."""

    iin = serializers.CharField(
        max_length=12,
        validators=[validate_iin_bin],
        help_text="The applicant's IIN: a participant, or a person the state registry knows.",
    )
    payment_type = serializers.ChoiceField(choices=PaymentType.choices, help_text="The Fund's code, e.g. 0702.")
    application_date = serializers.DateField(validators=[not_in_the_future], help_text="YYYY-MM-DD.")
    risk_date = serializers.DateField(
        validators=[not_in_the_future], help_text="The date of the social risk (YYYY-MM-DD), not after the application."
    )
    loss_degree = serializers.IntegerField(
        required=False, min_value=1, max_value=100, help_text="0702: the degree of lost ability to work, percent."
    )
    deceased_iin = serializers.CharField(
        required=False, max_length=12, validators=[validate_iin_bin], help_text="0701: the deceased participant."
    )
    dependants = serializers.ListField(
        child=DependantInput(), required=False, max_length=MAX_DEPENDANTS, help_text="0701: the dependants."
    )
    unemployed_registered_on = serializers.DateField(
        required=False, validators=[not_in_the_future], help_text="0703: registered as unemployed on (YYYY-MM-DD)."
    )
    unemployed_certificate = serializers.CharField(
        required=False, max_length=50, help_text="0703: the registration certificate."
    )
    leave_days = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_SMALL, help_text="0704: days of maternity leave."
    )
    child_birth_order = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_SMALL, help_text="0705: the birth order of the child."
    )
    # Items 5-9: the participant's personal data; each value given becomes a dated change record.
    address = serializers.CharField(required=False, max_length=500)
    postal_code = serializers.CharField(required=False, max_length=10)
    id_document_series = serializers.CharField(required=False, max_length=20)
    id_document_number = serializers.CharField(required=False, max_length=30)
    id_document_issued_on = serializers.DateField(
        required=False, validators=[not_in_the_future], help_text="YYYY-MM-DD."
    )
    id_document_issuer = serializers.CharField(required=False, max_length=200)
    citizenship = serializers.CharField(required=False, max_length=100)


class DecisionInput(serializers.Serializer[dict[str, Any]]):
    """A decision to draft; the system computes the amount (assign, recalculate) and the end of
    the payment (terminate)."""

    recipient = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The recipient's id.")
    kind = serializers.ChoiceField(choices=DecisionKind.choices)
    effective_date = serializers.DateField(
        required=False, help_text="suspend, resume, terminate: the date it takes effect (YYYY-MM-DD)."
    )
    suspend_deadline = serializers.DateField(
        required=False, help_text="suspend: the deadline to clear the reason, after the effective date."
    )
    end_reason = serializers.ChoiceField(choices=EndReason.choices, required=False, help_text="terminate.")
    period_end = serializers.DateField(
        required=False, help_text="assign (disability, breadwinner): the last day paid, when it is known."
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="The grounds; suspend and terminate need them."
    )
    proposal = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="The system's proposal this decision answers."
    )


class StepInput(serializers.Serializer[dict[str, Any]]):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_VERSION,
        help_text="The decision's version the client last read: a decision changed since is not changed (409).",
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=1000, help_text="reject: why it goes back to the drafter."
    )


# --- What the API answers ---------------------------------------------------------------------


def _money(**kwargs: Any) -> serializers.DecimalField:
    kwargs.setdefault("help_text", "Tenge: a string with two decimals.")
    return serializers.DecimalField(max_digits=16, decimal_places=2, coerce_to_string=True, **kwargs)


class DependantOutput(serializers.Serializer[dict[str, Any]]):
    iin = serializers.CharField()
    full_name = serializers.CharField()
    birth_date = serializers.DateField()
    relation = serializers.ChoiceField(choices=Relation.choices)
    since = serializers.DateField()
    until = serializers.DateField(allow_null=True)


class DecisionSummary(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DecisionKind.choices)
    state = serializers.ChoiceField(choices=DecisionState.choices)
    number = serializers.CharField(allow_null=True, help_text="YYYY-TTTT-NNNNNN once approved.")
    amount = _money()


class RecipientOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    iin = serializers.CharField()
    payment_type = serializers.ChoiceField(choices=PaymentType.choices)
    status = serializers.ChoiceField(choices=RecipientStatus.choices)
    case_number = serializers.CharField()
    application_date = serializers.DateField()
    risk_date = serializers.DateField()
    decision_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    participation_months = serializers.IntegerField(allow_null=True)
    average_income = _money(allow_null=True)
    loss_degree = serializers.IntegerField(allow_null=True)
    deceased_iin = serializers.CharField(allow_null=True)
    dependants = DependantOutput(many=True)
    unemployed_registered_on = serializers.DateField(allow_null=True)
    unemployed_certificate = serializers.CharField(allow_blank=True)
    leave_days = serializers.IntegerField(allow_null=True)
    child_birth_order = serializers.IntegerField(allow_null=True)
    amount = _money(allow_null=True)
    decisions = DecisionSummary(many=True)


class StepOutput(serializers.Serializer[dict[str, Any]]):
    """One step taken: who, when, from which state to which, and why."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {  # "from" is a Python keyword: no class attribute can be called so
            "step": serializers.CharField(),
            "from": serializers.CharField(),
            "to": serializers.CharField(),
            "by": serializers.CharField(help_text="The user's name."),
            "at": serializers.DateTimeField(),
            "reason": serializers.CharField(allow_blank=True),
        }


class DecisionOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    recipient = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DecisionKind.choices)
    state = serializers.ChoiceField(choices=DecisionState.choices)
    number = serializers.CharField(allow_null=True, help_text="YYYY-TTTT-NNNNNN once approved.")
    amount = _money()
    lump_sum = serializers.BooleanField()
    version = serializers.IntegerField(help_text="Send it back with a step: a decision changed since is refused.")
    effective_date = serializers.DateField()
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    suspend_deadline = serializers.DateField(allow_null=True)
    end_reason = serializers.CharField(allow_blank=True)
    previous_amount = _money(allow_null=True)
    difference = _money(
        allow_null=True, help_text="recalculate: owed for the months already paid (+ to the recipient)."
    )
    legal_basis = serializers.CharField()
    note = serializers.CharField(allow_blank=True)
    needs_head_of_service = serializers.BooleanField(help_text="Above the amount threshold.")
    rejection_reason = serializers.CharField(allow_blank=True)
    steps = StepOutput(many=True)


def recipient_with_items(pk: int) -> Recipient | None:
    return (
        Recipient.objects.select_related("participant", "deceased")
        .prefetch_related(
            Prefetch("dependants", queryset=Dependant.objects.order_by("birth_date", "id")),
            Prefetch("decisions", queryset=Decision.objects.order_by("drafted_at", "id")),
        )
        .filter(pk=pk)
        .first()
    )


def recipient_body(recipient: Recipient) -> dict[str, Any]:
    return {
        "id": recipient.pk,
        "iin": recipient.participant.iin,
        "payment_type": recipient.payment_type,
        "status": recipient.status,
        "case_number": recipient.case_number,
        "application_date": recipient.application_date,
        "risk_date": recipient.risk_date,
        "decision_date": recipient.decision_date,
        "end_date": recipient.end_date,
        "participation_months": recipient.participation_months,
        "average_income": recipient.average_income,
        "loss_degree": recipient.loss_degree,
        "deceased_iin": recipient.deceased.iin if recipient.deceased else None,
        "dependants": [
            {f: getattr(d, f) for f in ("iin", "full_name", "birth_date", "relation", "since", "until")}
            for d in recipient.dependants.all()
        ],
        "unemployed_registered_on": recipient.unemployed_registered_on,
        "unemployed_certificate": recipient.unemployed_certificate,
        "leave_days": recipient.leave_days,
        "child_birth_order": recipient.child_birth_order,
        "amount": recipient.amount,
        "decisions": [
            {"id": d.pk, "kind": d.kind, "state": d.state, "number": d.number, "amount": d.amount}
            for d in recipient.decisions.all()
        ],
    }


DECISION_FIELDS = (
    "kind",
    "state",
    "number",
    "amount",
    "lump_sum",
    "version",
    "effective_date",
    "period_start",
    "period_end",
    "suspend_deadline",
    "end_reason",
    "previous_amount",
    "difference",
    "legal_basis",
    "note",
    "needs_head_of_service",
    "rejection_reason",
)


def log_decision_read(request: Request, decision: Decision, *, view: str, **query: Any) -> None:
    """An answer that shows a decision (its amount, computed from the person's account) is a
    read of the recipient's personal data (Rules, paragraph 5)."""
    log_access(
        request,
        kind=AccessLog.Kind.VIEW,
        view=view,
        participant=decision.recipient.participant,
        query={"decision": decision.pk, **query},
    )


def decision_body(decision: Decision) -> dict[str, Any]:
    steps = [
        {"step": s.step, "from": s.from_state, "to": s.to_state, "by": s.actor.get_username()}
        | {"at": s.taken_at, "reason": s.reason}
        for s in decision.approval_steps()
    ]
    fields = {f: getattr(decision, f) for f in DECISION_FIELDS}
    return {"id": decision.pk, "recipient": decision.recipient_id, **fields, "steps": steps}


# --- How refusals are answered ----------------------------------------------------------------


def refusal(exc: Exception) -> Response:
    """The answer to what a service refused (call it where the message is still in English)."""
    if isinstance(exc, StepNotPermitted):
        return Response({"detail": str(exc)}, status=403)
    if isinstance(exc, WrongState):
        return Response({"detail": " ".join(exc.messages)}, status=409)
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return Response(
            {("non_field_errors" if f == "__all__" else f): m for f, m in exc.message_dict.items()}, status=400
        )
    if isinstance(exc, ValidationError):
        return Response({"detail": " ".join(exc.messages)}, status=400)
    raise exc


REFUSED = (StepNotPermitted, ValidationError)  # WrongState, StalePage and DomainError are ValidationErrors


def _error(description: str, example: dict[str, Any]) -> OpenApiResponse:
    return OpenApiResponse(
        api_schema.ErrorDetail,
        description=description,
        examples=[OpenApiExample("example", value=example, response_only=True)],
    )


class FieldErrors(serializers.Serializer[dict[str, Any]]):
    """A refused request: ``detail`` for a rule of the Rules it breaks, or, for a malformed
    value, a list of messages under the name of each field (``non_field_errors`` for the body
    as a whole). Nothing is stored."""

    detail = serializers.CharField(required=False)
    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


def _bad_request(description: str, example: dict[str, Any]) -> OpenApiResponse:
    return OpenApiResponse(
        FieldErrors,
        description=description,
        examples=[OpenApiExample("example", value=example, response_only=True)],
    )


NOT_FOUND = _error("No such recipient or decision (or no such step).", {"detail": "Not found."})
STEP_FORBIDDEN = _error(
    "A step the user may not take: a role without it, the drafter verifying or approving, the verifier"
    " approving, a head of unit approving above the threshold, or a verify/approve/reject without a"
    " session signed in with the second factor (a token never has it). Nothing changed.",
    {"detail": "The drafter or the approver of a decision cannot verify it."},
)
CONFLICT = _error(
    "A step the decision's state does not allow, or a version that is not the decision's any more"
    " (someone acted first). Nothing changed.",
    {"detail": "This step is not possible in the document's current state (Approved)."},
)
UNSUPPORTED = _error(
    "A body that is not application/json.", {"detail": 'Unsupported media type "text/plain" in request.'}
)


def _step_permission(step: str) -> str | None:
    """The role permission a decision's step needs, as its transition declares it."""
    transition = getattr(Decision, step, None) if step in STEPS else None
    meta = getattr(transition, "_django_fsm", None)
    if meta is None:
        return None
    (declared,) = {t.custom["permission"] for t in meta.transitions.values()}
    return str(declared)


class MayTakeTheStep(BasePermission):
    """The role permission of the step in the URL (``records.approval`` checks it again, with
    the rest, when the step is taken); an unknown step is left to the view's 404."""

    message = "Your roles do not allow this step."

    def has_permission(self, request: Request, view: Any) -> bool:
        permission = _step_permission(view.kwargs.get("step", ""))
        return permission is None or bool(request.user.has_perm(permission))


# --- The views --------------------------------------------------------------------------------


class RecipientCreateApi(APIView):
    """POST /api/v1/recipients/: register an applicant from the application (Rules, paragraphs 10
    and 12)."""

    required_permission = "payments.add_recipient"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="recipient_register",
        summary="Register an applicant as a recipient",
        request=RecipientInput,
        examples=[
            OpenApiExample(
                "Loss of ability to work",
                value={
                    "iin": "791028302728",
                    "payment_type": "0702",
                    "application_date": "2023-12-20",
                    "risk_date": "2023-12-15",
                    "loss_degree": 50,
                },
                request_only=True,
            )
        ],
        responses={
            201: OpenApiResponse(RecipientOutput, description="Registered: the recipient with its id."),
            400: _bad_request(
                "A malformed value, or an application the rules refuse (an IIN nobody knows, the items"
                " the payment type needs missing, an open case file of the same type).",
                {"detail": "Loss of ability to work needs the degree of lost ability, from 30% to 100%."},
            ),
            415: UNSUPPORTED,
            **api_schema.COMMON_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        with translation.override("en"):
            data = RecipientInput(data=request.data)
            data.is_valid(raise_exception=True)
            items = dict(data.validated_data)
            personal = {f: items.pop(f) for f in PERSONAL_ITEM_FIELDS if f in items}
            dependants = [DependantData(**d) for d in items.pop("dependants", [])]
            try:
                recipient = recipient_register(
                    **items, dependants=dependants, personal_items=personal, actor=signed_in(request)
                )
            except REFUSED as exc:
                return refusal(exc)
        registered = recipient_with_items(recipient.pk)
        assert registered is not None  # noqa: S101  # just written, in this request
        return Response(RecipientOutput(recipient_body(registered)).data, status=201)


class RecipientDetailApi(APIView):
    """GET /api/v1/recipients/{id}/: a recipient with the items of paragraph 12 and its decisions
    (a read of personal data, logged)."""

    required_permission = "payments.view_recipient"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]

    @extend_schema(
        operation_id="recipient_read",
        summary="A recipient and its decisions",
        responses={200: RecipientOutput, 404: NOT_FOUND, **api_schema.COMMON_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        recipient = recipient_with_items(pk)
        if recipient is None:
            raise Http404
        body = recipient_body(recipient)
        others = [body["deceased_iin"] or "", *(d["iin"] for d in body["dependants"])]
        log_access(
            request,
            kind=AccessLog.Kind.VIEW,
            view="api:recipient_detail",
            participant=recipient.participant,
            query={"recipient": pk, **shown_iins(others)},
        )
        return Response(RecipientOutput(body).data)


class DecisionCreateApi(APIView):
    """POST /api/v1/decisions/: draft a decision on a recipient's payment; the user is its
    drafter and the system computes the amount."""

    required_permission = "payments.add_decision"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="decision_draft",
        summary="Draft a decision",
        request=DecisionInput,
        examples=[OpenApiExample("Assign", value={"recipient": 1, "kind": "assign"}, request_only=True)],
        responses={
            201: OpenApiResponse(DecisionOutput, description="Drafted (state draft), with the amount computed."),
            400: _bad_request(
                "A malformed value, an unknown recipient or proposal (under its field), or a decision"
                " the rules refuse (another decision of the recipient in progress, no contributions"
                " to compute the amount from, a date the kind needs missing).",
                {"recipient": ["No recipient has this id."]},
            ),
            415: UNSUPPORTED,
            **api_schema.COMMON_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        with translation.override("en"):
            data = DecisionInput(data=request.data)
            data.is_valid(raise_exception=True)
            given = dict(data.validated_data)
            try:
                decision = decision_draft(
                    recipient_id=given.pop("recipient"),
                    proposal_id=given.pop("proposal", None),
                    actor=signed_in(request),
                    **given,
                )
            except Recipient.DoesNotExist:
                return Response({"recipient": ["No recipient has this id."]}, status=400)
            except DecisionProposal.DoesNotExist:
                return Response({"proposal": ["No proposal of this recipient has this id."]}, status=400)
            except REFUSED as exc:
                return refusal(exc)
        log_decision_read(request, decision, view="api:decision_draft")
        return Response(DecisionOutput(decision_body(decision)).data, status=201)


class DecisionDetailApi(APIView):
    """GET /api/v1/decisions/{id}/: a decision with its amount, its state and every step taken
    (a read of personal data, logged)."""

    required_permission = "payments.view_decision"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]

    @extend_schema(
        operation_id="decision_read",
        summary="A decision and its steps",
        responses={200: DecisionOutput, 404: NOT_FOUND, **api_schema.COMMON_ERRORS},
    )
    def get(self, request: Request, pk: int) -> Response:
        decision = Decision.objects.select_related("recipient__participant").filter(pk=pk).first()
        if decision is None:
            raise Http404
        log_decision_read(request, decision, view="api:decision_detail")
        return Response(DecisionOutput(decision_body(decision)).data)


def _submit(pk: int, user: User, version: int | None, reason: str) -> Decision:
    return decision_submit(decision_id=pk, actor=user, version=version)


def _verify(pk: int, user: User, version: int | None, reason: str) -> Decision:
    return decision_verify(decision_id=pk, actor=user, version=version)


def _approve(pk: int, user: User, version: int | None, reason: str) -> Decision:
    return decision_approve(decision_id=pk, actor=user, version=version)


def _reject(pk: int, user: User, version: int | None, reason: str) -> Decision:
    return decision_reject(decision_id=pk, actor=user, version=version, reason=reason)


STEPS: dict[str, Callable[[int, User, int | None, str], Decision]] = {
    "submit": _submit,
    "verify": _verify,
    "approve": _approve,
    "reject": _reject,
}


class DecisionStepApi(APIView):
    """POST /api/v1/decisions/{id}/{step}/: submit, verify, approve or reject (return to the
    drafter with a reason) a decision, as the signed-in user."""

    required_permission = "payments.view_decision"  # and the step's own (``MayTakeTheStep``)
    permission_classes = [IsAuthenticated, model_permission(required_permission), MayTakeTheStep]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="decision_step",
        summary="Take a step of a decision's approval",
        description="submit (the drafter), verify (a level-6 specialist, not the drafter), approve (a head;"
        " above the threshold the head of the service), reject (back to the drafter, with a reason)."
        " verify, approve and reject need a staff session signed in with the second factor.",
        parameters=[OpenApiParameter("step", str, OpenApiParameter.PATH, enum=list(STEPS))],
        request=StepInput,
        responses={
            200: OpenApiResponse(DecisionOutput, description="Taken: the decision in its new state."),
            400: _bad_request(
                "A malformed body, or a return without its reason.",
                {"detail": "Give the reason the decision is returned."},
            ),
            403: STEP_FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
            415: UNSUPPORTED,
            401: api_schema.UNAUTHENTICATED,
            429: api_schema.THROTTLED,
        },
    )
    def post(self, request: Request, pk: int, step: str) -> Response:
        take = STEPS.get(step)
        if take is None:
            raise Http404
        with translation.override("en"):
            data = StepInput(data=request.data)
            data.is_valid(raise_exception=True)
            try:
                given = data.validated_data
                decision = take(pk, signed_in(request), given.get("version"), given.get("reason", ""))
            except Decision.DoesNotExist:
                raise Http404 from None
            except REFUSED as exc:
                return refusal(exc)
        log_decision_read(request, decision, view="api:decision_step", step=step)
        return Response(DecisionOutput(decision_body(decision)).data)
