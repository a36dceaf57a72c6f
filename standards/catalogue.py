"""Loading the professional standard catalogue (standards/data/standard_*.json) into the tables.

Idempotent: upserts by edition, card number and function number; cards or functions no longer
in a file are removed. Takes the model classes so the data migration can pass historical ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"


def catalogue_files() -> list[Path]:
    return sorted(DATA_DIR.glob("standard_*.json"))


def _names(data: dict[str, str], prefix: str = "name") -> dict[str, str]:
    return {f"{prefix}_{lang}": " ".join(str(data.get(lang, "")).split()) for lang in ("kk", "ru", "en")}


def load_catalogue(standard_model: Any, card_model: Any, function_model: Any) -> dict[str, int]:
    counts = {"standards": 0, "cards": 0, "functions": 0}
    for path in catalogue_files():
        data = json.loads(path.read_text(encoding="utf-8"))
        standard, _ = standard_model.objects.update_or_create(
            edition=data["edition"],
            defaults={
                **_names(data["title"]),
                **_names(data.get("legal_act", {}), "legal_act"),
                "sources": data.get("sources", {}),
                "translated": data.get("translated", []),
            },
        )
        counts["standards"] += 1
        card_numbers = []
        for card_data in data["cards"]:
            card, _ = card_model.objects.update_or_create(
                standard=standard,
                number=card_data["number"],
                defaults={
                    "code": card_data.get("code", ""),
                    "qualification_levels": card_data.get("qualification_levels", []),
                    **_names(card_data["name"]),
                },
            )
            card_numbers.append(card.number)
            counts["cards"] += 1
            function_numbers = []
            for function_data in card_data.get("functions", []):
                function_model.objects.update_or_create(
                    card=card,
                    number=function_data["number"],
                    defaults={**_names(function_data["name"]), "tasks": function_data.get("tasks", [])},
                )
                function_numbers.append(function_data["number"])
                counts["functions"] += 1
            function_model.objects.filter(card=card).exclude(number__in=function_numbers).delete()
        card_model.objects.filter(standard=standard).exclude(number__in=card_numbers).delete()
    return counts
