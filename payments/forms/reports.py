"""Forms of the monthly report's pages: generating a version, signing one off."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from payments.forms.runs import MonthField
from records.forms import NoteField


class ReportGenerateForm(forms.Form):
    month = MonthField(label=_("Month"))
    reason = NoteField(label=_("Why a new version"), required=False, rows=1)


class ReportSignForm(forms.Form):
    version = forms.IntegerField(label=_("Version of the page"), min_value=1, widget=forms.HiddenInput)


class DashboardForm(forms.Form):
    month = MonthField(label=_("Month"), required=False)
