"""``manage.py load_registry PATH.csv``: load a state-registry snapshot (see records.registry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from records.models import RegistryLoad
from records.registry import REGISTRY_HEADER, registry_load_snapshot
from records.services import Actor


class Command(BaseCommand):
    help = f"Load a state-registry snapshot CSV (UTF-8, header {','.join(REGISTRY_HEADER)}); upsert by IIN."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from exc
        load = registry_load_snapshot(raw=raw, file_name=path.name, actor=Actor(label="command:load_registry"))
        if load.status == RegistryLoad.Status.REJECTED:
            error = load.errors[0]
            raise CommandError(f"{path}:{error['line']}: {error['reason']} (file stored as load {load.pk})")
        if load.status != RegistryLoad.Status.LOADED:
            raise CommandError(
                f"{path}: loading failed, nothing of it was loaded: {load.error} (file stored as load {load.pk})"
            )
        for error in load.errors:
            self.stderr.write(f"{path}:{error['line']}: {error['reason']}")
        if load.rows_rejected > len(load.errors):
            self.stderr.write(f"... and {load.rows_rejected - len(load.errors)} more rejected rows")
        self.stdout.write(
            f"load {load.pk}: read {load.rows_total}, inserted {load.rows_inserted}, updated {load.rows_updated},"
            f" unchanged {load.rows_unchanged}, rejected {load.rows_rejected},"
            f" participants changed {load.participants_changed}"
        )
