"""The catalogue in the database, the staff roles page, role assignment and seed_demo."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from records.models import AuditEvent, Participant, RegistryPerson
from standards.models import LaborFunction, ProfessionalStandard, ProfessionCard

pytestmark = pytest.mark.django_db


def test_the_migration_loaded_both_editions() -> None:
    assert set(ProfessionalStandard.objects.values_list("edition", flat=True)) == {2019, 2024}
    assert ProfessionCard.objects.filter(standard__edition=2024).count() == 5
    card = ProfessionCard.objects.get(standard__edition=2024, number=9)
    assert card.code == "3350-0-010"
    assert card.name_ru == "Специалист по пенсионному обеспечению"
    assert all((card.name_kk, card.name_en))
    function = LaborFunction.objects.get(card=card, number=1)
    assert "обработка документов" in function.name_ru.lower()
    assert function.tasks
    assert all(task["skills"] for task in function.tasks)


def test_load_standards_is_idempotent() -> None:
    before = LaborFunction.objects.count()
    out = StringIO()
    call_command("load_standards", stdout=out)
    assert "2 editions" in out.getvalue()
    assert LaborFunction.objects.count() == before


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "Специалист по пенсионному обеспечению"), ("kk", None), ("en", None)],
)
def test_roles_page_shows_cards_in_the_ui_language(language: str, expected: str | None, make_user) -> None:
    holder = make_user("specialist", username="aigerim")
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(make_user("senior_specialist"))
    page = client.get(reverse("role_list")).content.decode()
    card = ProfessionCard.objects.get(standard__edition=2024, number=9)
    assert getattr(card, f"name_{language}") in page
    if expected:
        assert expected in page
    assert holder.username in page
    assert 'action="/staff/roles/assign/"' not in page  # a specialist may not assign


def test_a_head_assigns_a_role_on_the_page(make_user) -> None:
    head = make_user("head_of_unit")
    newcomer = make_user(None, username="newcomer")
    client = Client()
    client.force_login(head)
    page = client.get(reverse("role_list")).content.decode()
    assert 'action="/staff/roles/assign/"' in page
    response = client.post(reverse("role_assign"), {"user": newcomer.pk, "role": "specialist", "action": "assign"})
    assert response.status_code == 302
    assert newcomer.groups.filter(role__key="specialist").exists()
    assert AuditEvent.objects.filter(action="roles.assign", actor=head).exists()
    bad = client.post(reverse("role_assign"), {"user": newcomer.pk, "role": "emperor", "action": "assign"})
    assert bad.status_code == 302
    assert newcomer.groups.count() == 1


def test_a_specialist_cannot_post_an_assignment(make_user) -> None:
    specialist = make_user("specialist")
    client = Client()
    client.force_login(specialist)
    response = client.post(reverse("role_assign"), {"user": specialist.pk, "role": "auditor", "action": "assign"})
    assert response.status_code == 403
    assert not specialist.groups.filter(role__key="auditor").exists()


def test_seed_demo_creates_one_user_per_role_and_a_synthetic_registry(settings, tmp_path) -> None:
    settings.DEBUG = True
    out = StringIO()
    # Without the sample orders' registry (tests/records/test_registry.py covers it).
    call_command("seed_demo", "--people", "200", "--sample-registry", str(tmp_path / "none.csv"), stdout=out)
    text = out.getvalue()
    for key in ("specialist", "senior-specialist", "head-of-unit", "head-of-service", "auditor"):
        assert f"demo-{key}" in text
        user = User.objects.get(username=f"demo-{key}")
        assert user.groups.filter(role__key=key.replace("-", "_")).exists()
    assert RegistryPerson.objects.count() == 200
    assert Participant.objects.count() == 20
    from records.identifiers import is_valid_iin_bin

    assert all(is_valid_iin_bin(iin) for iin in RegistryPerson.objects.values_list("iin", flat=True))


def test_seed_demo_is_refused_without_debug(settings) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not User.objects.filter(username__startswith="demo-").exists()
