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
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contributions import api_schema
from contributions.documents import NoReturnMessage, return_document_csv, return_document_mt102
from contributions.models import Door, OrderStatus, PaymentOrder
from contributions.parsers.jsonorder import iso_date
from contributions.selectors import order_summary, returned_iins
from contributions.services import intake_file, receipt_date_problem
from records.access import log_access, shown_iins
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
        summary="Submit a payment order: a file, or one order as JSON",
        request={"multipart/form-data": api_schema.OrderFileUpload, "application/json": api_schema.JsonOrderEnvelope},
        examples=[api_schema.JSON_ORDER_EXAMPLE],
        responses={
            201: OpenApiResponse(OrdersTakenIn, description="The orders taken in (each being processed)."),
            200: OpenApiResponse(OrdersTakenIn, description="Every order was a duplicate of one taken in before."),
            400: api_schema.BAD_REQUEST,
            413: api_schema.TOO_LARGE,
            415: api_schema.UNSUPPORTED,
            **api_schema.COMMON_ERRORS,
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
            try:  # only for the envelope's receipt date: the order itself is read where every door's is
                data: Any = json.loads(raw)
            except (ValueError, RecursionError):  # kept all the same; the reader names the place
                data = None
            received = self._received(data)
            name = f"api-{timezone.now():%Y%m%d-%H%M%S}.json"
            result = intake_file(raw=raw, file_name=name, door=Door.API, actor=actor, received=received)
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


class OrderDetailApi(APIView):
    """GET /api/v1/orders/{id}/: the status of an order and what happened to its lines."""

    required_permission = "contributions.view_paymentorder"
    permission_classes = [IsAuthenticated, model_permission(required_permission)]

    @extend_schema(
        summary="The status of an order",
        responses={200: OrderOutput, 404: api_schema.NOT_FOUND, **api_schema.COMMON_ERRORS},
    )
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
        summary="The return document of an order, as CSV or as an MT102 payment",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="UTF-8 with a byte order mark, fields separated by ';' and quoted (Excel in"
                " Kazakh and Russian locales); amounts with a decimal point.",
            ),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="An MT102 message, CRLF lines."),
            404: api_schema.NOT_FOUND,
            409: api_schema.NO_MT102,
            **api_schema.COMMON_ERRORS,
        },
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
            query={
                "return_document": order.return_document.number,
                "format": fmt,
                **shown_iins(returned_iins(order.return_document), limit=None),
            },
            row_count=order.return_document.lines_count,
        )
        return response
