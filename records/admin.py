from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.admin import ImportMixin

from records.access import log_access
from records.admin_export import LoggedExportMixin, PersonalDataAdmin, ReadOnlyAdmin
from records.export_formats import starts_a_formula
from records.models import (
    AccessLog,
    AuditEvent,
    CalendarDay,
    Participant,
    PersonalDataChange,
    RegistryLoad,
    RegistryPerson,
    WorkerHeartbeat,
)
from records.registry import registry_load_snapshot
from records.services import Actor


@admin.register(Participant)
class ParticipantAdmin(PersonalDataAdmin, ReadOnlyAdmin):
    """Participants come from payment orders and the registry through services (paragraph 9
    change records); the admin only reads them, and every opening is logged."""

    list_display = ["iin", "last_name", "first_name", "patronymic", "birth_date", "gender"]
    search_fields = ["=iin", "last_name", "first_name"]
    readonly_fields = ["created_at", "updated_at"]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        participant = self.get_object(request, object_id)
        if participant is not None and self.has_view_permission(request, participant):
            log_access(request, kind=AccessLog.Kind.VIEW, view="admin:participant_change", participant=participant)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(PersonalDataChange)
class PersonalDataChangeAdmin(PersonalDataAdmin, ReadOnlyAdmin):
    list_display = ["participant", "field", "old_value", "new_value", "changed_on", "source"]
    list_filter = ["field", "changed_on"]
    search_fields = ["=participant__iin"]


class RegistryUploadForm(forms.Form):
    file = forms.FileField(label=_("Registry snapshot (CSV, UTF-8)"))


@admin.register(RegistryLoad)
class RegistryLoadAdmin(ReadOnlyAdmin):
    """Registry snapshots are loaded through the same loader as ``manage.py load_registry``,
    so change records (paragraph 9) are kept whichever way a snapshot arrives."""

    list_display = ["loaded_at", "file_name", "status", "rows_total", "rows_inserted", "rows_updated", "rows_rejected"]
    exclude = ["raw"]
    change_list_template = "admin/records/registryload/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="records_registryload_upload"),
            *super().get_urls(),
        ]

    def has_upload_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_upload_permission(request):
            return HttpResponse(status=403)
        form = RegistryUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            load = registry_load_snapshot(raw=upload.read(), file_name=upload.name, actor=Actor.of(request.user))
            if load.status == RegistryLoad.Status.REJECTED:
                error = load.errors[0]
                messages.error(request, _("Rejected at line %(line)s: %(reason)s") % error)
            else:
                messages.success(
                    request,
                    _("Loaded: %(ins)s inserted, %(upd)s updated, %(rej)s rejected rows.")
                    % {"ins": load.rows_inserted, "upd": load.rows_updated, "rej": load.rows_rejected},
                )
            return redirect("admin:records_registryload_change", load.pk)
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta}
        return render(request, "admin/records/registryload/upload.html", context)


@admin.register(RegistryPerson)
class RegistryPersonAdmin(PersonalDataAdmin, ReadOnlyAdmin):
    list_display = ["iin", "last_name", "first_name", "patronymic", "birth_date", "gender", "death_date"]
    search_fields = ["=iin", "last_name"]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if self.has_view_permission(request):
            log_access(request, kind=AccessLog.Kind.VIEW, view="admin:registryperson_change", query={"iin": object_id})
        return super().change_view(request, object_id, form_url, extra_context)


class CalendarDayResource(resources.ModelResource):  # type: ignore[misc]
    class Meta:
        model = CalendarDay
        import_id_fields = ["date"]
        fields = ["date", "is_working", "kind", "name_kk", "name_ru", "name_en", "note"]
        skip_unchanged = True
        use_transactions = True

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        """Undo the apostrophe our CSV/TSV export puts before text that reads as a formula
        (records.export_formats), so that an exported, edited and re-imported calendar keeps its
        names and notes as they were."""
        for name in ("name_kk", "name_ru", "name_en", "note"):
            value = row.get(name)
            if isinstance(value, str) and value.startswith("'") and starts_a_formula(value[1:]):
                row[name] = value[1:]

    def before_save_instance(self, instance: CalendarDay, row: Any, **kwargs: Any) -> None:
        instance.source = CalendarDay.Source.ADMIN  # imported by an administrator: kept by refreshes
        instance.full_clean(exclude=["date"] if instance.pk else None)


@admin.register(CalendarDay)
class CalendarDayAdmin(ImportMixin, LoggedExportMixin, admin.ModelAdmin):  # type: ignore[misc, type-arg]
    resource_classes = [CalendarDayResource]
    list_display = ["date", "is_working", "kind", "name_kk", "name_ru", "source"]
    list_filter = ["is_working", "kind", "source"]
    date_hierarchy = "date"
    readonly_fields = ["source", "updated_at"]

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        # An administrator's row is never overwritten by the package refresh.
        obj.source = CalendarDay.Source.ADMIN
        super().save_model(request, obj, form, change)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor_label", "action", "content_type", "object_pk"]
    list_filter = ["action"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "kind", "participant", "view", "row_count", "ip_address"]
    list_filter = ["kind", "view"]
    search_fields = ["=participant__iin", "user__username"]


def register_history_models() -> None:
    """Row history (django-pghistory event tables) is readable and exportable, never editable."""
    import pghistory.models
    from django.apps import apps

    for model in apps.get_models():
        if not issubclass(model, pghistory.models.Event) or model._meta.proxy or admin.site.is_registered(model):
            continue
        columns = ["pgh_created_at", "pgh_label", "pgh_context"]
        if any(f.name == "pgh_obj" for f in model._meta.fields):
            columns.insert(2, "pgh_obj")
        admin.site.register(model, type(f"{model.__name__}Admin", (ReadOnlyAdmin,), {"list_display": columns}))


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["hostname", "seen_at"]
