"""The staff page: roles with their profession cards and holders; heads assign roles (audited)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from records.access import requires
from standards.forms import RoleAssignmentForm
from standards.models import Role
from standards.services import RoleAssignmentRefused, role_assign


@requires("standards.view_role")
@require_GET
def role_list(request: HttpRequest) -> HttpResponse:
    roles = Role.objects.select_related("group").prefetch_related(
        "cards__standard", "cards__functions", "group__user_set"
    )
    can_assign = request.user.has_perm("standards.assign_role")
    form = RoleAssignmentForm(assigned_by=request.user) if can_assign else None  # type: ignore[arg-type]
    return render(request, "standards/role_list.html", {"roles": roles, "form": form})


@requires("standards.assign_role")
@require_POST
def role_assign_view(request: HttpRequest) -> HttpResponse:
    form = RoleAssignmentForm(request.POST, assigned_by=request.user)  # type: ignore[arg-type]
    if form.is_valid():
        try:
            role_assign(
                user_id=form.cleaned_data["user"].pk,
                role_key=form.cleaned_data["role"],
                actor=request.user,  # type: ignore[arg-type]
                remove=form.cleaned_data["action"] == "remove",
            )
        except RoleAssignmentRefused as refused:
            messages.error(request, refused.reason)
        else:
            messages.success(request, _("The role assignment was saved."))
    else:
        messages.error(request, _("The role assignment was not saved: check the form."))
    return redirect("role_list")
