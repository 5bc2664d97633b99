"""``evaluate --recipe``: the tables of every recipe, the command line winning key by key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from interactive_agents import build_config
from interactive_agents.cli import main
from interactive_agents.errors import ConfigError
from interactive_agents.evaluation import EvaluationConfig
from interactive_agents.testing import FakeServer

from .support import engine_record, hand_run, write_run


def _recipe(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _evaluate(recipe: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["evaluate", "--recipe", str(recipe), *args])


def test_recipe_sets_the_judge_and_the_command_line_wins(
    server: FakeServer, tmp_path: Path
) -> None:
    server.script = lambda call: "Final score: 6"
    recipe = _recipe(
        tmp_path,
        f"""
language = "en"
seed = 5
rounds = 3
[endpoint]
base_urls = ["{server.base_url}"]
model = "judge"
max_retries = 0
[judge.sampling]
temperature = 0.2
""",
    )
    run = write_run(tmp_path / "run", [engine_record("d1", None, ["I feel stuck.", "Go on."])])
    out = str(tmp_path / "out")
    result = _evaluate(recipe, "wai", str(run), "--out", out, "--rounds", "1", "--json", "-q")
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)["settings"]
    assert (settings["model"], settings["language"], settings["seed"]) == ("judge", "en", 5)
    assert settings["temperature"] == 0.2
    assert settings["rounds"] == 1  # the command line wins over the recipe's 3
    assert len(server.calls) == 12
    assert {call.body["temperature"] for call in server.calls} == {0.2}


def test_top_level_keys_reach_every_subcommand_and_tables_their_own(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, 'seed = 4\n[overlap]\ntest = "paired"\n[semantic]\ndraw = "x"\n')
    args = ["overlap", str(hand_run(tmp_path / "run")), "--out", str(tmp_path / "out"), "--json"]
    result = _evaluate(recipe, *args)
    assert result.exit_code == 2  # the whole recipe is checked, [semantic] included
    assert "semantic.draw" in result.output

    recipe = _recipe(tmp_path, 'seed = 4\n[overlap]\ntest = "paired"\n')
    result = _evaluate(recipe, *args)
    assert result.exit_code == 0, result.output
    settings = json.loads(result.stdout)["settings"]
    assert (settings["seed"], settings["test"], settings["draw"]) == (4, "paired", "independent")


def test_recipe_thresholds_and_threshold_flags_are_merged_key_by_key(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, "[quality.thresholds]\necho = 1.01\nclosure_turns = 4\n")
    run = str(hand_run(tmp_path / "run"))
    out = str(tmp_path / "out")
    result = _evaluate(recipe, "quality", run, "--out", out, "--threshold", "closure_turns=5")
    assert result.exit_code == 0, result.output
    thresholds = json.loads((tmp_path / "out" / "quality.json").read_bytes())["thresholds"]
    assert (thresholds["echo"], thresholds["premature_closure"]) == (1.01, 5)


def test_an_unknown_recipe_key_is_bad_input_naming_file_and_key(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, '[judge.endpoint]\nmodle = "judge"\n')
    args = ["wai", str(hand_run(tmp_path / "run")), "--out", str(tmp_path / "out")]
    result = _evaluate(recipe, *args)
    assert result.exit_code == 2
    assert str(recipe) in result.output and "judge.endpoint.modle" in result.output
    assert "unknown key" in result.output


@pytest.mark.parametrize(
    ("old", "field", "new"),
    [
        ('base_url = ["http://localhost:8000/v1"]', "base_url", "judge.endpoint.base_urls"),
        ('[wai]\nmodel = "judge"', "wai.model", "judge.endpoint.model"),
        ("[topics]\ntemperature = 0.3", "topics.temperature", "judge.sampling.temperature"),
        ("[wai]\nrounds = 2", "wai.rounds", "rounds"),
        ('test = "paired"', "test", "overlap.test"),
        ('topics = "counseling-60"', "topics", "topics.topic_set"),
        ('[topics]\ntopics = "counseling-60"', "topics.topics", "topics.topic_set"),
        ('threshold = ["echo=0.5"]', "threshold", "quality.thresholds"),
        ('alpha_level = "ordinal"', "alpha_level", "wai.alpha_level"),
    ],
)
def test_a_recipe_in_the_old_flat_format_names_the_new_key(
    tmp_path: Path, old: str, field: str, new: str
) -> None:
    recipe = _recipe(tmp_path, old + "\n")
    with pytest.raises(ConfigError) as error:
        build_config(recipe, kind=EvaluationConfig)
    assert (error.value.file, error.value.field) == (str(recipe), field)
    assert f"set {new!r} instead" in error.value.reason

    args = ["stats", str(hand_run(tmp_path / "run")), "--out", str(tmp_path / "out")]
    result = _evaluate(recipe, *args)
    assert result.exit_code == 2
    assert f"set {new!r} instead" in result.output


def test_the_judges_own_table_wins_over_the_shared_endpoint() -> None:
    config = build_config(
        {
            "endpoint": {"base_urls": ["http://a:1/v1"], "model": "shared", "timeout": 5},
            "judge": {"endpoint": {"model": "own"}, "attempts": 2},
        },
        kind=EvaluationConfig,
    )
    endpoint = config.judge.endpoint
    assert (endpoint.base_urls, endpoint.model, endpoint.timeout) == (("http://a:1/v1",), "own", 5)
    assert config.judge.attempts == 2


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"rounds": 0}, "rounds"),
        ({"limit": 0}, "limit"),
        ({"language": "fr"}, "language"),
        ({"topics": {"max_topics": 0}}, "topics.max_topics"),
        ({"wai": {"alpha_level": "ratio"}}, "wai.alpha_level"),
        ({"quality": {"thresholds": {"echo": -1}}}, "quality.thresholds.echo"),
        ({"endpoint": {"base_urls": ["http://a:1/v1"]}}, "judge.endpoint.model"),
    ],
)
def test_bad_values_are_refused_naming_the_field(table: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_config(table, kind=EvaluationConfig)
    assert error.value.field == field
