from __future__ import annotations

from django import forms
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from standards.roles import ROLES


class RoleAssignmentForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("Member of staff"), queryset=User.objects.filter(is_active=True).order_by("username")
    )
    role = forms.ChoiceField(label=_("Role"), choices=[(r.key, r.title) for r in ROLES])
    action = forms.ChoiceField(
        label=_("Action"), choices=[("assign", _("Assign")), ("remove", _("Take away"))], initial="assign"
    )
