"""The API for banks and state systems: submit a payment order (a file or JSON), read its status
and its return document (Rules, paragraph 6). Token or session authentication."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contributions.documents import NoReturnMessage, return_document_csv, return_document_mt102
from contributions.models import Door, OrderStatus, PaymentOrder
from contributions.parsers.base import ParsedFile, ParseError
from contributions.parsers.jsonorder import iso_date, parse_json_order
from contributions.selectors import order_summary
from contributions.services import intake_file, receipt_date_problem
from records.access import log_access
from records.api import model_permission
from records.models import AccessLog
from records.services import Actor

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def orders_visible_to(user: Any) -> Any:
    """Staff who read orders see all; an API client sees the orders it submitted."""
    orders = PaymentOrder.objects.all()
    if user.has_perm("contributions.resolve_review") or user.has_perm("contributions.view_orderline"):
        return orders
    return orders.filter(file__submitted_by=user)


class OrderOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    number = serializers.CharField()
    document_date = serializers.DateField(allow_null=True)
    payer = serializers.CharField()
    knp = serializers.CharField()
    received = serializers.DateField()
    deadline = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    lines = serializers.IntegerField()
    lines_posted = serializers.IntegerField()
    lines_returned = serializers.IntegerField()
    amount = serializers.CharField(help_text="Two decimals, dot separator.")
    amount_posted = serializers.CharField()
    amount_returned = serializers.CharField()
    return_reasons = serializers.DictField(child=serializers.IntegerField())
    errors = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]  # popped by DRF


class OrdersTakenIn(serializers.Serializer[dict[str, Any]]):
    file = serializers.IntegerField()
    orders = OrderOutput(many=True)


class OrderSubmitApi(APIView):
    """POST /api/v1/orders/: a file (multipart ``file``, MT102/CSV/XLSX) or one order as JSON.

    The raw bytes are stored first. 201 with the orders taken in; 200 when every order was a
    duplicate of one already taken in (a re-submission changes nothing).
    """

    required_permission = "contributions.submit_order"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        request={
            "multipart/form-data": inline_serializer(
                name="OrderFileUpload",
                fields={"file": serializers.FileField(), "received": serializers.DateField(required=False)},
            ),
            "application/json": OpenApiTypes.OBJECT,
        },
        responses={
            201: OrdersTakenIn,
            200: OpenApiResponse(OrdersTakenIn, description="Every order was a duplicate of one taken in before."),
            400: OpenApiResponse(
                description="No file attached, or a receipt date that is not YYYY-MM-DD: nothing is stored."
                " (A body that is not JSON is stored, and its order needs review.)"
            ),
        },
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        actor = Actor.of(request.user)
        if request.content_type.startswith("multipart/"):
            received = self._received(request.data)
            upload = request.FILES.get("file")
            if upload is None:
                return Response({"file": ["Attach the order file as 'file'."]}, status=400)
            if upload.size and upload.size > MAX_UPLOAD_BYTES:
                return Response({"file": [f"The file is larger than {MAX_UPLOAD_BYTES} bytes."]}, status=413)
            raw = upload.read()
            result = intake_file(
                raw=raw, file_name=upload.name or "upload", door=Door.API, actor=actor, received=received
            )
        else:
            if request.content_type != "application/json":
                raise UnsupportedMediaType(request.content_type)
            # Read here, not through request.data: a body that is not JSON at all is still what
            # the payer sent, and is kept (with one order that needs review) like any broken file.
            try:
                raw = request.body
            except RequestDataTooBig:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                message = f"A JSON body may be at most {limit} bytes: send a larger order as a file."
                return Response({"detail": message}, status=413)
            data: Any = None
            problem: ParseError | None = None
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, too deep, too long a number
                problem = _json_problem(raw, exc)
            received = self._received(data)
            if problem is not None:
                parsed = ParsedFile(encoding="utf-8", orders=[], errors=[problem])
            else:
                parsed_order = parse_json_order(data.get("order", data) if isinstance(data, dict) else data)
                parsed = ParsedFile(encoding="utf-8", orders=[parsed_order])
            name = f"api-{timezone.now():%Y%m%d-%H%M%S}.json"
            result = intake_file(raw=raw, file_name=name, door=Door.API, actor=actor, received=received, parsed=parsed)
        orders = [order_summary(o) for o in result.orders]
        all_duplicates = all(o["status"] == OrderStatus.DUPLICATE for o in orders)
        return Response({"file": result.file.pk, "orders": orders}, status=200 if all_duplicates else 201)

    @staticmethod
    def _received(data: Any) -> date | None:
        value = data.get("received") if hasattr(data, "get") else None
        if not value:
            return None
        received = iso_date(str(value))
        if received is None:
            raise serializers.ValidationError({"received": ["Use the form YYYY-MM-DD."]})
        with translation.override("en"):  # the API's own messages are English
            problem = receipt_date_problem(received)
        if problem is not None:
            raise serializers.ValidationError({"received": [problem]})
        return received


def _json_problem(raw: bytes, exc: Exception) -> ParseError:
    """Where a body that is not JSON breaks, as the line of the file it concerns."""
    if isinstance(exc, json.JSONDecodeError):
        return ParseError(
            exc.lineno, gettext_noop("not valid JSON (column %(column)s): %(error)s"), column=exc.colno, error=exc.msg
        )
    if isinstance(exc, UnicodeDecodeError):
        line = raw[: exc.start].count(b"\n") + 1
        return ParseError(line, gettext_noop("not valid JSON: the body is not UTF-8 text"))
    return ParseError(0, gettext_noop("not valid JSON: %(error)s"), error=type(exc).__name__)


class OrderDetailApi(APIView):
    """GET /api/v1/orders/{id}/: the status of an order and what happened to its lines."""

    required_permission = "contributions.view_paymentorder"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]

    @extend_schema(responses=OrderOutput)
    def get(self, request: Request, pk: int) -> Response:
        order = orders_visible_to(request.user).filter(pk=pk).first()
        if order is None:
            raise Http404
        return Response(order_summary(order))


class ReturnDocumentApi(APIView):
    """GET /api/v1/orders/{id}/return-document.{csv|mt102}: the lines returned to the payer."""

    required_permission = "contributions.view_returndocument"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "text/plain"): OpenApiTypes.STR,
            409: OpenApiResponse(
                description="No MT102 for this document (nothing to pay back, or no account to address it "
                "to); the CSV is there."
            ),
        }
    )
    def get(self, request: Request, pk: int, fmt: str) -> HttpResponse:
        order = orders_visible_to(request.user).filter(pk=pk).select_related("return_document").first()
        if order is None or fmt not in ("csv", "mt102") or not hasattr(order, "return_document"):
            raise Http404
        if fmt == "csv":
            body, content_type = return_document_csv(order.return_document), "text/csv; charset=utf-8"
        else:
            try:
                body, content_type = return_document_mt102(order.return_document), "text/plain; charset=utf-8"
            except NoReturnMessage as exc:
                return Response({"detail": exc.reason}, status=409)  # English, like the API's errors
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{order.return_document.number}.{fmt}"'
        log_access(
            request,
            kind=AccessLog.Kind.EXPORT,
            view="api:return_document",
            query={"return_document": order.return_document.number, "format": fmt},
            row_count=order.return_document.lines_count,
        )
        return response
