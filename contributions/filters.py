"""List filters of the staff pages (django-filter). A value a filter does not know (a status
that does not exist, a deadline state misspelt) makes the filter invalid, and the page then shows
nothing with the error, never the whole list as if no filter had been asked for."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from contributions.models import DeadlineState, OrderStatus, PaymentOrder, ReturnDocument
from contributions.selectors import deadline_q
from records.filters import DayFilter
from records.identifiers import validate_iin_bin


class OrderFilter(django_filters.FilterSet):
    """The order list's filters (conventions: "Incoming payment orders", "Within one working day")."""

    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrderStatus.choices, empty_label="—")
    payer = django_filters.CharFilter(
        field_name="payer_idn", label=_("Payer IIN/BIN"), max_length=12, validators=[validate_iin_bin]
    )
    received_from = DayFilter(field_name="received", lookup_expr="gte", label=_("Received from"))
    received_to = DayFilter(field_name="received", lookup_expr="lte", label=_("Received to"))
    deadline_state = django_filters.ChoiceFilter(
        label=_("Deadline"), choices=DeadlineState.choices, empty_label="—", method="filter_deadline"
    )

    class Meta:
        model = PaymentOrder
        fields: list[str] = []

    def filter_deadline(self, queryset: QuerySet[PaymentOrder], name: str, value: Any) -> QuerySet[PaymentOrder]:
        return queryset.filter(deadline_q(value))


class ReturnDocumentFilter(django_filters.FilterSet):
    """The return documents of one payer (Rules, paragraph 6: what was returned to whom)."""

    payer = django_filters.CharFilter(
        field_name="order__payer_idn", label=_("Payer IIN/BIN"), max_length=12, validators=[validate_iin_bin]
    )

    class Meta:
        model = ReturnDocument
        fields: list[str] = []
