"""The package's layout and public API keep their promises (docs/design.md#layers, docs/api.md).

- Imports point only down the layers (the import-linter contracts in pyproject.toml).
- Every module is private (its name, or a folder above it, starts with an underscore)
  except the public facades; internal folders (``llm/local``, ``runtime/shards``,
  ``runtime/store``) export nothing.
- Module names are unique within a package; no two public classes or functions of the
  library share a name.
- The CLI, the benchmarks and the examples use the library only through its public
  modules, as users do.
- The public API is the root package, ``errors`` and the capability facades: each names
  its public names in a sorted, complete ``__all__`` (as httpx checks its own), every
  name resolves, and no name is exported from two places.
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
FACADES = (
    "errors", "llm", "method", "runtime", "corpora", "reporting", "judging", "arena", "ratings",
    "evaluation", "training", "serving", "loadtest", "annotation", "testing",
)  # fmt: skip
PUBLIC_MODULES = {
    "interactive_agents",
    "interactive_agents.__main__",
    "interactive_agents.cli",
    *(f"interactive_agents.{name}" for name in FACADES),
}
INTERNAL_FOLDERS = {
    "interactive_agents.llm.local",
    "interactive_agents.runtime.shards",
    "interactive_agents.runtime.store",
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> list[tuple[str, Path]]:
    return sorted((_module_name(path), path) for path in PACKAGE.rglob("*.py"))


def test_imports_point_only_down_the_layers() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None, "import-linter is part of the dev extra"
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 broken" in done.stdout


def test_every_module_but_the_facades_is_private() -> None:
    public = [
        name
        for name, _path in _modules()
        if name not in PUBLIC_MODULES | INTERNAL_FOLDERS
        and not any(part.startswith("_") for part in name.split(".")[1:])
    ]
    assert public == []


@pytest.mark.parametrize("name", sorted(INTERNAL_FOLDERS))
def test_internal_folders_export_nothing(name: str) -> None:
    module = importlib.import_module(name)
    assert getattr(module, "__all__", []) == []
    assert [key for key in vars(module) if not key.startswith("_")] == []


def test_module_names_are_unique_within_a_package() -> None:
    by_package: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, path in _modules():
        parts = name.split(".")
        if len(parts) > 2 and path.name != "__init__.py":
            by_package[(parts[1], parts[-1])].append(name)
    assert {key: names for key, names in by_package.items() if len(names) > 1} == {}


def test_no_two_public_classes_or_functions_share_a_name() -> None:
    """CLI command functions are named after their commands; the library's are unique."""
    defined: dict[str, set[str]] = defaultdict(set)  # a typing overload repeats a name
    for name, path in _modules():
        if name.startswith("interactive_agents.cli"):
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            kinds = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            if isinstance(node, kinds) and not node.name.startswith("_"):
                defined[node.name].add(name)
    assert {n: p for n, p in defined.items() if len(p) > 1} == {}


def _private_imports(path: Path, own: str | None) -> list[str]:
    """The private modules of other packages that ``path`` imports."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        modules: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        for module in modules:
            parts = module.split(".")
            if parts[0] != "interactive_agents" or (own is not None and parts[1:2] == [own]):
                continue
            if any(part.startswith("_") and part != "__main__" for part in parts[1:-1]) or (
                parts[-1].startswith("_") and parts[-1] != "__main__"
            ):
                found.append(f"{path.relative_to(ROOT)}: {module}")
    return found


def test_the_cli_benchmarks_and_examples_use_only_public_modules() -> None:
    found = [
        line
        for folder, own in (
            (PACKAGE / "cli", "cli"),
            (ROOT / "benchmarks", None),
            (ROOT / "examples", None),
        )
        for path in sorted(folder.rglob("*.py"))
        for line in _private_imports(path, own)
    ]
    assert found == []


PUBLIC = ["interactive_agents", *(f"interactive_agents.{name}" for name in FACADES)]


def _isort_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions, each alphabetical (ruff's RUF022)."""
    kind = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", PUBLIC)
def test_all_is_sorted_complete_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_order)
    for item in exported:
        assert getattr(module, item) is not None
    public = {
        key
        for key, value in vars(module).items()
        if not key.startswith("_")
        and not isinstance(value, types.ModuleType)
        and key not in ("annotations", "typing")
        and not (isinstance(value, type) and value.__module__ in ("typing", "builtins"))
    }
    assert public <= set(exported)


def test_no_name_is_exported_twice() -> None:
    homes: dict[str, list[str]] = defaultdict(list)
    for name in PUBLIC:
        for item in importlib.import_module(name).__all__:
            homes[item].append(name)
    assert {item: where for item, where in homes.items() if len(where) > 1} == {}


def test_the_quickstart_of_the_library_imports_from_the_root() -> None:
    from interactive_agents import Engine, build_config, load_cards

    config = build_config("quickstart", {"max_turns": 2})
    assert config.max_turns == 2 and config.language == "en"
    assert Engine.__module__.startswith("interactive_agents.")
    assert load_cards.__name__ == "load_cards"
