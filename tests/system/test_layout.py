"""The tree shows its layers: it matches the map in docs/architecture.md, lib/ knows nothing
of Dagster, and no Dagster module imports an asset module of another concern."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from orchestration.settings import PROJECT_DIR

PACKAGE = PROJECT_DIR / "orchestration"


def _map_paths() -> set[str]:
    """The paths the map at the top of docs/architecture.md names, relative to the project:
    two blanks of indent per level, a name ending in '/' is a folder."""
    text = (PROJECT_DIR / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = text[text.index("```\n") + 4:]
    block = block[: block.index("```")]
    paths, parents = set(), []
    for line in block.splitlines():
        name = line.split()[0]
        depth = (len(line) - len(line.lstrip(" "))) // 2
        parents = parents[:depth]
        path = "".join(parents) + name
        paths.add(path.rstrip("/"))
        if name.endswith("/"):
            parents.append(name)
    return paths


def _package_paths() -> set[str]:
    """Every module (but __init__.py), data file and package under orchestration/."""
    found = set()
    for path in PACKAGE.rglob("*"):
        if "__pycache__" in path.parts or path.name == "__init__.py":
            continue
        if path.is_dir() or path.suffix in (".py", ".yaml"):
            found.add(str(path.relative_to(PROJECT_DIR)))
    return found | {"orchestration"}


def test_the_map_names_every_module_and_only_modules_that_exist():
    listed = {p for p in _map_paths() if p == "orchestration" or p.startswith("orchestration/")}
    actual = _package_paths()
    assert sorted(actual - listed) == [], "missing from the map in docs/architecture.md"
    assert sorted(listed - actual) == [], "in the map, but not in the tree"
    for path in _map_paths():
        assert (PROJECT_DIR / path).exists(), path


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_module_under_lib_imports_dagster():
    for path in sorted((PACKAGE / "lib").rglob("*.py")):
        dagster = [n for n in _imports(path) if n.split(".")[0].startswith("dagster")]
        assert dagster == [], path


def test_importing_every_lib_module_loads_no_dagster():
    """Indirect imports count too: a fresh interpreter imports all of lib/, then looks."""
    modules = sorted(
        ".".join(path.relative_to(PROJECT_DIR).with_suffix("").parts)
        for path in (PACKAGE / "lib").rglob("*.py") if path.name != "__init__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('dagster')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=PROJECT_DIR, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


def test_asset_modules_are_imported_by_the_definitions_alone():
    """Shared constants live in defs/constants.py; no module takes them from an asset module."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "defs" / "definitions.py":
            continue
        assets = [n for n in _imports(path) if n.startswith("orchestration.defs.")
                  and n.endswith(".assets")]
        assert assets == [], path
