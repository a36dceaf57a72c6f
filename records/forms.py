"""Forms of the records app, and the form fields every staff form uses for money, dates and
free text (one field per kind of input, so every page reads them alike)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from records.identifiers import validate_iin_bin
from records.services import NOTE_MAX_LENGTH

# Spaces a reader may type or paste between groups of digits (a copied "12 000,50" of a Kazakh
# or Russian page has a no-break space).
_SPACES = str.maketrans({"\xa0": " ", "\u202f": " ", "\u2009": " "})
_AMOUNT = re.compile(r"-?(?:\d{1,3}(?: \d{3})+|\d+)(?:[.,](?P<decimals>\d+))?")


class MoneyField(forms.DecimalField):
    """An amount in tenge (conventions: Decimal with 2 places) as staff type it, in any
    language: a decimal comma or point (``12000,50``, ``12000.50``) and, if they like, spaces
    between groups of three digits (``12 000,50``). Anything else is refused, never guessed:
    a point or comma grouping thousands (``12.000,50``, ``12,000.50``) and more than two
    decimals (``12,000``: twelve, or twelve thousand?).

    A text box with a decimal keyboard, not ``type=number``: Chromium reads a number box by
    its own locale, and on a Kazakh page took the comma of ``12000,50`` for a thousands
    separator (``1200050``)."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid": _(
            "Enter an amount such as 12000,50 or 12 000.50: a comma or a point before at most two "
            "decimals, and spaces only between groups of three digits."
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]  # DecimalField's own
        if value in self.empty_values:
            return None
        text = str(value).translate(_SPACES).strip()
        match = _AMOUNT.fullmatch(text)
        decimals = match.group("decimals") if match else None
        if match is None or (decimals is not None and len(decimals) > (self.decimal_places or 0)):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(text.replace(" ", "").replace(",", "."))

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal", "autocomplete": "off"})
        return attrs


class DayField(forms.DateField):
    """A date as written in every language of the app (``config/formats``): DD.MM.YYYY, or
    ISO YYYY-MM-DD. A date that is refused says which form is expected."""

    default_error_messages = {"invalid": _("Enter the date as DD.MM.YYYY, for example 03.12.2026.")}

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.update({"placeholder": _("DD.MM.YYYY"), "autocomplete": "off"})
        return attrs


def _at_most_text(limit: int) -> str:
    return gettext("At most %(limit)s characters.") % {"limit": limit}


_at_most = lazy(_at_most_text, str)  # worded in the reader's language when the form is shown


class NoteField(forms.CharField):
    """Free text staff type (a reason, a decision note): at most ``NOTE_MAX_LENGTH``
    characters, a longer one refused with its count. The text box has no ``maxlength``: a
    browser cuts a pasted text there without a word."""

    def __init__(self, *, rows: int = 3, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", NOTE_MAX_LENGTH)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows}))
        kwargs.setdefault("help_text", _at_most(kwargs["max_length"]))
        super().__init__(**kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs


SURNAME_PREFIX = 2


class ParticipantSearchForm(forms.Form):
    """An exact IIN, or the start of the surname (at least ``SURNAME_PREFIX`` letters), with
    the start of the first name if the clerk knows it."""

    iin = forms.CharField(label=_("IIN"), max_length=12, required=False, validators=[validate_iin_bin])
    last_name = forms.CharField(label=_("Surname"), max_length=100, required=False, strip=True)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False, strip=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("iin") or self.errors:
            return data
        last_name = " ".join(data.get("last_name", "").split())
        if len(last_name) >= SURNAME_PREFIX:
            return data
        if last_name:
            self.add_error(
                "last_name",
                ValidationError(
                    _("Enter at least %(n)s letters of the surname."), code="short", params={"n": SURNAME_PREFIX}
                ),
            )
            return data
        raise ValidationError(_("Enter an IIN, or a surname (at least its first letters)."), code="incomplete")

    def searched(self) -> list[tuple[str, str]]:
        """(label, value) of what a valid form searched for, to say what found nothing."""
        return [(str(self[name].label), value) for name, value in self.cleaned_data.items() if value]


class RegistryUploadForm(forms.Form):
    """A state-registry snapshot CSV for ``records.registry.registry_load_snapshot``."""

    file = forms.FileField(
        label=_("Registry snapshot (CSV, UTF-8)"),
        help_text=_("Header: iin,last_name,first_name,patronymic,birth_date,gender,death_date; dates YYYY-MM-DD."),
    )

    MAX_BYTES = 200 * 1024 * 1024

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("The file is larger than 200 MB."), code="too_large")
        return upload
