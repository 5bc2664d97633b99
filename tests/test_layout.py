"""The package's layout keeps its promises: layers, one name per thing, complete ``__all__``.

docs/design.md#layers: imports point only down the layers (the import-linter contract in
``pyproject.toml``); no two library modules and no two public classes or functions
share a name; each layer's package re-exports its public names in a sorted, complete
``__all__``, as httpx checks its own.
"""

from __future__ import annotations

import ast
import importlib
import shutil
import subprocess
import sys
import types
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "interactive_agents"
LAYER_PACKAGES = [
    "interactive_agents",
    "interactive_agents.method",
    "interactive_agents.llm",
    "interactive_agents.runtime",
    "interactive_agents.corpora",
    "interactive_agents.reporting",
    "interactive_agents.loadtest",
    "interactive_agents.arena",
    "interactive_agents.evaluation",
    "interactive_agents.serving",
    "interactive_agents.training",
    "interactive_agents.annotation",
]


def test_imports_point_only_down_the_layers() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is part of the dev extra"
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def _library_files() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts]


def test_no_two_modules_share_a_name() -> None:
    names: dict[str, list[str]] = defaultdict(list)
    for path in PACKAGE.rglob("*.py"):
        name = path.parent.name if path.name == "__init__.py" else path.stem
        names[name].append(str(path.relative_to(ROOT)))
    # The CLI's own package name is the one shared name it may have with nothing else.
    assert {n: p for n, p in names.items() if len(p) > 1 and n != "__main__"} == {}


def test_no_two_public_classes_or_functions_share_a_name() -> None:
    """CLI command functions are named after their commands; the library's are unique."""
    defined: dict[str, list[str]] = defaultdict(list)
    for path in _library_files():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            if isinstance(node, kinds) and not node.name.startswith("_"):
                defined[node.name].append(str(path.relative_to(ROOT)))
    assert {n: p for n, p in defined.items() if len(p) > 1} == {}


def _isort_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions, each alphabetical (ruff's RUF022)."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", LAYER_PACKAGES)
def test_all_is_sorted_and_complete(name: str) -> None:
    package = importlib.import_module(name)
    exported = list(package.__all__)
    assert exported == sorted(exported, key=_isort_order)
    for item in exported:
        assert getattr(package, item) is not None
    public = {
        key
        for key, value in vars(package).items()
        if not key.startswith("_")
        and not isinstance(value, types.ModuleType)
        and key != "annotations"
    }
    assert public <= set(exported)
