from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from standards.roles import ROLES_BY_KEY


class RoleAssignmentForm(forms.Form):
    """Offers only what the person may do: other members of staff, and the roles he may give
    (``standards.services.can_assign``); the service checks both again."""

    user = forms.ModelChoiceField(label=_("Member of staff"), queryset=User.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=[])
    action = forms.ChoiceField(
        label=_("Action"), choices=[("assign", _("Assign")), ("remove", _("Take away"))], initial="assign"
    )

    def __init__(self, *args: Any, assigned_by: User, **kwargs: Any) -> None:
        from standards.services import assignable_roles

        super().__init__(*args, **kwargs)
        users = User.objects.filter(is_active=True).exclude(pk=assigned_by.pk).order_by("username")
        self.fields["user"].queryset = users  # type: ignore[attr-defined]
        self.fields["role"].choices = [  # type: ignore[attr-defined]
            (role.key, ROLES_BY_KEY[role.key].title)
            for role in assignable_roles(assigned_by)
            if role.key in ROLES_BY_KEY
        ]
