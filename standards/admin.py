from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from records.admin_export import ReadOnlyAdmin
from standards.models import LaborFunction, ProfessionalStandard, ProfessionCard, Role
from standards.services import machine_account_refusal


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


class AccountChangeForm(UserChangeForm[User]):
    """Django's user form, refusing what would widen a bank's or state system's token: another
    group, a permission of its own or staff status on a machine account, or the API role on a
    person's account (``machine_account_refusal``). Checked on the account as it would be after
    the change, before anything is saved; ``standards.signals`` guards every other path."""

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        groups = {group.pk for group in cleaned.get("groups") or []}
        before = set(self.instance.groups.values_list("pk", flat=True)) if self.instance.pk else set()
        refusal = machine_account_refusal(
            groups=groups,
            added=groups - before,
            is_superuser=bool(cleaned.get("is_superuser")),
            is_staff=bool(cleaned.get("is_staff")),
            own_permissions=bool(cleaned.get("user_permissions")),
        )
        if refusal:
            raise ValidationError(refusal)
        return cleaned


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin[User]):
    form = AccountChangeForm
