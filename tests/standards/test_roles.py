"""Staff roles: sync idempotence and removal, one permission set per group, traced grants."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from records.models import AuditEvent
from records.services import Actor
from standards import roles as roles_module
from standards.models import LaborFunction, Role
from standards.models import UserGroupsEvent as _UserGroupsEvent
from standards.roles import API_MANDATE, AUDITOR_MANDATE, ROLES, Grant, RoleSpec
from standards.services import role_assign, roles_sync

UserGroupsEvent: Any = _UserGroupsEvent

pytestmark = pytest.mark.django_db


def group_perms(key: str) -> set[str]:
    group = Role.objects.get(key=key).group
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def test_migrate_left_one_group_per_role_with_exactly_its_permissions() -> None:
    assert set(Role.objects.values_list("key", flat=True)) == {r.key for r in ROLES}
    for spec in ROLES:
        assert group_perms(spec.key) == set(spec.permissions)


def test_every_group_has_a_permission_and_no_two_share_a_set() -> None:
    sets = [frozenset(group_perms(spec.key)) for spec in ROLES]
    assert all(sets)
    assert len(set(sets)) == len(sets)


def test_sync_is_idempotent() -> None:
    out = StringIO()
    call_command("sync_roles", stdout=out)
    assert "up to date" in out.getvalue()
    before = AuditEvent.objects.filter(action="roles.sync").count()
    result = roles_sync(actor=Actor(label="test"))
    assert (result.created, result.added, result.removed) == ([], {}, {})
    assert AuditEvent.objects.filter(action="roles.sync").count() == before


def test_sync_removes_what_was_taken_away_and_adds_what_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    specialist = roles_module.ROLES_BY_KEY["specialist"]
    trimmed = RoleSpec(
        key=specialist.key,
        group_name=specialist.group_name,
        title=specialist.title,
        description=specialist.description,
        cards=specialist.cards,
        grants=(*specialist.grants[1:], Grant("records.view_auditevent", ("2024/9/2",), "test")),
    )
    changed = tuple(trimmed if r.key == "specialist" else r for r in ROLES)
    monkeypatch.setattr("standards.services.ROLES", changed)
    # A permission granted by hand outside the definition is withdrawn too.
    Role.objects.get(key="specialist").group.permissions.add(Permission.objects.get(codename="delete_participant"))
    result = roles_sync(actor=Actor(label="test"))
    assert result.removed == {"specialist": ["records.delete_participant", "records.view_participant"]}
    assert result.added == {"specialist": ["records.view_auditevent"]}
    assert "records.view_participant" not in group_perms("specialist")
    event = AuditEvent.objects.filter(action="roles.sync").first()
    assert event is not None
    assert event.data["removed"]["specialist"] == ["records.delete_participant", "records.view_participant"]


def test_sync_recreates_a_deleted_group_role() -> None:
    Role.objects.filter(key="auditor").delete()
    Group.objects.filter(name="Auditor").delete()
    result = roles_sync(actor=Actor(label="test"))
    assert result.created == ["auditor"]
    assert group_perms("auditor") == set(roles_module.ROLES_BY_KEY["auditor"].permissions)


def test_every_grant_is_traced_to_a_labour_function_or_the_auditor_mandate() -> None:
    keys = {f.key for f in LaborFunction.objects.select_related("card__standard")}
    for spec in ROLES:
        for grant in spec.grants:
            assert grant.basis, grant
            for basis in grant.basis:
                assert basis in (AUDITOR_MANDATE, API_MANDATE) or basis in keys, (spec.key, grant)
    assert all(g.basis == (AUDITOR_MANDATE,) for g in roles_module.ROLES_BY_KEY["auditor"].grants)


def test_every_labour_function_of_both_editions_serves_recipients_and_decisions() -> None:
    """Issue 17: the labour functions that concern recipients and decisions map to the new
    permissions, and none is left without one."""
    keys = {f.key for f in LaborFunction.objects.select_related("card__standard")}
    assert {k.split("/")[0] for k in keys} == {"2019", "2024"}
    served = {
        basis
        for spec in ROLES
        for grant in spec.grants
        if grant.permission.startswith("payments.")
        for basis in grant.basis
    }
    assert keys - served == set()


def test_roles_link_their_profession_cards() -> None:
    head = Role.objects.get(key="head_of_service")
    assert {(c.standard.edition, c.number) for c in head.cards.all()} == {(2024, 13), (2019, 2)}
    assert not Role.objects.get(key="auditor").cards.exists()


def test_assignment_is_audited_and_sets_admin_access(make_user) -> None:
    head = User.objects.create_superuser("administrator", password="x")  # auditors: an administrator
    clerk = make_user(None)
    role_assign(user_id=clerk.pk, role_key="auditor", actor=head)
    clerk.refresh_from_db()
    assert clerk.is_staff
    assert clerk.has_perm("records.export_data")
    event = AuditEvent.objects.filter(action="roles.assign").first()
    assert event is not None
    assert (event.actor, event.data["role"]) == (head, "auditor")
    assert UserGroupsEvent.objects.filter(pgh_label="insert", user_id=clerk.pk).exists()
    role_assign(user_id=clerk.pk, role_key="auditor", actor=head, remove=True)
    clerk = User.objects.get(pk=clerk.pk)
    assert not clerk.is_staff
    assert not clerk.has_perm("records.export_data")
    assert UserGroupsEvent.objects.filter(pgh_label="delete", user_id=clerk.pk).exists()


def test_a_specialist_cannot_assign_roles(make_user) -> None:
    specialist = make_user("specialist")
    other = make_user(None)
    with pytest.raises(PermissionDenied):
        role_assign(user_id=other.pk, role_key="head_of_service", actor=specialist)
    assert not other.groups.exists()


def test_docs_roles_page_is_current() -> None:
    from pathlib import Path

    from standards.management.commands.roles_doc import render_roles_doc

    page = Path(__file__).resolve().parents[2] / "docs" / "roles.md"
    assert page.read_text(encoding="utf-8") == render_roles_doc(), "run: manage.py roles_doc > docs/roles.md"


def test_a_head_gives_only_roles_within_his_own_rights_and_never_to_himself(make_user) -> None:
    from standards.forms import RoleAssignmentForm
    from standards.services import RoleAssignmentRefused

    head = make_user("head_of_unit")
    clerk = make_user(None)
    role_assign(user_id=clerk.pk, role_key="senior_specialist", actor=head)
    assert clerk.groups.filter(role__key="senior_specialist").exists()
    for key in ("head_of_service", "auditor", "api_client"):
        with pytest.raises(RoleAssignmentRefused, match="rights you do not hold"):
            role_assign(user_id=clerk.pk, role_key=key, actor=head)
    with pytest.raises(RoleAssignmentRefused, match="his own roles"):
        role_assign(user_id=head.pk, role_key="specialist", actor=head)
    with pytest.raises(RoleAssignmentRefused, match="his own roles"):
        role_assign(user_id=head.pk, role_key="head_of_unit", actor=head, remove=True)
    assert set(clerk.groups.values_list("role__key", flat=True)) == {"senior_specialist"}
    assert set(head.groups.values_list("role__key", flat=True)) == {"head_of_unit"}
    form = RoleAssignmentForm(assigned_by=head)
    role_keys = [key for key, _ in form.fields["role"].choices]  # type: ignore[attr-defined]
    users = list(form.fields["user"].queryset)  # type: ignore[attr-defined]
    assert role_keys == ["specialist", "senior_specialist", "head_of_unit"]
    assert head not in users
    assert clerk in users


def test_a_refused_assignment_through_the_page_says_why_and_changes_nothing(make_user) -> None:
    from django.test import Client
    from django.urls import reverse

    head = make_user("head_of_unit")
    events = AuditEvent.objects.count()
    client = Client()
    client.force_login(head)
    response = client.post(
        reverse("role_assign"),
        {"user": head.pk, "role": "head_of_service", "action": "assign"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert set(head.groups.values_list("role__key", flat=True)) == {"head_of_unit"}
    assert AuditEvent.objects.count() == events
    assert "The role assignment was not saved" in response.content.decode()
