"""``manage.py ensure_admin``: create (or reset the password of) the local administrator.

Used by the quick start; refused when DEBUG is off, so it never touches a production database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Create or update the local administrator of the quick start (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password-file", type=Path, required=True)

    def handle(self, *args: Any, username: str, password_file: Path, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("ensure_admin is for the local quick start only (DEBUG is off).")
        password = password_file.read_text(encoding="utf-8").strip()
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"{'created' if created else 'updated'} administrator {username}")
