"""Admin export with the export logged (who, what, filters, row count) and allowed only to
holders of ``records.export_data`` (auditors, administrators)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.formats import number_format
from django.utils.text import capfirst
from django.utils.translation import ngettext
from import_export.admin import ExportMixin
from import_export.forms import SelectableFieldsExportForm

from records.access import log_access
from records.export_formats import EXPORT_FORMATS
from records.models import AccessLog


class ExportFieldsForm(SelectableFieldsExportForm):  # type: ignore[misc]
    """The export form names each field as the rest of the admin does, in the reader's language
    (the library writes ``Payer Idn``), with the column it becomes in the file, which stays the
    field's name so that auditors' tools can rely on it."""

    def _get_field_label(self, resource: Any, field_name: str) -> str:
        field = resource.fields.get(field_name)
        column = field.column_name if field is not None else field_name
        model = getattr(resource._meta, "model", None)
        try:
            verbose = model._meta.get_field(field_name).verbose_name  # type: ignore[union-attr]
        except (AttributeError, FieldDoesNotExist):  # not a model field of the resource
            return str(super()._get_field_label(resource, field_name))
        return f"{capfirst(verbose)} ({column})"


class LoggedExportMixin(ExportMixin):  # type: ignore[misc]
    # Formats that keep payers' text from becoming spreadsheet formulas (records.export_formats).
    export_formats = EXPORT_FORMATS
    export_form_class = ExportFieldsForm

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("records.export_data")

    def get_data_for_export(self, request: HttpRequest, queryset: QuerySet[Any], **kwargs: Any) -> Any:
        # Counted before anything is built; the library shows a ValueError's text on the export
        # form, and nothing is exported or logged.
        rows = queryset.count()
        if rows > settings.EXPORT_MAX_ROWS:
            raise ValueError(
                ngettext(
                    "The export would hold %(rows)s row, more than the %(limit)s one export may hold. "
                    "Filter the list first (for example by date), then export each part.",
                    "The export would hold %(rows)s rows, more than the %(limit)s one export may hold. "
                    "Filter the list first (for example by date), then export each part.",
                    rows,
                )
                % {
                    "rows": number_format(rows, force_grouping=True),
                    "limit": number_format(settings.EXPORT_MAX_ROWS, force_grouping=True),
                }
            )
        dataset = super().get_data_for_export(request, queryset, **kwargs)
        filters = dict(request.GET.lists())
        export_form = kwargs.get("export_form")
        fmt = getattr(export_form, "cleaned_data", {}).get("format") if export_form is not None else None
        opts = self.model._meta
        log_access(
            request,
            kind=AccessLog.Kind.EXPORT,
            view=f"admin:{opts.app_label}.{opts.model_name}",
            query={"filters": filters, "format": self._format_name(fmt)},
            row_count=len(dataset),
        )
        return dataset

    def _format_name(self, fmt: object) -> str:
        """The export form gives the format as its index in the list of formats: log its name."""
        try:
            return str(self.get_export_formats()[int(str(fmt))]().get_title())
        except (TypeError, ValueError, IndexError):
            return "" if fmt is None else str(fmt)


class PersonalDataAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """An admin whose list shows personal data (IINs, names): opening the list, searching or
    filtering it is logged like a search on the staff pages (Rules, paragraph 5)."""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if response.status_code == 200 and self.has_view_permission(request):
            opts = self.model._meta
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            log_access(
                request,
                kind=AccessLog.Kind.SEARCH,
                view=f"admin:{opts.app_label}.{opts.model_name}_changelist",
                query=dict(request.GET.lists()),
                row_count=changelist.result_count if changelist is not None else None,
            )
        return response


class ReadOnlyAdmin(LoggedExportMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Records that only services write: nobody adds, changes or deletes them in the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
