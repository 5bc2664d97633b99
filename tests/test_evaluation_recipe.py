"""``evaluate --recipe``: option values from a TOML file, the command line winning."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.testing import FakeServer

from .support import engine_record, hand_run, write_run


def _recipe(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_recipe_sets_the_judge_and_the_command_line_wins(
    server: FakeServer, tmp_path: Path
) -> None:
    server.script = lambda call: "Final score: 6"
    recipe = _recipe(
        tmp_path,
        f"""
language = "en"
seed = 5
[wai]
base_url = ["{server.base_url}"]
model = "judge"
rounds = 3
max_retries = 0
quiet = true
""",
    )
    run = write_run(tmp_path / "run", [engine_record("d1", None, ["I feel stuck.", "Go on."])])
    args = ["evaluate", "--recipe", str(recipe), "wai", str(run), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(main, [*args, "--rounds", "1", "--json"])
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)["settings"]
    assert (settings["model"], settings["language"], settings["seed"]) == ("judge", "en", 5)
    assert settings["rounds"] == 1  # the command line wins over the recipe's 3
    assert len(server.calls) == 12


def test_recipe_top_level_keys_reach_every_subcommand_that_has_them(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, 'seed = 4\ntest = "paired"\n')
    args = ["evaluate", "--recipe", str(recipe), "overlap", str(hand_run(tmp_path / "run"))]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)["settings"]
    assert (settings["seed"], settings["test"], settings["draw"]) == (4, "paired", "independent")


def test_an_unknown_recipe_key_is_bad_input_naming_file_and_key(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, '[wai]\nmodle = "judge"\n')
    args = ["evaluate", "--recipe", str(recipe), "wai", str(hand_run(tmp_path / "run"))]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert str(recipe) in result.output and "wai.modle" in result.output
    assert "no option --modle for wai" in result.output
