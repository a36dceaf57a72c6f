"""What the API documentation (``/api/docs/``, drf-spectacular) says of the order API: the JSON
order a bank may send (``contributions.parsers.jsonorder``), a file upload as multipart, and
the JSON of every error answer. Documentation only: the views read requests as they always
have, and a field described here as required is, when missing, an order problem (the order
is kept and needs review), not a 400."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema_field
from rest_framework import serializers

AMOUNT_HELP = 'Tenge: a string with two decimals ("7000.00"; a comma also works) or a number.'


class JsonPayer(serializers.Serializer[dict[str, Any]]):
    idn = serializers.CharField(help_text="The payer's IIN/BIN, 12 digits.")
    name = serializers.CharField()
    account = serializers.CharField(help_text="The payer's IBAN (KZ…, 20 characters).")
    bic = serializers.CharField(required=False, help_text="The payer's bank; a return payment needs it.")


class JsonPayee(serializers.Serializer[dict[str, Any]]):
    idn = serializers.CharField(help_text="The State Corporation's BIN.")
    bic = serializers.CharField()
    account = serializers.CharField(help_text="The State Corporation's IBAN the money was paid into.")


class JsonLine(serializers.Serializer[dict[str, Any]]):
    iin = serializers.CharField(help_text="The individual's IIN, 12 digits.")
    last_name = serializers.CharField()
    first_name = serializers.CharField()
    patronymic = serializers.CharField(required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, help_text="YYYY-MM-DD.")
    period = serializers.CharField(help_text="The month paid for: YYYY-MM (MMYYYY and YYYYMM are read too).")
    amount = serializers.CharField(help_text=AMOUNT_HELP)


class JsonOrder(serializers.Serializer[dict[str, Any]]):
    """One payment order as JSON (the same content as an MT102 message)."""

    reference = serializers.CharField(help_text="The bank's reference (MT102 :20:), at most 16 characters.")
    number = serializers.CharField(help_text="The order's number (/NUM/); an integer is read too.")
    document_date = serializers.DateField(help_text="YYYY-MM-DD.")
    payer = JsonPayer()
    payee = JsonPayee()
    knp = serializers.CharField(help_text="Payment purpose code: 012 contributions, 017 penalties.")
    total = serializers.CharField(help_text=AMOUNT_HELP + " The sum of the lines.")
    value_date = serializers.DateField(help_text="YYYY-MM-DD.")
    currency = serializers.CharField(required=False, help_text="KZT when left out; any other needs review.")
    lines = JsonLine(many=True)


class JsonOrderEnvelope(serializers.Serializer[dict[str, Any]]):
    """The order itself (``JsonOrder``) or wrapped with its receipt date."""

    order = JsonOrder()
    received = serializers.DateField(
        required=False, help_text="The bank-statement date the money arrived (YYYY-MM-DD); today when left out."
    )


@extend_schema_field(OpenApiTypes.BINARY)
class UploadedFile(serializers.FileField):
    """A file in a multipart body: binary, so Swagger UI offers a file picker (a plain FileField
    is described as a URI, as a response would give it)."""


class OrderFileUpload(serializers.Serializer[dict[str, Any]]):
    file = UploadedFile(help_text="MT102 (one or many messages), or a CSV/XLSX list; at most 50 MB.")
    received = serializers.DateField(
        required=False, help_text="The bank-statement date the money arrived (YYYY-MM-DD); today when left out."
    )


JSON_ORDER_EXAMPLE = OpenApiExample(
    "One order with one line",
    value={
        "received": "2023-11-24",
        "order": {
            "reference": "SO231124000009",
            "number": "501",
            "document_date": "2023-11-24",
            "payer": {"idn": "150540012348", "name": 'ТОО "СИНТЕТИКА"', "account": "KZ699990000000000001"},
            "payee": {"idn": "160440007161", "bic": "GCVPKZ2A", "account": "KZ429990000000000002"},
            "knp": "012",
            "total": "7000.00",
            "value_date": "2023-11-24",
            "lines": [
                {
                    "iin": "791028302728",
                    "last_name": "ИВАНОВ",
                    "first_name": "ИВАН",
                    "patronymic": "ИВАНОВИЧ",
                    "birth_date": "1979-10-28",
                    "period": "2023-10",
                    "amount": "7000.00",
                }
            ],
        },
    },
    request_only=True,
)


class ErrorDetail(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField(
        help_text="What went wrong: the app's own messages in English; the framework's (sign-in,"
        " permission, not found, throttling) in the request's Accept-Language (Kazakh by default)."
    )


class ErrorFields(serializers.Serializer[dict[str, Any]]):
    """A refused request: a list of messages per field named in the request."""

    file = serializers.ListField(child=serializers.CharField(), required=False)
    received = serializers.ListField(child=serializers.CharField(), required=False)


def _error(description: str, serializer: Any = ErrorDetail, example: dict[str, Any] | None = None) -> OpenApiResponse:
    examples = [OpenApiExample("example", value=example, response_only=True)] if example else []
    return OpenApiResponse(serializer, description=description, examples=examples)


UNAUTHENTICATED = _error(
    "No credentials, or a token that is not valid: send `Authorization: Token <key>` (the answer"
    " carries `WWW-Authenticate: Token`).",
    example={"detail": "Authentication credentials were not provided."},
)
FORBIDDEN = _error(
    "An account whose role does not allow this call (or a staff session's form without its CSRF token).",
    example={"detail": "You do not have permission to perform this action."},
)
NOT_FOUND = _error(
    "No such order, or not one this account submitted (a bank sees only its own), or no return document.",
    example={"detail": "Not found."},
)
THROTTLED = _error(
    "Too many requests: wait the seconds the Retry-After header names.",
    example={"detail": "Request was throttled. Expected available in 12 seconds."},
)
BAD_REQUEST = _error(
    "Nothing is stored: no file attached (multipart), a receipt date that is not YYYY-MM-DD, in the"
    " future or outside the working-day calendar, or a multipart body that cannot be read. (A JSON"
    " body that is not a valid order is stored all the same, and its order needs review: see"
    " `errors` of the order.)",
    serializer=ErrorFields,
    example={"received": ["Use the form YYYY-MM-DD."]},
)
TOO_LARGE = _error(
    'A file over 50 MB (`{"file": [...]}`), or a JSON body over the limit (`{"detail": ...}`): send a'
    " larger order as a file. Nothing is stored.",
    example={"detail": "A JSON body may be at most 2621440 bytes: send a larger order as a file."},
)
UNSUPPORTED = _error(
    "A body that is neither multipart/form-data nor application/json.",
    example={"detail": 'Unsupported media type "text/plain" in request.'},
)
NO_MT102 = _error(
    "No MT102 for this document (nothing to pay back, or no account to address it to); the CSV is there.",
    example={"detail": "The returned lines carry no money, so there is no payment to make; the CSV lists them."},
)
COMMON_ERRORS = {401: UNAUTHENTICATED, 403: FORBIDDEN, 429: THROTTLED}
