from __future__ import annotations

from django.contrib import admin

from records.admin_export import ReadOnlyAdmin
from standards.models import LaborFunction, ProfessionalStandard, ProfessionCard, Role


@admin.register(ProfessionalStandard)
class ProfessionalStandardAdmin(ReadOnlyAdmin):
    list_display = ["edition", "name_ru", "translated"]


@admin.register(ProfessionCard)
class ProfessionCardAdmin(ReadOnlyAdmin):
    list_display = ["standard", "number", "code", "name_ru", "qualification_levels"]
    list_filter = ["standard"]


@admin.register(LaborFunction)
class LaborFunctionAdmin(ReadOnlyAdmin):
    list_display = ["card", "number", "name_ru"]
    list_filter = ["card__standard"]


@admin.register(Role)
class RoleAdmin(ReadOnlyAdmin):
    """Roles are defined in code (standards/roles.py) and written by ``manage.py sync_roles``."""

    list_display = ["key", "group", "synced_at"]
