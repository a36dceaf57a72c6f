"""The API of the monthly payments (issue 18): a month's run with its totals per bank, and a
bank's confirmation of a payment list submitted like a payment order (the raw bytes kept first,
a second copy answered as a duplicate)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contributions import api_schema
from contributions.services.common import DomainError
from payments.api import signed_in
from payments.models import PaymentRun
from payments.selectors.runs import run_summary
from payments.services.confirmations import MAX_BYTES, confirmation_take_in
from payments.services.runs import month_of
from records.api import model_permission


class ListTotals(serializers.Serializer[dict[str, Any]]):
    number = serializers.CharField()
    bank = serializers.CharField(help_text="BIC")
    bank_name = serializers.CharField()
    count = serializers.IntegerField()
    gross = serializers.CharField(help_text="Tenge, two decimals")
    withheld = serializers.CharField(help_text="Pension contributions withheld, tenge")
    net = serializers.CharField()
    checksum = serializers.CharField(help_text="SHA-256 of the list's lines")


class HeldReasonCount(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field of the answer named "label"
    count = serializers.IntegerField()
    net = serializers.CharField()


class HeldBack(serializers.Serializer[dict[str, Any]]):
    count = serializers.IntegerField()
    reasons = HeldReasonCount(many=True)


class Totals(serializers.Serializer[dict[str, Any]]):
    count = serializers.IntegerField()
    gross = serializers.CharField()
    withheld = serializers.CharField()
    net = serializers.CharField()


class RunOutput(serializers.Serializer[dict[str, Any]]):
    month = serializers.CharField(help_text="YYYY-MM")
    state = serializers.CharField(help_text="building, built or released")
    lists = ListTotals(many=True)
    held_back = HeldBack()
    totals = Totals()


class ConfirmationUpload(serializers.Serializer[dict[str, Any]]):
    file = api_schema.UploadedFile(help_text="CSV, UTF-8, ';': list;line;iin;amount;status;reason; at most 50 MB.")


class Problem(serializers.Serializer[dict[str, Any]]):
    line = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class ConfirmationOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    file_name = serializers.CharField()
    state = serializers.CharField(help_text="taken or refused")
    duplicate = serializers.BooleanField()
    list = serializers.CharField(allow_null=True)
    credited = serializers.IntegerField()
    not_credited = serializers.IntegerField()
    problems = Problem(many=True)


class PaymentRunApi(APIView):
    """GET /api/v1/payment-runs/{month}/: the run's state and its totals per bank (no person)."""

    required_permission = "payments.view_paymentrun"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]

    @extend_schema(
        operation_id="payment_run_read",
        summary="A month's payment run: state and totals per bank",
        responses={200: RunOutput, 404: api_schema.NOT_FOUND, **api_schema.COMMON_ERRORS},
    )
    def get(self, request: Request, month: str) -> Response:
        try:
            run = PaymentRun.objects.filter(month=month_of(month)).first()
        except DomainError as exc:
            raise Http404 from exc
        if run is None:
            raise Http404
        summary = run_summary(run)
        summary.pop("progress", None)
        return Response(RunOutput(summary).data)


class ConfirmationSubmitApi(APIView):
    """POST /api/v1/payment-confirmations/: a bank's confirmation of a released payment list
    (multipart ``file``). 201 taken in (lines that did not match are listed under ``problems``,
    with their line numbers); 200 the same file again (nothing taken twice); 400 a file refused
    as a whole (kept as received; ``problems`` says why)."""

    required_permission = "payments.add_confirmationfile"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="payment_confirmation_submit",
        summary="Submit a bank's confirmation of a payment list",
        request={"multipart/form-data": ConfirmationUpload},
        responses={
            201: OpenApiResponse(ConfirmationOutput, description="Taken in."),
            200: OpenApiResponse(ConfirmationOutput, description="The same file was taken in before."),
            400: OpenApiResponse(ConfirmationOutput, description="Refused as a whole, or no file."),
            413: api_schema.TOO_LARGE,
            415: api_schema.UNSUPPORTED,
            **api_schema.COMMON_ERRORS,
        },
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"file": ["Attach the confirmation file as 'file'."]}, status=400)
        if upload.size and upload.size > MAX_BYTES:
            return Response({"file": [f"The file is larger than {MAX_BYTES} bytes."]}, status=413)
        try:
            name = upload.name or "confirmation.csv"
            result = confirmation_take_in(raw=upload.read(), file_name=name, actor=signed_in(request))
        except DomainError as exc:
            return Response({"file": exc.messages}, status=400)
        stored = result.file
        body = {
            "id": stored.pk,
            "file_name": stored.file_name,
            "state": stored.state,
            "duplicate": result.duplicate,
            "list": stored.payment_list.number if stored.payment_list is not None else None,
            "credited": stored.credited,
            "not_credited": stored.not_credited,
            "problems": result.problems,
        }
        status = 200 if result.duplicate else 400 if stored.state == "refused" else 201
        return Response(ConfirmationOutput(body).data, status=status)
