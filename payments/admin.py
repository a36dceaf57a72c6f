"""The legal parameters: kept by the administrator (a new value is a new row from its date; a
correction keeps the old value in the row history), read and exported by the auditor."""

from __future__ import annotations

from django.contrib import admin

from payments.models import LegalParameter
from records.admin_export import AdminGuardMixin, LoggedExportMixin


@admin.register(LegalParameter)
class LegalParameterAdmin(AdminGuardMixin, LoggedExportMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "valid_from", "value", "confidence", "basis"]
    list_filter = ["name", "confidence"]
    search_fields = ["basis"]
