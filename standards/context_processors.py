from __future__ import annotations

from django.http import HttpRequest

from standards.roles import ROLES_BY_KEY, RoleSpec


def roles(request: HttpRequest) -> dict[str, list[RoleSpec]]:
    """The staff roles the signed-in user holds, for the layout and the home page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"user_roles": []}
    keys = user.groups.filter(role__isnull=False).values_list("role__key", flat=True)
    return {"user_roles": [ROLES_BY_KEY[k] for k in keys if k in ROLES_BY_KEY]}
