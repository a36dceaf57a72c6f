from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from records.models import (
    AuditEvent,
    CalendarDay,
    Participant,
    PersonalDataChange,
    RegistryLoad,
    RegistryPerson,
)


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin[Participant]):
    list_display = ["iin", "last_name", "first_name", "patronymic", "birth_date", "gender"]
    search_fields = ["=iin", "last_name", "first_name"]
    readonly_fields = ["created_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # participants come from payment orders and the registry, through services

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # changes go through services so that paragraph 9 records are kept

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PersonalDataChange)
class PersonalDataChangeAdmin(admin.ModelAdmin[PersonalDataChange]):
    list_display = ["participant", "field", "old_value", "new_value", "changed_on", "source"]
    list_filter = ["field", "changed_on"]
    search_fields = ["=participant__iin"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RegistryLoad)
class RegistryLoadAdmin(admin.ModelAdmin[RegistryLoad]):
    list_display = ["loaded_at", "file_name", "status", "rows_total", "rows_inserted", "rows_updated", "rows_rejected"]
    exclude = ["raw"]
    readonly_fields = [f.name for f in RegistryLoad._meta.fields if f.name != "raw"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RegistryPerson)
class RegistryPersonAdmin(admin.ModelAdmin[RegistryPerson]):
    list_display = ["iin", "last_name", "first_name", "patronymic", "birth_date", "gender", "death_date"]
    search_fields = ["=iin", "last_name"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin[CalendarDay]):
    list_display = ["date", "is_working", "kind", "name_kk", "name_ru", "source"]
    list_filter = ["is_working", "kind", "source"]
    date_hierarchy = "date"
    readonly_fields = ["source", "updated_at"]

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        # An administrator's row is never overwritten by the package refresh.
        obj.source = CalendarDay.Source.ADMIN
        super().save_model(request, obj, form, change)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["created_at", "actor_label", "action", "content_type", "object_pk"]
    list_filter = ["action"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
