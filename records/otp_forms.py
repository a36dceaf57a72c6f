"""Forms of the second factor: the code of an authenticator app, or a backup code."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from records.otp_services import BACKUP_CODE, TOTP_CODE

_SEPARATORS = str.maketrans("", "", " \t\xa0-")


def normalised(value: str) -> str:
    """A code as typed or pasted: spaces and dashes between groups dropped, letters lowercased."""
    return value.translate(_SEPARATORS).lower()


class SetupCodeForm(forms.Form):
    """The first code of a new authenticator app, which confirms it was set up right."""

    code = forms.CharField(
        label=_("Code from the app"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_code(self) -> str:
        code = normalised(self.cleaned_data["code"])
        if not TOTP_CODE.fullmatch(code):
            raise forms.ValidationError(_("Enter the 6 digits the app shows."), code="format")
        return code


class VerifyCodeForm(forms.Form):
    """A code of the authenticator app (6 digits) or one of the backup codes (8 characters)."""

    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6 digits your authenticator app shows, or one of your backup codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_code(self) -> str:
        code = normalised(self.cleaned_data["code"])
        if not (TOTP_CODE.fullmatch(code) or BACKUP_CODE.fullmatch(code)):
            raise forms.ValidationError(
                _("Enter the 6 digits your app shows, or a backup code of 8 letters and digits."), code="format"
            )
        return code
