"""docs/cli.md and docs/api.md are generated from the code and must not go stale.

Both pages are regenerated in memory by ``scripts/reference_docs.py`` and compared with
the committed files; the fix for a failure is ``python scripts/reference_docs.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIX = "regenerate with: python scripts/reference_docs.py"


def load_generator() -> ModuleType:
    """scripts/reference_docs.py as a module (scripts/ is not a package)."""
    path = ROOT / "scripts" / "reference_docs.py"
    spec = importlib.util.spec_from_file_location("reference_docs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("reference_docs", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    """The generator; the test environment has every extra, so every command renders."""
    module = load_generator()
    missing = module.unavailable_commands()
    assert not missing, f"extras missing for {', '.join(missing)}: the reference needs them all"
    return module


def test_cli_reference_is_current(generator: ModuleType) -> None:
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert generator.render_cli() == committed, f"docs/cli.md is stale; {FIX}"


def test_api_reference_is_current(generator: ModuleType) -> None:
    committed = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert generator.render_api() == committed, f"docs/api.md is stale; {FIX}"


def test_cli_reference_covers_every_command(generator: ModuleType) -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    paths = [ctx.command_path for ctx, _ in generator.walk_commands()]
    assert "interactive-agents evaluate wai" in paths
    for path in paths:
        assert f"\n## {path}\n" in text


def test_api_reference_covers_every_facade(generator: ModuleType) -> None:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    import interactive_agents

    for name in interactive_agents.__all__:
        assert f"| `{name}` |" in text
    for module in generator.public_modules():
        assert f"## `{module}`" in text
    assert "## `interactive_agents.errors`" in text
