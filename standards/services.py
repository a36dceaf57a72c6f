"""Writes: role synchronisation, staff role assignment, catalogue loading. Each is audited."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from records.services import Actor, audit_record, with_history_context
from standards.catalogue import load_catalogue
from standards.models import LaborFunction, ProfessionalStandard, ProfessionCard, Role
from standards.roles import API_ROLE_KEY, ROLES, ROLES_BY_KEY


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)


def _permission(name: str) -> Permission:
    app_label, codename = name.split(".", 1)
    try:
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)
    except Permission.DoesNotExist:
        raise LookupError(f"Role definitions name an unknown permission: {name}") from None


@with_history_context
@transaction.atomic
def roles_sync(*, actor: Actor) -> SyncResult:
    """Make every role's group hold exactly the permissions ``standards.roles`` gives it."""
    result = SyncResult()
    for spec in ROLES:
        role = Role.objects.filter(key=spec.key).select_related("group").first()
        if role is None:
            group, _ = Group.objects.get_or_create(name=spec.group_name)
            role = Role.objects.create(key=spec.key, group=group)
            result.created.append(spec.key)
        group = role.group
        if group.name != spec.group_name:
            group.name = spec.group_name
            group.save(update_fields=["name"])
        wanted = {_permission(name) for name in spec.permissions}
        current = set(group.permissions.all())
        if added := wanted - current:
            group.permissions.add(*added)
            result.added[spec.key] = sorted(f"{p.content_type.app_label}.{p.codename}" for p in added)
        if removed := current - wanted:
            group.permissions.remove(*removed)
            result.removed[spec.key] = sorted(f"{p.content_type.app_label}.{p.codename}" for p in removed)
        cards = ProfessionCard.objects.none()
        for edition, number in spec.cards:
            cards = cards | ProfessionCard.objects.filter(standard__edition=edition, number=number)
        role.cards.set(cards)
        role.save()
    if result.created or result.added or result.removed:
        audit_record(
            actor=actor,
            action="roles.sync",
            data={"created": result.created, "added": result.added, "removed": result.removed},
        )
    return result


def _refresh_staff_flag(user: User) -> None:
    keys = set(Role.objects.filter(group__user=user).values_list("key", flat=True))
    user.is_staff = user.is_superuser or any(ROLES_BY_KEY[k].admin_site for k in keys if k in ROLES_BY_KEY)
    user.save(update_fields=["is_staff"])


def can_assign(assigned_by: User, role: Role) -> bool:
    """Whether a person may give (or take away) a role: a head may hand out only roles whose
    permissions he holds himself, so nobody grants more than he has (the auditor and the API
    client, whose rights no head holds, are given by an administrator); superusers any role."""
    if assigned_by.is_superuser:
        return True
    if not assigned_by.has_perm("standards.assign_role"):
        return False
    granted = {f"{perm.content_type.app_label}.{perm.codename}" for perm in role.group.permissions.all()}
    return granted <= assigned_by.get_all_permissions()


def assignable_roles(assigned_by: User) -> list[Role]:
    roles = Role.objects.select_related("group").prefetch_related("group__permissions__content_type")
    return [role for role in roles if can_assign(assigned_by, role)]


def api_group_id() -> int | None:
    return Role.objects.filter(key=API_ROLE_KEY).values_list("group_id", flat=True).first()


def machine_account_refusal(
    *,
    groups: Collection[int],
    added: Collection[int] = (),
    is_superuser: bool = False,
    is_staff: bool = False,
    own_permissions: bool = False,
) -> str | None:
    """Why one account cannot hold ``groups`` (group ids, as they would be after the change)
    with these flags, or None when it can.

    A bank's or state system's account (the API role) signs in with a token its system keeps;
    whatever else the account held would widen that token to every participant's data, against
    access only as far as the duties require (Rules, paragraph 5). So the API role comes alone:
    no other role or group, no permission of its own, no staff or superuser status; and a
    person's account never holds it. ``added`` says which groups the change adds, to tell
    which of the two the change breaks.
    """
    api_group = api_group_id()
    if api_group is None or api_group not in groups:
        return None
    if len(set(groups)) == 1 and not (is_superuser or is_staff or own_permissions):
        return None
    if api_group in added:
        return _("The API role is only for the account of a bank or a state system; this account is a person's.")
    return _("This is the account of a bank or a state system: it holds the API role and nothing else.")


class RoleAssignmentRefused(PermissionDenied):
    """A role change the person may not make; ``reason`` says why, in the active language."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@with_history_context
@transaction.atomic
def role_assign(*, user_id: int, role_key: str, actor: User, remove: bool = False) -> None:
    """Give a member of staff a role, or take it away (audited). Heads and administrators only,
    never to themselves, and only roles they could hold out of their own permissions
    (``can_assign``): the professional standard's head staffs his unit (2024 card 12, function
    1); he does not raise himself or anyone above himself. A bank's or state system's account
    holds the API role alone (``machine_account_refusal``)."""
    if not (actor.is_superuser or actor.has_perm("standards.assign_role")):
        raise PermissionDenied
    role = Role.objects.select_related("group").prefetch_related("group__permissions__content_type").get(key=role_key)
    if user_id == actor.pk:
        raise RoleAssignmentRefused(_("Nobody gives or takes away his own roles: ask another head."))
    if not can_assign(actor, role):
        raise RoleAssignmentRefused(_("This role has rights you do not hold: an administrator assigns it."))
    user = User.objects.select_for_update().get(pk=user_id)
    if remove:
        user.groups.remove(role.group)
    else:
        refusal = machine_account_refusal(
            groups={*user.groups.values_list("pk", flat=True), role.group_id},
            added={role.group_id},
            is_superuser=user.is_superuser,
            is_staff=user.is_staff,
            own_permissions=user.user_permissions.exists(),
        )
        if refusal:
            raise RoleAssignmentRefused(refusal)
        user.groups.add(role.group)
    _refresh_staff_flag(user)
    audit_record(
        actor=Actor.of(actor),
        action="roles.unassign" if remove else "roles.assign",
        obj=user,
        data={"role": role_key, "user": user.get_username()},
    )


@with_history_context
@transaction.atomic
def catalogue_load(*, actor: Actor) -> dict[str, int]:
    counts = load_catalogue(ProfessionalStandard, ProfessionCard, LaborFunction)
    audit_record(actor=actor, action="standards.load", data=counts)
    return counts
