"""A command whose optional extra is missing says which to install; a broken import of
the package itself is shown as the bug it is, never as a missing extra."""

from __future__ import annotations

import subprocess
import sys

from interactive_agents.errors import install_hint


def _cli_without(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh interpreter where ``module`` cannot be imported."""
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from interactive_agents.cli import main\n"
        f"main({list(args)!r})"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )


def test_a_missing_extra_is_named_with_the_command_to_install_it() -> None:
    done = _cli_without("scipy", "elo", "battles.jsonl")
    assert done.returncode == 1
    assert "'elo' is not available here" in done.stderr
    assert install_hint("eval") in done.stderr


def test_a_broken_module_of_the_package_is_not_called_a_missing_extra() -> None:
    done = _cli_without("interactive_agents.ratings", "elo", "--help")
    assert done.returncode == 1
    assert "ModuleNotFoundError" in done.stderr
    assert "not available here" not in done.stderr.lower()
