"""Machine accounts: a bank's or state system's account holds the API role and nothing else, and a
person's account never holds it, whichever way a role is given (the role service and its page, the
admin's user form, or the ORM directly). Otherwise one head could widen a bank's token to every
participant's personal data (Rules, paragraph 5)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse

from records.models import AuditEvent
from standards.models import Role
from standards.roles import API_ROLE_KEY
from standards.services import RoleAssignmentRefused, role_assign

pytestmark = pytest.mark.django_db

MACHINE = "holds the API role and nothing else"
PERSON = "this account is a person's"


def group(key: str) -> Group:
    return Role.objects.get(key=key).group


def roles_of(user: User) -> set[str]:
    return set(user.groups.values_list("role__key", flat=True))


@pytest.fixture
def administrator(db) -> User:
    return User.objects.create_superuser("administrator", password="pw-123456789")


@pytest.fixture
def bank(make_user) -> User:
    user: User = make_user(API_ROLE_KEY, username="bank-halyk")
    return user


# --- The role service ---------------------------------------------------------------------------


def test_a_head_cannot_give_a_staff_role_to_a_bank(make_user, bank) -> None:
    head = make_user("head_of_unit")
    events = AuditEvent.objects.count()
    for key in ("specialist", "senior_specialist", "head_of_unit"):
        with pytest.raises(RoleAssignmentRefused, match=MACHINE):
            role_assign(user_id=bank.pk, role_key=key, actor=head)
    bank = User.objects.get(pk=bank.pk)
    assert roles_of(bank) == {API_ROLE_KEY}
    assert not bank.has_perm("records.view_participant")
    assert AuditEvent.objects.count() == events


def test_an_administrator_cannot_either(administrator, bank) -> None:
    with pytest.raises(RoleAssignmentRefused, match=MACHINE):
        role_assign(user_id=bank.pk, role_key="auditor", actor=administrator)
    assert roles_of(bank) == {API_ROLE_KEY}


def test_a_person_never_gets_the_api_role(make_user, administrator) -> None:
    clerk = make_user("specialist")
    with pytest.raises(RoleAssignmentRefused, match=PERSON):
        role_assign(user_id=clerk.pk, role_key=API_ROLE_KEY, actor=administrator)
    assert roles_of(clerk) == {"specialist"}
    other = User.objects.create_superuser("other-administrator", password="pw-123456789")
    with pytest.raises(RoleAssignmentRefused, match=PERSON):
        role_assign(user_id=other.pk, role_key=API_ROLE_KEY, actor=administrator)
    assert not other.groups.exists()


def test_a_new_account_becomes_a_bank_and_can_stop_being_one(make_user, administrator) -> None:
    account = make_user(None, username="bank-kaspi")
    role_assign(user_id=account.pk, role_key=API_ROLE_KEY, actor=administrator)
    role_assign(user_id=account.pk, role_key=API_ROLE_KEY, actor=administrator)  # again: no change
    assert roles_of(account) == {API_ROLE_KEY}
    role_assign(user_id=account.pk, role_key=API_ROLE_KEY, actor=administrator, remove=True)
    role_assign(user_id=account.pk, role_key="specialist", actor=administrator)
    assert roles_of(account) == {"specialist"}


def test_the_staff_page_says_why_and_changes_nothing(make_user, bank) -> None:
    client = Client()
    client.force_login(make_user("head_of_unit"))
    response = client.post(
        reverse("role_assign"),
        {"user": bank.pk, "role": "specialist", "action": "assign"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert MACHINE in response.content.decode()
    assert roles_of(bank) == {API_ROLE_KEY}


# --- The admin's user form ----------------------------------------------------------------------


def admin_change(client: Client, user: User, **changes: object):
    data: dict[str, object] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": list(user.groups.values_list("pk", flat=True)),
        "user_permissions": [],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    if user.is_staff:
        data["is_staff"] = "on"
    if user.is_superuser:
        data["is_superuser"] = "on"
    data.update(changes)
    return client.post(
        reverse("admin:auth_user_change", args=[user.pk]), {k: v for k, v in data.items() if v is not None},
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip


def form_errors(response) -> str:
    return " ".join(response.context["adminform"].form.non_field_errors())


@pytest.fixture
def admin_client_(administrator) -> Client:
    client = Client()
    client.force_login(administrator)
    return client


def test_the_admin_refuses_a_staff_group_on_a_bank(admin_client_, bank) -> None:
    groups = [group(API_ROLE_KEY).pk, group("specialist").pk]
    response = admin_change(admin_client_, bank, groups=groups)
    assert response.status_code == 200
    assert MACHINE in form_errors(response)
    assert roles_of(bank) == {API_ROLE_KEY}
    for changes in (
        {"is_superuser": "on"},
        {"is_staff": "on"},
        {"user_permissions": [Permission.objects.get(codename="view_participant").pk]},
        {"groups": [group(API_ROLE_KEY).pk, Group.objects.create(name="Ad hoc").pk]},
    ):
        response = admin_change(admin_client_, bank, **changes)
        assert response.status_code == 200, changes
        assert MACHINE in form_errors(response), changes
    bank = User.objects.get(pk=bank.pk)
    assert (bank.is_superuser, bank.is_staff, bank.user_permissions.exists()) == (False, False, False)
    assert roles_of(bank) == {API_ROLE_KEY}


def test_the_admin_refuses_the_api_role_on_a_person(admin_client_, make_user) -> None:
    clerk = make_user("head_of_service")  # staff status: uses the admin
    response = admin_change(admin_client_, clerk, groups=[group("head_of_service").pk, group(API_ROLE_KEY).pk])
    assert response.status_code == 200
    assert PERSON in form_errors(response)
    assert roles_of(clerk) == {"head_of_service"}


def test_the_admin_still_edits_a_bank_and_turns_it_into_a_person_in_one_save(admin_client_, bank) -> None:
    assert admin_change(admin_client_, bank, first_name="Halyk").status_code == 302
    assert User.objects.get(pk=bank.pk).first_name == "Halyk"
    response = admin_change(admin_client_, bank, groups=[group("specialist").pk], is_staff="on")
    assert response.status_code == 302
    assert roles_of(bank) == {"specialist"}


# --- Every other path: the database-side guard --------------------------------------------------


def test_the_orm_cannot_put_a_bank_in_another_group(bank, make_user) -> None:
    clerk = make_user("specialist")
    with pytest.raises(ValidationError, match=MACHINE), transaction.atomic():
        bank.groups.add(group("specialist"))
    with pytest.raises(ValidationError, match=MACHINE), transaction.atomic():
        group("auditor").user_set.add(bank)
    with pytest.raises(ValidationError, match=MACHINE), transaction.atomic():
        bank.user_permissions.add(Permission.objects.get(codename="view_participant"))
    with pytest.raises(ValidationError, match=MACHINE), transaction.atomic():
        Permission.objects.get(codename="view_participant").user_set.add(bank)
    with pytest.raises(ValidationError, match=PERSON), transaction.atomic():
        clerk.groups.add(group(API_ROLE_KEY))
    with pytest.raises(ValidationError, match=PERSON), transaction.atomic():
        group(API_ROLE_KEY).user_set.add(clerk)
    assert roles_of(User.objects.get(pk=bank.pk)) == {API_ROLE_KEY}
    assert roles_of(clerk) == {"specialist"}
    # Other accounts are untouched by the guard.
    clerk.groups.add(group("auditor"))
    group("senior_specialist").user_set.add(clerk)
    assert roles_of(clerk) == {"specialist", "auditor", "senior_specialist"}
