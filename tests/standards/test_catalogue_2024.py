"""The 2024 professional standard catalogue (standards/data/standard_2024.json) against its Russian seed."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SEED_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"
SEED_NAME = "001_1bb34297925e91c5.txt"
CATALOGUE = Path(__file__).resolve().parents[2] / "standards" / "data" / "standard_2024.json"
LANGUAGES = ("kk", "ru", "en")
KAZAKH_LETTERS = set("әғқңөұүһі")


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@cache
def catalogue() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return data


def seed_text() -> str:
    seed = SEED_DIR / SEED_NAME
    if not seed.is_file():
        pytest.skip(f"seed {seed} is not available")
    return collapse(seed.read_text(encoding="utf-8"))


def functions() -> list[dict[str, Any]]:
    return [function for card in catalogue()["cards"] for function in card["functions"]]


def tasks() -> list[dict[str, Any]]:
    return [task for function in functions() for task in function["tasks"]]


def in_seed(name: str, seed: str) -> bool:
    name = collapse(name)
    return name in seed or name.casefold() in seed.casefold()


def assert_names(names: dict[str, str]) -> None:
    for language in LANGUAGES:
        assert collapse(names.get(language, "")), f"missing {language} text in {names}"


def test_structure() -> None:
    data = catalogue()
    assert data["edition"] == 2024
    assert data["sources"] == {"ru": SEED_NAME}
    assert_names(data["title"])
    assert_names(data["legal_act"])
    assert [card["number"] for card in data["cards"]] == [9, 10, 11, 12, 13]
    for card in data["cards"]:
        assert re.fullmatch(r"\d{4}-\d-\d{3}", card["code"]), card["code"]
        assert_names(card["name"])
        assert card["qualification_levels"], card["number"]
        assert all(isinstance(level, str) and level for level in card["qualification_levels"])
        assert card["functions"], card["number"]
        assert [function["number"] for function in card["functions"]] == list(range(1, len(card["functions"]) + 1))
        for function in card["functions"]:
            assert_names(function["name"])
            assert function["tasks"], (card["number"], function["number"])
            for task in function["tasks"]:
                assert_names(task["name"])
                assert task["skills"], task["name"]["ru"]
                for skill in task["skills"]:
                    assert_names(skill)


def test_whitespace_is_normalised() -> None:
    texts = [card["name"] for card in catalogue()["cards"]]
    texts += [function["name"] for function in functions()]
    texts += [task["name"] for task in tasks()]
    texts += [skill for task in tasks() for skill in task["skills"]]
    for names in texts:
        for text in names.values():
            assert text == collapse(text), text
            assert not re.match(r"\d+\.", text), text


def test_function_names_are_in_seed() -> None:
    seed = seed_text()
    names = {function["name"]["ru"] for function in functions()}
    found = [name for name in names if in_seed(name, seed)]
    assert len(found) >= 5, sorted(names - set(found))


def test_card_names_are_in_seed() -> None:
    seed = seed_text()
    names = {card["name"]["ru"] for card in catalogue()["cards"]}
    found = [name for name in names if in_seed(name, seed)]
    assert len(found) >= 2, sorted(names - set(found))


def test_task_names_are_in_seed() -> None:
    seed = seed_text()
    names = {task["name"]["ru"] for task in tasks()}
    found = [name for name in names if in_seed(name, seed)]
    assert len(found) >= 3, sorted(names - set(found))


def test_codes_are_in_seed() -> None:
    seed = seed_text()
    for card in catalogue()["cards"]:
        assert f"{card['number']}. Карточка профессии:" in seed
        assert card["code"] in seed, card["code"]


def test_translations() -> None:
    data = catalogue()
    assert data["translated"] == ["kk", "en"]
    kazakh = [data["title"]["kk"]] + [card["name"]["kk"] for card in data["cards"]]
    kazakh += [function["name"]["kk"] for function in functions()]
    kazakh += [task["name"]["kk"] for task in tasks()]
    assert KAZAKH_LETTERS & set("".join(kazakh).lower())
    for card in data["cards"]:
        assert card["name"]["kk"] != card["name"]["ru"]
        assert card["name"]["en"] != card["name"]["ru"]


def test_notes() -> None:
    notes = catalogue()["notes"]
    assert isinstance(notes, list)
    assert all(isinstance(note, str) and note for note in notes)
