"""Copy the checkout to a directory of its own for mutation testing (docs/testing.md).

mutmut 3 leaves every decorated function alone, and the services that move money or decide are
all decorated (``@with_history_context``, ``@transaction.atomic``, the views' ``@requires``). In
the copy, the decorated top-level functions of the files ``[tool.mutmut] only_mutate`` names are
written undecorated and wrapped right after their definition (``f = a(b(f))`` for ``@a @b def
f``), which is what the decorator syntax does, so mutmut mutates them.

The copy also keeps a run away from edits made to the checkout while it lasts: mutmut copies
the apps again at every run and would test a half-edited tree.

    .venv/bin/python scripts/mutmut_tree.py /tmp/mut-tree
    cd /tmp/mut-tree && PATH=/path/to/checkout/.venv/bin:$PATH mutmut run --max-children 2

Run it again to refresh the copy (``mutants/`` and its results are kept).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import shutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SKIP = {".git", ".venv", "mutants", ".local", "media", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis"}


def unroll_decorators(source: str) -> str:
    """``@a`` ``@b`` ``def f`` at the top level -> ``def f`` followed by ``f = a(b(f))``."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, list[str]]] = []  # (first line, last line, replacement), 0-based
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.decorator_list:
            continue
        wrapped = node.name
        for decorator in reversed(node.decorator_list):
            wrapped = f"{ast.get_source_segment(source, decorator)}({wrapped})"
        first = min(d.lineno for d in node.decorator_list) - 1
        # The ``def`` line: the first after the last decorator that starts with ``def``.
        def_line = max(d.end_lineno or d.lineno for d in node.decorator_list)
        while not lines[def_line].lstrip().startswith(("def ", "async def ")):
            def_line += 1
        end = node.end_lineno or node.lineno
        body = lines[def_line:end]
        edits.append((first, end - 1, [*body, f"{node.name} = {wrapped}  # unrolled for mutmut\n"]))
    for first, last, replacement in reversed(edits):
        lines[first : last + 1] = replacement
    return "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", type=Path, help="directory of the copy (created or refreshed)")
    target = parser.parse_args().target.resolve()
    if target == ROOT or ROOT in target.parents:
        raise SystemExit("the copy must be outside the checkout")
    target.mkdir(parents=True, exist_ok=True)
    for entry in ROOT.iterdir():
        if entry.name in SKIP:
            continue
        destination = target / entry.name
        if entry.is_dir():
            shutil.rmtree(destination, ignore_errors=True)
            shutil.copytree(entry, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, destination)
    shared = ROOT.parent / "shared"  # the shared samples some tests read beside the checkout
    if shared.is_dir() and not (target / "shared").exists():
        (target / "shared").symlink_to(shared)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    for source_path in config["source_paths"]:
        for path in sorted((target / source_path).rglob("*.py")):
            relative = path.relative_to(target).as_posix()
            if any(fnmatch.fnmatch(relative, pattern) for pattern in config.get("only_mutate", [])):
                path.write_text(unroll_decorators(path.read_text(encoding="utf-8")), encoding="utf-8")
                print("unrolled", relative)


if __name__ == "__main__":
    main()
