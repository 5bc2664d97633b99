"""The ``simulate`` command as users script it: errors, resume after SIGKILL, Ctrl-C."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.testing import FakeServer, ServerOptions

from .support import (
    base_args,
    kill_when_recorded,
    many_cards,
    read_records,
    run_cli,
    start_cli,
    wait_for_records,
)


def test_help_has_examples() -> None:
    result = CliRunner().invoke(main, ["simulate", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "--recipe quickstart" in result.output
    assert "--counselor-base-url" in result.output and "--client-temperature" in result.output


def test_a_bad_card_names_file_record_and_field(server: FakeServer, tmp_path: Path) -> None:
    cards = tmp_path / "cards.jsonl"
    cards.write_text('{"id": "a", "chief_complaint": "ok"}\n{"id": "b", "age": [3]}\n')
    result = CliRunner().invoke(main, base_args(server, tmp_path / "run", cards))
    assert result.exit_code == 2
    assert f"{cards}, record 2, field 'age'" in result.output
    skipped = CliRunner().invoke(
        main, [*base_args(server, tmp_path / "run", cards), "--skip-invalid", "--json"]
    )
    assert skipped.exit_code == 0, skipped.output
    summary = orjson.loads(skipped.stdout.strip().splitlines()[-1])
    assert summary["finished"] == 1 and summary["invalid_cards"] == 1


def test_a_bad_recipe_value_names_the_field(tmp_path: Path) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text('max_turns = "many"\n')
    result = CliRunner().invoke(main, ["simulate", "--recipe", str(recipe)])
    assert result.exit_code == 2 and "field 'max_turns'" in result.output


def test_summary_json_and_records(server: FakeServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*base_args(server, tmp_path), "--json", "--limit", "2"])
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    assert summary["finished"] == 2 and summary["status"] == "complete"
    assert summary["models"] == {"client": "scripted", "counselor": "scripted"}
    assert len(read_records(tmp_path / "dialogues.jsonl")) == 2


def test_secrets_never_reach_the_run_directory(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IA_TEST_KEY", "sk-very-secret-value")
    result = CliRunner().invoke(
        main, [*base_args(server, tmp_path), "--api-key-env", "IA_TEST_KEY"]
    )
    assert result.exit_code == 0, result.output
    assert server.calls[0].body["model"] == "scripted"
    for path in tmp_path.iterdir():
        assert b"sk-very-secret-value" not in path.read_bytes()
    manifest = orjson.loads((tmp_path / "manifest.json").read_bytes())
    assert manifest["config"]["client"]["endpoint"]["api_key_env"] == "IA_TEST_KEY"


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_gives_one_record_per_card(
    server: FakeServer, tmp_path: Path
) -> None:
    server.options = ServerOptions(latency=0.03)
    cards = many_cards(tmp_path, 120)
    out = tmp_path / "run"
    args = [*base_args(server, out, cards), "--max-turns", "4", "--max-in-flight", "10"]
    kill_when_recorded(args, out / "dialogues.jsonl", 15)
    killed_at = len(read_records(out / "dialogues.jsonl"))
    assert killed_at < 120
    # Some dialogues were in flight when it died: more counselor calls were made than the
    # recorded dialogues needed (4 each). Client calls cannot show it: a dialogue's first
    # client call comes only at its second turn.
    assert len(server.calls_of("counselor")) > 4 * killed_at

    resumed = run_cli([*args, "--json"])
    assert resumed.returncode == 0, resumed.stderr
    summary = orjson.loads(resumed.stdout)
    assert summary["already_done"] == killed_at and summary["finished"] == 120 - killed_at
    records = read_records(out / "dialogues.jsonl")
    ids = [record["id"] for record in records]
    assert sorted(ids) == [f"c{i:03d}" for i in range(120)]
    assert all(len(record["turns"]) == 8 for record in records)


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGHUP])
def test_ctrl_c_flushes_and_exits_130_then_resumes(
    server: FakeServer, tmp_path: Path, stop: signal.Signals
) -> None:
    server.options = ServerOptions(latency=0.03)
    cards = many_cards(tmp_path, 80)
    out = tmp_path / "run"
    args = [*base_args(server, out, cards), "--max-in-flight", "5"]
    process = start_cli([*args, "--json"])
    wait_for_records(out / "dialogues.jsonl", 5, process)
    process.send_signal(stop)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 130
    summary = orjson.loads(stdout)
    assert summary["status"] == "interrupted"
    done = read_records(out / "dialogues.jsonl")
    assert summary["finished"] == len(done) < 80
    assert (out / "dialogues.jsonl").read_bytes().endswith(b"\n")
    again = run_cli(args)
    assert again.returncode == 0, again.stderr
    assert sorted(r["id"] for r in read_records(out / "dialogues.jsonl")) == [
        f"c{i:03d}" for i in range(80)
    ]


def test_resume_with_another_configuration_is_refused(server: FakeServer, tmp_path: Path) -> None:
    assert CliRunner().invoke(main, [*base_args(server, tmp_path), "--limit", "1"]).exit_code == 0
    changed = CliRunner().invoke(main, [*base_args(server, tmp_path), "--max-turns", "7"])
    assert changed.exit_code == 2 and "another configuration" in changed.output
    forced = CliRunner().invoke(
        main, [*base_args(server, tmp_path), "--max-turns", "7", "--force", "--limit", "2"]
    )
    assert forced.exit_code == 0


def test_env_is_clean_of_keys() -> None:
    assert "IA_TEST_KEY" not in os.environ
