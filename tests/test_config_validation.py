"""Configuration is checked when it is built: URLs, key variables, unknown keys, bad files.

Every refusal is a ConfigError naming the recipe and the dotted field, and through the
CLI it is one line and exit code 2, with nothing written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from interactive_agents import RunConfig, build_config
from interactive_agents.arena import ArenaConfig
from interactive_agents.cli import main
from interactive_agents.errors import ConfigError
from interactive_agents.judging import judge_endpoint
from interactive_agents.llm import EndpointConfig, check_url
from interactive_agents.loadtest import BenchConfig
from interactive_agents.training import TrainConfig

from .support import refused_simulate

SECRET = "sk-proj-Abc123secretvalue"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:99999/v1", "Port out of range"),
        ("http://[::1/v1", "Invalid IPv6 URL"),
        ("localhost:8000/v1", "not an http(s) URL"),
        ("http:///v1", "not an http(s) URL with a host"),
        ("ftp://host/v1", "not an http(s) URL"),
        ("http://host:abc/v1", "not a valid URL"),
        ("http://host:0/v1", "port 0"),
        ("http://exa mple.com/v1", "spaces"),
        ("http://user:pass@host/v1", "credentials"),
        ("http://host/v1?key=1", "no query"),
    ],
)
def test_malformed_urls_are_refused_naming_the_field(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(why)) as refused:
        build_config(None, {"counselor.endpoint.base_urls": [url], "endpoint.model": "m"})
    assert refused.value.field == "counselor.endpoint.base_urls"
    with pytest.raises(ConfigError, match=re.escape(why)):
        judge_endpoint([url], "m")
    with pytest.raises(ConfigError, match=re.escape(why)):
        EndpointConfig(base_urls=(url,), model="m")


@pytest.mark.parametrize(
    "url", ["http://localhost:8000/v1", "https://[::1]:8443/v1", "https://api.example.org/v1"]
)
def test_good_urls_pass(url: str) -> None:
    assert check_url(url, field="base_urls") == url
    config = build_config(None, {"endpoint.base_urls": [url], "endpoint.model": "m"})
    assert config.client.endpoint.base_urls == (url,)


@pytest.mark.parametrize("value", [SECRET, "MY KEY", "1ST_KEY", "KEY=abc", ""])
def test_api_key_env_must_be_a_variable_name_and_is_never_echoed(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        build_config(
            None,
            {
                "endpoint.base_urls": ["http://localhost:8000/v1"],
                "endpoint.model": "m",
                "client.endpoint.api_key_env": value,
            },
        )
    assert refused.value.field == "client.endpoint.api_key_env"
    assert "NAME of the environment variable" in str(refused.value)
    assert not value or value not in str(refused.value)
    with pytest.raises(ConfigError, match="NAME"):
        judge_endpoint(["http://localhost:8000/v1"], "m", api_key_env=value)


def test_the_key_passed_as_api_key_env_reaches_no_file_and_no_output(tmp_path: Path) -> None:
    output = refused_simulate(tmp_path, "--api-key-env", SECRET)
    assert "api_key_env" in output and SECRET not in output


def test_recipe_keys_are_checked(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.toml"
    for text, field in [
        ("max_turn = 3\n", "max_turn"),
        ("[client]\ntempreature = 0.5\n", "client.tempreature"),
        ("[endpoint]\nmodle = 'm'\n", "endpoint.modle"),
        ("[counselor.endpoint]\nbase_url = 'http://h/v1'\n", "counselor.endpoint.base_url"),
        ("client = 3\n", "client"),
        ("[refiner]\nmax_lenght = 3\n", "refiner.max_lenght"),
    ]:
        recipe.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as refused:
            build_config(recipe)
        assert (refused.value.file, refused.value.field) == (str(recipe), field)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"\xff\xfe max_turns = 3", "not UTF-8"),
        (b"a = " + b"[" * 3000 + b"]" * 3000, "nested too deeply"),
        (b"max_turns = " + b"9" * 5000, "not valid TOML"),
        (b"seed = 99999999999999999999999", "out of range"),
        (b"max_turns = ", "not valid TOML"),
    ],
)
def test_unreadable_recipes_are_one_line_and_exit_2(
    tmp_path: Path, content: bytes, why: str
) -> None:
    recipe = tmp_path / "recipe.toml"
    recipe.write_bytes(content)
    with pytest.raises(ConfigError, match=why):
        build_config(recipe)
    result = CliRunner().invoke(main, ["simulate", "--recipe", str(recipe)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and str(recipe) in result.output


def test_a_directory_as_recipe_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the recipe"):
        build_config(tmp_path)


def test_arena_bots_registry_uses_the_same_url_check(tmp_path: Path) -> None:
    from interactive_agents.arena._bots import load_bots

    registry = tmp_path / "bots.toml"
    registry.write_text(
        '[bots.a]\nbase_urls = ["http://[::1/v1"]\nmodel = "a"\n'
        '[bots.b]\nbase_urls = ["http://h/v1"]\nmodel = "b"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="Invalid IPv6 URL") as refused:
        load_bots(registry, "prompt")
    assert (refused.value.file, refused.value.record) == (str(registry), "bots.a")
    registry.write_text(
        f'[bots.a]\nbase_urls = ["http://h/v1"]\nmodel = "a"\napi_key_env = "{SECRET}"\n'
        '[bots.b]\nbase_urls = ["http://h/v1"]\nmodel = "b"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="NAME") as refused:
        load_bots(registry, "prompt")
    assert refused.value.field == "api_key_env" and SECRET not in str(refused.value)


def test_every_command_reads_the_same_tables_the_same_way(tmp_path: Path) -> None:
    """[endpoint], [ROLE.endpoint] and [ROLE.sampling] mean one thing in every recipe."""
    tables = """
