"""The 2019 professional standard catalogue (standards/data/standard_2019.json) checked against its
seed texts: the English (000) and Kazakh (002) PDF extractions. No database is needed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

DATA_FILE = Path(__file__).resolve().parents[2] / "standards" / "data" / "standard_2019.json"
SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"
ENGLISH_SEED = "000_d8713e7603274419.txt"
KAZAKH_SEED = "002_8dfae31f0c7b6491.txt"
LANGUAGES = ("kk", "ru", "en")

# (card number, function number) of labour functions whose English and Kazakh names are kept as
# written in the seeds (the English seed breaks some of them over several lines).
SAMPLE_FUNCTIONS = [(1, 1), (2, 1), (2, 2), (3, 1)]
SAMPLE_CARDS = [2, 3]


def load_catalogue() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def _seed_text(name: str) -> str:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"seed folder {SEEDS_DIR} is absent")
    return (SEEDS_DIR / name).read_text(encoding="utf-8")


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _appears(needle: str, haystack: str) -> bool:
    """Whether ``needle`` occurs in ``haystack`` once whitespace runs are collapsed, or, for the words
    the PDF extraction split or ran together, once all whitespace is removed."""
    if _collapse(needle) in _collapse(haystack):
        return True
    return re.sub(r"\s+", "", needle) in re.sub(r"\s+", "", haystack)


def _card(catalogue: dict[str, Any], number: int) -> dict[str, Any]:
    return next(card for card in catalogue["cards"] if card["number"] == number)


def _function(catalogue: dict[str, Any], card_number: int, number: int) -> dict[str, Any]:
    return next(f for f in _card(catalogue, card_number)["functions"] if f["number"] == number)


def _assert_names(names: dict[str, str], where: str) -> None:
    for language in LANGUAGES:
        assert names.get(language, "").strip(), f"{where}: empty {language} name"


def test_structure() -> None:
    catalogue = load_catalogue()
    assert catalogue["edition"] == 2019
    _assert_names(catalogue["title"], "title")
    _assert_names(catalogue["legal_act"], "legal act")
    assert catalogue["sources"] == {"en": ENGLISH_SEED, "kk": KAZAKH_SEED}
    assert [card["number"] for card in catalogue["cards"]] == list(range(1, len(catalogue["cards"]) + 1))
    assert len(catalogue["cards"]) == 3
    for card in catalogue["cards"]:
        where = f"card {card['number']}"
        assert re.fullmatch(r"\d{4}-\d-\d{3}", card["code"]), where
        _assert_names(card["name"], where)
        assert card["qualification_levels"], where
        assert all(isinstance(level, str) and level.isdigit() for level in card["qualification_levels"]), where
        assert card["functions"], where
        for function in card["functions"]:
            function_where = f"{where}, function {function['number']}"
            _assert_names(function["name"], function_where)
            assert function["tasks"], function_where
            for task in function["tasks"]:
                _assert_names(task["name"], function_where)
                assert task["skills"], function_where
                for skill in task["skills"]:
                    _assert_names(skill, function_where)


def test_codes_and_levels() -> None:
    catalogue = load_catalogue()
    assert [(card["code"], card["qualification_levels"]) for card in catalogue["cards"]] == [
        ("1344-0-001", ["7"]),
        ("1344-0-005", ["7"]),
        ("3350-0-010", ["5", "6"]),
    ]


def test_card_names_appear_in_seeds() -> None:
    english, kazakh = _seed_text(ENGLISH_SEED), _seed_text(KAZAKH_SEED)
    catalogue = load_catalogue()
    for number in SAMPLE_CARDS:
        name = _card(catalogue, number)["name"]
        assert _appears(name["en"], english), name["en"]
        assert _appears(name["kk"], kazakh), name["kk"]


def test_labour_function_names_appear_in_seeds() -> None:
    english, kazakh = _seed_text(ENGLISH_SEED), _seed_text(KAZAKH_SEED)
    catalogue = load_catalogue()
    for card_number, number in SAMPLE_FUNCTIONS:
        name = _function(catalogue, card_number, number)["name"]
        assert _appears(name["en"], english), name["en"]
        assert _appears(name["kk"], kazakh), name["kk"]


def test_kazakh_text_is_taken_from_the_kazakh_seed() -> None:
    kazakh = _seed_text(KAZAKH_SEED)
    catalogue = load_catalogue()
    for card in catalogue["cards"]:
        assert _appears(card["name"]["kk"], kazakh), card["name"]["kk"]
        for function in card["functions"]:
            assert _appears(function["name"]["kk"], kazakh), function["name"]["kk"]
            for task in function["tasks"]:
                assert _appears(task["name"]["kk"], kazakh), task["name"]["kk"]
                for skill in task["skills"]:
                    assert _appears(skill["kk"], kazakh), skill["kk"]


def test_russian_is_translated() -> None:
    catalogue = load_catalogue()
    assert "ru" in catalogue["translated"]
    assert "ru" not in catalogue["sources"]
    for card in catalogue["cards"]:
        assert re.search(r"[А-Яа-яЁё]", card["name"]["ru"]), card["name"]["ru"]
        for function in card["functions"]:
            assert function["name"]["ru"] != function["name"]["kk"]
