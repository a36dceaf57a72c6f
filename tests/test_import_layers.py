"""Imports flow downwards (style.md P2) and without hidden cycles: a models module imports what
it needs at the top. An import tucked inside a function hid a cycle (contributions' models ->
template tags -> documents -> models; records' models -> access -> models) that surfaced only
when the function first ran; what models need to write values lives in ``records.formatting``,
which stands on no model."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted(
    [ROOT / "records" / "models.py", *(ROOT / "contributions" / "models").glob("*.py")],
    key=str,
)
PROJECT_APPS = ("config", "contributions", "payments", "records", "standards")


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT)))
def test_models_import_at_the_top_only(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    hidden = [f"line {node.lineno}: {ast.unparse(node)}" for node in _imports(tree) if id(node) not in top]
    assert hidden == []


def test_the_formatting_module_stands_on_no_app() -> None:
    tree = ast.parse((ROOT / "records" / "formatting.py").read_text(encoding="utf-8"))
    modules: list[str] = []
    for node in _imports(tree):
        modules += [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    assert not [m for m in modules if m.split(".")[0] in PROJECT_APPS]
