from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from records.identifiers import validate_iin_bin
from records.models import AccessLog


class ParticipantSearchForm(forms.Form):
    """Exact IIN, or surname and first name (both required together)."""

    iin = forms.CharField(label=_("IIN"), max_length=12, required=False, validators=[validate_iin_bin])
    last_name = forms.CharField(label=_("Surname"), max_length=100, required=False, strip=True)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False, strip=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("iin") and not (data.get("last_name") and data.get("first_name")):
            raise ValidationError(_("Enter an IIN, or a surname and a first name."), code="incomplete")
        return data


class AccessLogFilterForm(forms.Form):
    """Who read what, when: the questions an auditor asks of the access log (Rules, paragraph 5)."""

    kind = forms.ChoiceField(label=_("What"), required=False, choices=[("", "—"), *AccessLog.Kind.choices])
    user = forms.CharField(label=_("Who (user name)"), required=False, max_length=150, strip=True)
    iin = forms.CharField(label=_("Participant IIN"), required=False, max_length=12, validators=[validate_iin_bin])
    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)

    def clean_date_to(self) -> date | None:
        day: date | None = self.cleaned_data["date_to"]
        if day is not None and day >= date.max:
            raise ValidationError(_("Enter a date before %(limit)s."), code="out_of_range", params={"limit": date.max})
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", ValidationError(_("The end date is before the start date."), code="range"))
        return data
