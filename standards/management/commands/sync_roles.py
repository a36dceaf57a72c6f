"""``manage.py sync_roles``: make the staff groups match standards/roles.py (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from records.services import Actor
from standards.services import roles_sync


class Command(BaseCommand):
    help = "Create or update one group per staff role with exactly the permissions defined in code."

    def handle(self, *args: Any, **options: Any) -> None:
        result = roles_sync(actor=Actor(label="command:sync_roles"))
        for key in result.created:
            self.stdout.write(f"created role {key}")
        for key, names in result.added.items():
            self.stdout.write(f"{key}: granted {', '.join(names)}")
        for key, names in result.removed.items():
            self.stdout.write(f"{key}: withdrew {', '.join(names)}")
        if not (result.created or result.added or result.removed):
            self.stdout.write("roles are up to date")
