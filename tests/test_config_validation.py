"""Configuration is checked when it is built: URLs, key variables, unknown keys, bad files.

Every refusal is a ConfigError naming the recipe and the dotted field, and through the
CLI it is one line and exit code 2, with nothing written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import ConfigError
from interactive_agents.judging._judgements import judge_endpoint
from interactive_agents.llm._endpoint_config import EndpointConfig, check_url
from interactive_agents.method._config import build_config

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
