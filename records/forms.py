from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from records.identifiers import validate_iin_bin


class ParticipantSearchForm(forms.Form):
    """Exact IIN, or surname and first name (both required together)."""

    iin = forms.CharField(label=_("IIN"), max_length=12, required=False, strip=True)
    last_name = forms.CharField(label=_("Surname"), max_length=100, required=False, strip=True)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False, strip=True)

    def clean_iin(self) -> str:
        iin: str = self.cleaned_data["iin"]
        if iin:
            validate_iin_bin(iin)
        return iin

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("iin") and not (data.get("last_name") and data.get("first_name")):
            raise ValidationError(_("Enter an IIN, or a surname and a first name."), code="incomplete")
        return data
