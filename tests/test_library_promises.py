"""What the library promises an embedding service, through the public API only."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import ConfigError, EngineError
from interactive_agents.method._cards import load_cards
from interactive_agents.runtime._engine import Engine
from interactive_agents.runtime._runner import RunnerState
from interactive_agents.testing import FakeServer

from .support import config_for, read_records

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "runners" / "cards" / "demo_en.jsonl"
DEMO = load_cards(CARDS).cards


class Stop(Exception):
    """The caller's own error, raised from inside the loop."""


def ids(path: Path) -> list[str]:
    return [record["id"] for record in read_records(path / "dialogues.jsonl")]


async def test_break_out_of_run_keeps_the_records_and_a_rerun_does_the_rest(
    server: FakeServer, tmp_path: Path
) -> None:
    config = config_for(server.base_url, max_in_flight=2)
    async with Engine(config, run_dir=tmp_path) as engine:
        async for result in engine.run(DEMO):
            first = result
            break
    written = ids(tmp_path)
    assert first.id in written and len(written) == len(set(written))
    assert engine.stats.in_flight == 0
    async with Engine(config, run_dir=tmp_path) as engine:
        rest = [r.id async for r in engine.run(DEMO)]
    assert sorted(written + rest) == sorted(card.id for card in DEMO)
    assert sorted(ids(tmp_path)) == sorted(card.id for card in DEMO)


async def test_an_error_in_the_loop_comes_out_unchanged_and_records_stay(
    server: FakeServer, tmp_path: Path
) -> None:
    engine = Engine(config_for(server.base_url, max_in_flight=2), run_dir=tmp_path)

    async def play() -> None:
        async with engine, engine.results(DEMO) as stream:
            async for _ in stream:
                raise Stop

    with pytest.raises(Stop):  # not an ExceptionGroup
        await play()
    assert len(ids(tmp_path)) >= 1
    assert engine.stats.in_flight == 0 and engine.state is RunnerState.CLOSED


async def test_cancelling_the_caller_exits_cleanly(server: FakeServer, tmp_path: Path) -> None:
    async with Engine(config_for(server.base_url, max_in_flight=2), run_dir=tmp_path) as engine:
        with anyio.CancelScope() as scope:
            async for _ in engine.run(DEMO):
                scope.cancel()
    assert scope.cancelled_caught
    assert len(ids(tmp_path)) >= 1 and engine.stats.in_flight == 0


async def test_submit_never_writes_a_second_record(server: FakeServer, tmp_path: Path) -> None:
    config = config_for(server.base_url)
    async with Engine(config, run_dir=tmp_path) as engine:
        first = await engine.submit(DEMO[0])
        again = await engine.submit(DEMO[0])  # in flight: the same handle
        assert again is first
        record = await first.result()
        assert await (await engine.submit(DEMO[0])).result() is record  # played: the same
    async with Engine(config, run_dir=tmp_path) as engine:
        assert engine.is_done(DEMO[0].id)
        with pytest.raises(EngineError, match="already recorded"):
            await engine.submit(DEMO[0])
        assert [r async for r in engine.run(DEMO[:1])] == []
    assert ids(tmp_path) == [DEMO[0].id]


async def test_an_engine_is_not_silently_reused(server: FakeServer) -> None:
    engine = Engine(config_for(server.base_url))
    assert engine.state is RunnerState.UNOPENED
    with pytest.raises(EngineError, match="not running"):
        await engine.submit(DEMO[0])
    async with engine as entered:
        assert entered.state.name == "OPENED"
    assert entered.state.name == "CLOSED"
    with pytest.raises(EngineError, match="already used"):
        async with engine:
            pass
    with pytest.raises(EngineError, match="not running"):
        _ = [r async for r in engine.run(DEMO[:1])]


async def test_a_configuration_error_writes_nothing(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IA_UNSET_KEY", raising=False)
    config = config_for(server.base_url, **{"endpoint.api_key_env": "IA_UNSET_KEY"})
    with pytest.raises(ConfigError, match="IA_UNSET_KEY"):
        async with Engine(config, run_dir=tmp_path / "run"):
            pass
    assert not (tmp_path / "run" / "manifest.json").exists()


def test_the_cli_reports_a_configuration_error_before_writing(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IA_UNSET_KEY", raising=False)
    out = tmp_path / "run"
    args = ["--base-url", server.base_url, "--model", "m", "--api-key-env", "IA_UNSET_KEY"]
    result = CliRunner().invoke(main, ["simulate", "--cards", str(CARDS), "--out", str(out), *args])
    assert result.exit_code == 2 and "IA_UNSET_KEY" in result.output
    assert not (out / "manifest.json").exists()


async def test_the_library_leaves_process_wide_state_alone(server: FakeServer) -> None:
    thresholds, policy = gc.get_threshold(), asyncio.get_event_loop_policy()
    async with Engine(config_for(server.base_url)) as engine:
        _ = [r async for r in engine.run(DEMO[:1])]
    assert gc.get_threshold() == thresholds
    assert asyncio.get_event_loop_policy() is policy


@pytest.mark.parametrize("command", ["simulate", "arena"])
def test_commands_touch_the_collector_only_after_validating(tmp_path: Path, command: str) -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults (an earlier command may have tuned)
    try:
        result = CliRunner().invoke(main, [command, "--cards", str(tmp_path / "missing.jsonl")])
        assert result.exit_code == 2
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


@pytest.mark.parametrize(
    ("command", "flags", "names"),
    [
        ("simulate", ["--base-url", "ftp://x/v1", "--model", "m"], "ftp://x/v1"),
        ("simulate", ["--base-url", "http://127.0.0.1:9/v1"], "endpoint.model"),
        ("simulate", ["--max-turns", "0"], "max_turns"),
        ("arena", ["--client-base-url", "ftp://x/v1", "--model", "m"], "--client-base-url"),
        ("arena", ["--max-turns", "0"], "--max-turns"),
    ],
)
def test_bad_configuration_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, command: str, flags: list[str], names: str
) -> None:
    bots = tmp_path / "bots.toml"
    bots.write_text(
        '[bots.a]\nbase_urls = ["http://127.0.0.1:9/v1"]\nmodel = "a"\n'
        '[bots.b]\nbase_urls = ["http://127.0.0.1:9/v1"]\nmodel = "b"\n',
        encoding="utf-8",
    )
    out = tmp_path / "run"
    args = [command, "--cards", str(CARDS), "--out", str(out), *flags]
    if command == "arena":
        args += ["--bots", str(bots)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and names in line
    assert not out.exists()
