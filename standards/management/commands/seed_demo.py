"""``manage.py seed_demo``: demo users (one per role) and a synthetic registry. DEBUG only.

Every run sets new passwords and prints them. The registry holds a few thousand synthetic
people with valid IINs; a tenth of them are made participants so the search has something
to find. The people of the quick start's sample orders (``../shared/samples/registry.csv``,
synthetic too) are loaded as well when the file is there, so the samples are checked against
the people they name instead of being returned line by line. No real personal data is involved.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from records.models import Participant
from records.registry import registry_load_snapshot
from records.services import Actor
from records.synthetic import SAMPLE_REGISTRY, registry_csv, synthetic_people
from standards.roles import ROLES
from standards.services import role_assign, roles_sync

DEMO_NAMES = {
    "specialist": ("Айгерім", "Сейітова"),
    "senior_specialist": ("Ерлан", "Жұмабаев"),
    "head_of_unit": ("Мария", "Ковалёва"),
    "head_of_service": ("Нұрлан", "Әбдірахманов"),
    "auditor": ("Дана", "Исаева"),
}


class Command(BaseCommand):
    help = "Create demo users (one per staff role) and a synthetic registry. Refused when DEBUG is off."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=3000)
        parser.add_argument(
            "--sample-registry",
            type=Path,
            default=SAMPLE_REGISTRY,
            help="a registry snapshot CSV loaded after the synthetic people when it exists"
            f" (default: {SAMPLE_REGISTRY})",
        )

    def handle(self, *args: Any, people: int, sample_registry: Path, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo creates demo accounts and is refused when DEBUG is off.")
        actor = Actor(label="command:seed_demo")
        roles_sync(actor=actor)
        root = User.objects.filter(is_superuser=True).order_by("pk").first() or User.objects.create_superuser(
            "demo-admin", password=secrets.token_urlsafe(16)
        )
        lines = []
        for spec in ROLES:
            username = f"demo-{spec.key.replace('_', '-')}"
            password = secrets.token_urlsafe(9)
            first, last = DEMO_NAMES.get(spec.key, ("Demo", spec.key))
            user, _ = User.objects.get_or_create(username=username)
            user.first_name, user.last_name, user.is_active = first, last, True
            user.set_password(password)
            user.save()
            role_assign(user_id=user.pk, role_key=spec.key, actor=root)
            lines.append(f"  {username:<26} {password:<14} {spec.title}")
        population = list(synthetic_people(people, seed=2026, death_share=0.01))
        load = registry_load_snapshot(raw=registry_csv(population), file_name="demo-registry.csv", actor=actor)
        with transaction.atomic():
            existing = set(Participant.objects.values_list("iin", flat=True))
            Participant.objects.bulk_create(
                [
                    Participant(
                        iin=p.iin,
                        last_name=p.last_name,
                        first_name=p.first_name,
                        patronymic=p.patronymic,
                        birth_date=p.birth_date,
                        gender=p.gender,
                        death_date=p.death_date,
                        citizenship="KAZ",
                    )
                    for p in population[::10]
                    if p.iin not in existing
                ]
            )
        self.stdout.write("Demo users (username, password, role):")
        self.stdout.write("\n".join(lines))
        self.stdout.write(
            f"Synthetic registry: {load.rows_total} people ({load.rows_inserted} new);"
            f" participants: {Participant.objects.count()}"
        )
        if sample_registry.is_file():
            samples = registry_load_snapshot(
                raw=sample_registry.read_bytes(), file_name=sample_registry.name, actor=actor
            )
            self.stdout.write(
                f"Sample orders' registry {sample_registry}: {samples.rows_total} people"
                f" ({samples.rows_inserted} new, {samples.rows_rejected} rejected)"
            )
