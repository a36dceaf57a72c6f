"""``manage.py load_standards``: (re)load the professional standard catalogue from standards/data."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from records.services import Actor
from standards.services import catalogue_load


class Command(BaseCommand):
    help = "Load the profession cards and labour functions of both editions (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = catalogue_load(actor=Actor(label="command:load_standards"))
        self.stdout.write(
            f"{counts['standards']} editions, {counts['cards']} profession cards,"
            f" {counts['functions']} labour functions"
        )