[endpoint]
base_urls = ["http://gpu1:8000/v1"]
model = "shared"
timeout = 30
[client.sampling]
temperature = 0.2
"""
    run_recipe = tmp_path / "run.toml"
    run_recipe.write_text(tables + '[counselor.endpoint]\nmodel = "own"\n', encoding="utf-8")
    arena_recipe = tmp_path / "arena.toml"
    arena_recipe.write_text(tables + '[judge.endpoint]\nmodel = "own"\n', encoding="utf-8")
    run = build_config(run_recipe)
    arena = build_config(arena_recipe, kind=ArenaConfig)
    for config in (run, arena):
        assert config.client.endpoint.model == "shared"
        assert config.client.endpoint.timeout == 30
        assert config.client.sampling.temperature == 0.2
    assert (run.counselor.endpoint.model, run.counselor.endpoint.timeout) == ("own", 30)
    assert (arena.judge.endpoint.model, arena.judge.endpoint.base_urls) == (
        "own",
        ("http://gpu1:8000/v1",),
    )


@pytest.mark.parametrize(
    ("kind", "text", "old", "new"),
    [
        (
            RunConfig,
            "[client]\ntemperature = 0.8\n",
            "client.temperature",
            "client.sampling.temperature",
        ),
        (
            RunConfig,
            "[counselor]\nmax_tokens = 9\n",
            "counselor.max_tokens",
            "counselor.sampling.max_tokens",
        ),
        (ArenaConfig, "[judge]\nmodel = 'm'\n", "judge.model", "judge.endpoint.model"),
        (ArenaConfig, "judge_attempts = 2\n", "judge_attempts", "judge.attempts"),
        (ArenaConfig, "terminator = 'closing'\n", "terminator", "terminator.mode"),
        (ArenaConfig, "base_url = ['http://h/v1']\n", "base_url", "endpoint.base_urls"),
        (BenchConfig, "temperature = 0.1\n", "temperature", "sampling.temperature"),
    ],
)
def test_a_key_of_an_older_recipe_names_its_new_place(
    tmp_path: Path, kind: type[Any], text: str, old: str, new: str
) -> None:
    recipe = tmp_path / "old.toml"
    recipe.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(new)) as refused:
        build_config(recipe, kind=kind)
    assert (refused.value.file, refused.value.field) == (str(recipe), old)


def test_configurations_built_in_code_are_checked_like_recipes() -> None:
    with pytest.raises(ConfigError, match="at least 1") as refused:
        build_config({"refiner": {"max_attempts": 0}})
    assert refused.value.field == "refiner.max_attempts"
    with pytest.raises(ConfigError, match="at least 1"):
        build_config(None, {"judge.attempts": 0}, kind=ArenaConfig)
    with pytest.raises(ConfigError, match="positive") as bench:
        build_config(None, {"requests": 0}, kind=BenchConfig)
    assert bench.value.field == "requests"
    with pytest.raises(ConfigError, match="unknown key") as train:
        build_config({"learning_rat": 1.0}, kind=TrainConfig)
    assert train.value.field == "learning_rat"


def test_a_flag_error_names_the_flags_that_set_the_field(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["simulate", "--cards", "demo_en", "--out", str(tmp_path / "run"),
         "--client-base-url", "http://127.0.0.1:9/v1"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "'client.endpoint.model'" in result.output
    assert "--client-model or --model" in result.output


def test_help_shows_the_configurations_defaults() -> None:
    simulate = CliRunner().invoke(main, ["simulate", "--help"], terminal_width=200)
    assert "--counselor-temperature" in simulate.output
    assert re.search(r"--max-turns INTEGER\s+Turn cap T\.\s+\[default: 50\]", simulate.output)
    arena = CliRunner().invoke(main, ["arena", "--help"], terminal_width=200)
    assert re.search(r"--max-in-flight INTEGER\s+[^\[]*\[default:\s+64\]", arena.output)
    assert re.search(r"--judge-max-tokens INTEGER RANGE\s+[^\[]*\[default:\s+1024;", arena.output)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("quickstart", RunConfig),
        ("paper_zh", RunConfig),
        ("arena_paper", ArenaConfig),
        ("train_7b_fsdp", TrainConfig),
    ],
)
def test_every_bundled_recipe_builds(name: str, kind: type[Any]) -> None:
    config = build_config(name, kind=kind)
    assert isinstance(config, kind)


def test_a_table_given_in_part_keeps_the_configurations_other_defaults() -> None:
    """--client-temperature alone leaves the client's 256 tokens, not a bare Sampling's 512;
    an arena recipe's [terminator] mode leaves its first_turn of 1."""
    run = build_config(None, {"client.sampling.temperature": 0.9})
    assert (run.client.sampling.temperature, run.client.sampling.max_tokens) == (0.9, 256)
    arena = build_config({"terminator": {"mode": "closing"}}, kind=ArenaConfig)
    assert (arena.terminator.mode, arena.terminator.first_turn) == ("closing", 1)
