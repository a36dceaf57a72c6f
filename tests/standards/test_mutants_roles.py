"""Roles (Rules, paragraph 5: access only as far as the duties require): what the mutants of
``standards.services`` showed no test looked at (docs/testing.md) -- the sync puts back a
renamed group and each role's exact profession cards, audits a sync that only adds or only
removes, names an unknown permission; the refusals of a machine account read in full; the
catalogue load is audited with its counts."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User

from records.models import AuditEvent
from records.services import Actor
from standards.models import ProfessionalStandard, ProfessionCard, Role
from standards.roles import API_ROLE_KEY, ROLES, ROLES_BY_KEY, Grant, RoleSpec
from standards.services import (
    RoleAssignmentRefused,
    api_group_id,
    assignable_roles,
    can_assign,
    catalogue_load,
    machine_account_refusal,
    role_assign,
    roles_sync,
)

pytestmark = pytest.mark.django_db
ACTOR = Actor(label="test")


def cards_of(role: Role) -> set[tuple[int, int]]:
    return {(card.standard.edition, card.number) for card in role.cards.select_related("standard")}


def test_sync_gives_each_role_exactly_its_cards_and_its_group_name_back() -> None:
    """Cards of both editions, one role holding three (and two roles the same 2019 card)."""
    head = Role.objects.get(key="head_of_service")
    head.cards.clear()
    head.group.name = "Renamed by hand"
    head.group.save()
    Role.objects.get(key="specialist").cards.clear()
    roles_sync(actor=ACTOR)
    for spec in ROLES:
        role = Role.objects.select_related("group").get(key=spec.key)
        assert cards_of(role) == set(spec.cards), spec.key
        assert role.group.name == spec.group_name
    assert cards_of(Role.objects.get(key="specialist")) == {(2024, 9), (2024, 10), (2019, 3)}


def test_a_sync_that_only_adds_or_only_removes_is_audited() -> None:
    group = Role.objects.get(key="auditor").group
    extra = Permission.objects.get(content_type__app_label="records", codename="delete_participant")
    group.permissions.add(extra)
    before = AuditEvent.objects.filter(action="roles.sync").count()  # (the migration's own sync)
    assert roles_sync(actor=ACTOR).removed == {"auditor": ["records.delete_participant"]}
    assert AuditEvent.objects.filter(action="roles.sync").count() == before + 1
    removed = AuditEvent.objects.filter(action="roles.sync").latest("pk")
    assert removed.data == {"created": [], "added": {}, "removed": {"auditor": ["records.delete_participant"]}}
    taken = group.permissions.first()
    assert taken is not None
    name = f"{taken.content_type.app_label}.{taken.codename}"
    group.permissions.remove(taken)
    assert roles_sync(actor=ACTOR).added == {"auditor": [name]}
    assert AuditEvent.objects.filter(action="roles.sync").count() == before + 2
    added = AuditEvent.objects.filter(action="roles.sync").latest("pk")
    assert added.data == {"created": [], "added": {"auditor": [name]}, "removed": {}}


def test_a_role_naming_an_unknown_permission_is_an_error_that_names_it(monkeypatch) -> None:
    spec = ROLES[0]
    broken = RoleSpec(
        key=spec.key,
        group_name=spec.group_name,
        title=spec.title,
        description=spec.description,
        cards=spec.cards,
        grants=(*spec.grants, Grant("records.fly_to_the_moon", ("2024/9/2",), "test")),
    )
    monkeypatch.setattr("standards.services.ROLES", (broken, *ROLES[1:]))
    with pytest.raises(LookupError) as error:
        roles_sync(actor=ACTOR)
    assert str(error.value) == "Role definitions name an unknown permission: records.fly_to_the_moon"


def test_the_machine_account_refusals_read_in_full() -> None:
    api = api_group_id()
    assert api is not None
    other = Role.objects.get(key="specialist").group_id
    assert machine_account_refusal(groups={api}) is None  # the API role alone, no flags: fine
    assert machine_account_refusal(groups={api}, added={api}) is None
    assert machine_account_refusal(groups={api, other}, added={api}) == (
        "The API role is only for the account of a bank or a state system; this account is a person's."
    )
    assert machine_account_refusal(groups={api, other}, added={other}) == (
        "This is the account of a bank or a state system: it holds the API role and nothing else."
    )
    assert machine_account_refusal(groups={api}, is_superuser=True) is not None
    assert Role.objects.get(key=API_ROLE_KEY).group_id == api


def test_loading_the_catalogue_is_audited_with_its_counts() -> None:
    before = AuditEvent.objects.order_by("pk").last()  # (a migration may have loaded it already)
    counts = catalogue_load(actor=ACTOR)
    assert counts
    event = AuditEvent.objects.filter(pk__gt=before.pk if before else 0).get(action="standards.load")
    assert (event.actor_label, event.data) == ("test", counts)


def test_role_changes_are_audited_by_account_and_direction(make_user) -> None:
    head = make_user("head_of_service")
    clerk = make_user(None, username="clerk")
    role_assign(user_id=clerk.pk, role_key="specialist", actor=head)
    role_assign(user_id=clerk.pk, role_key="specialist", actor=head, remove=True)
    given = AuditEvent.objects.get(action="roles.assign", actor=head)
    taken = AuditEvent.objects.get(action="roles.unassign", actor=head)
    for event in (given, taken):
        assert (event.object_pk, getattr(event.content_type, "model", None)) == (str(clerk.pk), "user")
        assert event.data == {"role": "specialist", "user": "clerk"}
    assert not User.objects.get(pk=clerk.pk).groups.exists()


def test_refused_role_changes_say_why_in_full(make_user) -> None:
    head = make_user("head_of_unit")
    clerk = make_user(None)
    with pytest.raises(RoleAssignmentRefused) as own:
        role_assign(user_id=head.pk, role_key="specialist", actor=head)
    assert own.value.reason == "Nobody gives or takes away his own roles: ask another head."
    with pytest.raises(RoleAssignmentRefused) as above:
        role_assign(user_id=clerk.pk, role_key="auditor", actor=head)
    assert above.value.reason == "This role has rights you do not hold: an administrator assigns it."
    assert not clerk.groups.exists()


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser", "own_permission"])
def test_the_api_role_is_refused_to_a_staff_superuser_or_permission_holding_account(flag: str) -> None:
    """A token of such an account would carry its other rights (Rules, paragraph 5)."""
    administrator = User.objects.create_superuser("administrator", password="pw-123456789")
    account = User.objects.create_user("account", password="pw-123456789")
    if flag == "own_permission":
        account.user_permissions.add(Permission.objects.get(codename="view_participant"))
    else:
        setattr(account, flag, True)
        account.save()
    with pytest.raises(RoleAssignmentRefused) as refused:
        role_assign(user_id=account.pk, role_key=API_ROLE_KEY, actor=administrator)
    assert refused.value.reason == (
        "The API role is only for the account of a bank or a state system; this account is a person's."
    )
    assert not account.groups.exists()


def test_a_card_of_the_other_edition_with_the_same_number_is_not_linked() -> None:
    """The editions number their cards apart today (2019: 1-3, 2024: 9-13); a role's card is
    named by edition and number all the same."""
    edition_2019 = ProfessionalStandard.objects.get(edition=2019)
    stray = ProfessionCard.objects.create(standard=edition_2019, number=9, name_kk="x", name_ru="x", name_en="x")
    roles_sync(actor=ACTOR)
    assert not stray.roles.exists()
    assert cards_of(Role.objects.get(key="specialist")) == {(2024, 9), (2024, 10), (2019, 3)}


def test_without_the_right_to_assign_no_role_is_assignable(make_user) -> None:
    specialist = make_user("specialist")
    own = Role.objects.get(key="specialist")  # whose rights he holds, all of them
    assert not can_assign(specialist, own)
    assert assignable_roles(specialist) == []
    head = make_user("head_of_unit")
    assert {role.key for role in assignable_roles(head)} == {"specialist", "senior_specialist", "head_of_unit"}


def test_the_api_group_is_found_by_the_role_not_by_a_coinciding_id() -> None:
    """Roles and their groups are created together, so their ids agree after the migration;
    they need not (a group recreated by ``roles_sync``, a group made by hand before)."""
    Role.objects.filter(key=API_ROLE_KEY).delete()
    Group.objects.filter(name=ROLES_BY_KEY[API_ROLE_KEY].group_name).delete()
    Group.objects.create(name="Made by hand")
    roles_sync(actor=ACTOR)
    role = Role.objects.get(key=API_ROLE_KEY)
    assert role.pk != role.group_id
    assert api_group_id() == role.group_id
