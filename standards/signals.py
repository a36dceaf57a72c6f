"""The database-side guard of machine accounts: every way of adding a group or a permission to
an account (the role service, the admin, a shell, ``group.user_set.add``) passes here.

The role service and the admin's user form check the whole account first and say why in the
reader's language; this is the backstop for every other path, and raises ``ValidationError``.
It checks what an addition breaks, in the order the admin saves a user (flags, then groups,
then permissions), so a change the form accepted as a whole always passes.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.signals import m2m_changed

from standards.services import api_group_id, machine_account_refusal


def accounts(instance: Any, reverse: bool, pk_set: set[int]) -> QuerySet[User]:
    """The accounts a change touches: ``user.<field>.add(...)`` or ``<object>.user_set.add(...)``."""
    return User.objects.filter(pk__in=pk_set) if reverse else User.objects.filter(pk=instance.pk)


def guard_groups(sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int], **kwargs: Any) -> None:
    """Before groups are added: the API role's group alone, and never to a superuser."""
    if action != "pre_add" or not pk_set:
        return
    added = {instance.pk} if reverse else set(pk_set)
    for user in accounts(instance, reverse, pk_set).prefetch_related("groups"):
        held = {group.pk for group in user.groups.all()} | added
        if refusal := machine_account_refusal(groups=held, added=added, is_superuser=user.is_superuser):
            raise ValidationError(refusal)


def guard_permissions(sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int], **kwargs: Any) -> None:
    """Before permissions are given to accounts directly: none to a machine account."""
    if action != "pre_add" or not pk_set:
        return
    api_group = api_group_id()
    if api_group is not None and accounts(instance, reverse, pk_set).filter(groups=api_group).exists():
        raise ValidationError(machine_account_refusal(groups={api_group}, own_permissions=True) or "")


def connect() -> None:
    m2m_changed.connect(guard_groups, sender=User.groups.through, dispatch_uid="standards.guard_groups")
    m2m_changed.connect(
        guard_permissions, sender=User.user_permissions.through, dispatch_uid="standards.guard_permissions"
    )
