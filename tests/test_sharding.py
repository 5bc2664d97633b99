"""Runs split over shards (``--workers N``, ``--ray ADDRESS``), through the CLI against the
scripted loopback server: every item recorded once in the run directory, the records of
a run in one process, resume after a kill, a dead shard, the limits split per shard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import EngineError
from interactive_agents.method._cards import load_cards
from interactive_agents.runtime._engine import Engine
from interactive_agents.runtime.shards._partition import Shard, partition, shard_of
from interactive_agents.runtime.shards._processes import ProcessShards
from interactive_agents.runtime.shards._run import ShardedRun
from interactive_agents.testing import FakeServer, ServerOptions

from .support import (
    RESUMABLE,
    base_args,
    config_for,
    dialogue_of,
    kill_when_recorded,
    many_cards,
    prefer_alpha,
    read_records,
    run_arena,
    run_cli,
    scripted,
    start_cli,
    uninterrupted_run,
    wait_for_records,
    without_timings,
)

ROOT = Path(__file__).resolve().parents[1]


def summary_of(result: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr.decode()
    document: dict[str, Any] = orjson.loads(result.stdout)
    return document


def ids(path: Path) -> list[str]:
    return sorted(record["id"] for record in read_records(path))


def card_ids(cards: Path) -> list[str]:
    return sorted(card["id"] for card in read_records(cards))


def shard_records(out: Path) -> set[str]:
    """Ids recorded in any shard directory (merged or not yet)."""
    found: set[str] = set()
    for directory in (out / "shards").glob("*-of-*"):
        found |= {r["id"] for name in ("dialogues.jsonl", "failures.jsonl")
                  for r in read_records(directory / name)}  # fmt: skip
    return found


def test_the_shard_of_an_id_is_stable_and_spread() -> None:
    keys = [f"c{i:03d}" for i in range(400)]
    # blake2b, never the per-process salted hash(): the same shards in another process.
    other = subprocess.run(
        [sys.executable, "-c", "from interactive_agents.runtime.shards._partition import shard_of;"
         "print([shard_of(f'c{i:03d}', 4) for i in range(400)])"],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    assert orjson.loads(other.stdout) == [shard_of(key, 4) for key in keys]
    parts = partition(keys, str, 4)
    assert sorted(k for part in parts for k in part) == keys
    assert all(60 < len(part) < 140 for part in parts)
    assert [Shard(i, 3).share(100) for i in range(3)] == [34, 33, 33]
    assert [Shard(i, 3).share(2) for i in range(3)] == [1, 1, 1]  # never 0 (unlimited)


def test_two_workers_record_each_card_once_as_one_process_does(
    server: FakeServer, tmp_path: Path
) -> None:
    cards = many_cards(tmp_path, 12)
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    assert CliRunner().invoke(main, base_args(server, single, cards)).exit_code == 0
    calls_single = len(server.calls)
    server.calls.clear()

    args = [*base_args(server, sharded, cards), "--rpm", "601", "--concurrency", "9"]
    summary = summary_of(run_cli([*args, "--workers", "2", "--json"]))
    assert len(server.calls) == calls_single
    assert ids(sharded / "dialogues.jsonl") == card_ids(cards)  # each once
    assert without_timings(read_records(sharded / "dialogues.jsonl")) == without_timings(
        read_records(single / "dialogues.jsonl")
    )
    assert summary["finished"] == 12 and summary["calls"] == calls_single

    shards = summary["shards"]
    assert shards["count"] == 2 and shards["executor"] == "processes"
    assert shards["assignment"] == "blake2b-64(id) mod 2"
    per_shard = {entry["shard"]: entry for entry in shards["per_shard"]}
    assert sorted(per_shard) == ["0-of-2", "1-of-2"]
    assert sum(entry["items"] for entry in per_shard.values()) == 12
    for name, entry in per_shard.items():
        limits = entry["endpoints"]["client"]
        assert limits == {"concurrency": 5 if name == "0-of-2" else 4,
                          "rpm": 301 if name == "0-of-2" else 300, "tpm": 0}  # fmt: skip
        assert entry["status"] == "complete"
        # The split configuration is the one each shard ran with.
        manifest = orjson.loads((sharded / "shards" / name / "manifest.json").read_bytes())
        assert manifest["config"]["counselor"]["endpoint"]["rpm"] == limits["rpm"]
        assert manifest["config"]["max_in_flight"] == entry["max_in_flight"] == 500

    manifest = orjson.loads((sharded / "manifest.json").read_bytes())
    reference = orjson.loads((single / "manifest.json").read_bytes())
    assert manifest["fingerprint"] == reference["fingerprint"]
    assert manifest["shards"]["per_shard"][0]["endpoints"] == per_shard["0-of-2"]["endpoints"]
    assert manifest["usage"] == reference["usage"]

    # A run in one process on the merged directory finds every card done.
    server.calls.clear()
    again = CliRunner().invoke(main, [*base_args(server, sharded, cards), "--json"])
    assert again.exit_code == 0, again.output
    assert orjson.loads(again.stdout)["already_done"] == 12 and server.calls == []
    # And a sharded run on a directory made in one process plays nothing either.
    resumed = summary_of(run_cli([*base_args(server, single, cards), "--workers", "3", "--json"]))
    assert resumed["already_done"] == 12 and resumed["finished"] == 0 and server.calls == []


def test_a_merge_torn_by_a_kill_is_cut_and_merged_again_from_the_shard(
    server: FakeServer, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    command = [*base_args(server, out), "--workers", "2", "--json"]
    summary_of(run_cli(command))
    merged = out / "dialogues.jsonl"
    expected = read_records(merged)
    data = merged.read_bytes()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    merged.write_bytes(data[: last + 40])  # the parent died writing the last record
    server.calls.clear()

    again = summary_of(run_cli(command))
    assert server.calls == [] and again["finished"] == 0
    assert again["already_done"] == len(expected)  # the cut record came from its shard
    assert read_records(merged) == [*expected[:-1], expected[-1]]
    (quarantined,) = read_records(out / "quarantine.jsonl")
    assert quarantined["file"] == "dialogues.jsonl"


@pytest.mark.slow
def test_sigkill_of_the_process_group_then_resume_redoes_no_finished_turn(
    server: FakeServer, tmp_path: Path
) -> None:
    count, out = 100, tmp_path / "run"
    cards, needed, expected = uninterrupted_run(server, tmp_path, count)
    command = [*base_args(server, out, cards), *RESUMABLE, "--workers", "2"]
    # The parent and its shards at once, as a crash of the machine would.
    kill_when_recorded(command, out / "dialogues.jsonl", count // 3, group=True, timeout=120)
    recorded = {r["id"] for r in read_records(out / "dialogues.jsonl")} | shard_records(out)
    assert len(recorded) < count
    in_flight = {dialogue_of(call) for call in server.calls} - recorded
    assert in_flight  # the kill caught dialogues half-way
    assert any((out / "shards" / s / "journal.jsonl").exists() for s in ("0-of-2", "1-of-2"))

    summary = summary_of(run_cli([*command, "--json"]))
    assert ids(out / "dialogues.jsonl") == card_ids(cards)  # exactly once
    assert without_timings(read_records(out / "dialogues.jsonl")) == without_timings(expected)
    # Nothing finished was redone: at most the call each dialogue in flight was making.
    redone = len(server.calls) - needed
    assert 0 <= redone <= len(in_flight)
    assert summary["already_done"] == len(recorded)  # the unmerged ones included


@pytest.mark.slow
def test_a_shard_that_dies_fails_the_run_keeping_the_others_records(
    server: FakeServer, tmp_path: Path
) -> None:
    server.options = ServerOptions(latency=0.03)
    cards = many_cards(tmp_path, 60)
    out = tmp_path / "run"
    command = [*base_args(server, out, cards), "--max-turns", "4", "--max-in-flight", "6",
               "--workers", "2"]  # fmt: skip
    process = start_cli(command)
    victim = _shard_process(process.pid, out / "shards" / "0-of-2" / "dialogues.jsonl")
    os.kill(victim, signal.SIGKILL)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 75, stderr.decode()
    assert "shard 0-of-2" in stderr.decode()  # the dead shard is named
    merged = ids(out / "dialogues.jsonl")
    others = [card for card in card_ids(cards) if shard_of(card, 2) == 1]
    assert set(others) <= set(merged)  # the other shard finished, all of it merged
    assert len(merged) < 60

    again = summary_of(run_cli([*command, "--json"]))
    assert again["already_done"] == len(merged)
    assert ids(out / "dialogues.jsonl") == card_ids(cards)


@pytest.mark.slow
def test_sigterm_stops_every_shard_merges_and_exits_130_then_resumes(
    server: FakeServer, tmp_path: Path
) -> None:
    server.options = ServerOptions(latency=0.03)
    cards = many_cards(tmp_path, 60)
    out = tmp_path / "run"
    command = [*base_args(server, out, cards), "--max-in-flight", "4", "--workers", "2"]
    process = start_cli([*command, "--json"])
    wait_for_records(out / "dialogues.jsonl", 5, process)
    process.send_signal(signal.SIGTERM)  # the parent only: it stops its shards
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr.decode()
    summary = orjson.loads(stdout)
    assert summary["status"] == "interrupted"
    assert {entry["status"] for entry in summary["shards"]["per_shard"]} == {"interrupted"}
    merged = ids(out / "dialogues.jsonl")
    assert summary["finished"] == len(merged) < 60
    assert shard_records(out) == set(merged)  # every record a shard finished is merged

    again = summary_of(run_cli([*command, "--json"]))
    assert again["already_done"] == len(merged) and again["finished"] == 60 - len(merged)
    assert ids(out / "dialogues.jsonl") == card_ids(cards)


def _shard_process(parent: int, records: Path) -> int:
    """The pid of the shard process writing ``records``, once it has written one."""
    deadline = time.monotonic() + 60
    while not read_records(records):
        assert time.monotonic() < deadline, "the shard made no progress"
        time.sleep(0.02)
    shard_name = records.parent.name
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
            child = int(stat.rsplit(")", 1)[1].split()[1]) == parent
        except (OSError, ValueError):
            continue
        is_shard = b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline
        if child and is_shard and _writes(int(entry.name), shard_name):
            return int(entry.name)
    raise AssertionError(f"no process of shard {shard_name}")


def _writes(pid: int, shard_name: str) -> bool:
    """Whether the process holds a file of the shard directory open."""
    try:
        return any(shard_name in os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def test_ray_local_cluster_records_each_card_once(server: FakeServer, tmp_path: Path) -> None:
    cards = many_cards(tmp_path, 8)
    single, sharded = tmp_path / "single", tmp_path / "ray"
    assert CliRunner().invoke(main, base_args(server, single, cards)).exit_code == 0
    server.calls.clear()
    summary = summary_of(
        run_cli([*base_args(server, sharded, cards), "--ray", "local", "--workers", "2", "--json"])
    )
    assert summary["shards"]["executor"] == "ray" and summary["shards"]["address"] == "local"
    assert {entry["status"] for entry in summary["shards"]["per_shard"]} == {"complete"}
    assert ids(sharded / "dialogues.jsonl") == card_ids(cards)
    assert without_timings(read_records(sharded / "dialogues.jsonl")) == without_timings(
        read_records(single / "dialogues.jsonl")
    )
    assert summary["finished"] == 8 and summary["calls"] == len(server.calls)


@pytest.mark.parametrize(
    "shards", [["--workers", "2"], ["--ray", "local", "--workers", "2"]], ids=["processes", "ray"]
)
def test_arena_on_two_shards_merges_dialogues_with_their_battles(
    tmp_path: Path, shards: list[str]
) -> None:
    server = FakeServer(script=scripted(prefer_alpha))
    server.start()
    try:
        single = run_arena(server, tmp_path / "single", "--limit", "6")
        assert single.exit_code == 0, single.output
        bots = tmp_path / "single" / "bots.toml"
        out = tmp_path / "sharded"
        args = ["arena", "--bots", str(bots), "--cards", str(ROOT / "runners/cards/demo_en.jsonl"),
                "--out", str(out), "--client-base-url", server.base_url,
                "--client-model", "client", "--judge-base-url", server.base_url,
                "--judge-model", "judge", "--language", "en", "--max-turns", "3",
                "--limit", "6", "--timeout", "5", "--quiet", "--json", *shards]  # fmt: skip
        summary = summary_of(run_cli(args))
    finally:
        server.stop()
    assert summary["shards"]["count"] == 2
    assert summary["shards"]["executor"] == ("ray" if "--ray" in shards else "processes")
    endpoints = summary["shards"]["per_shard"][0]["endpoints"]
    assert set(endpoints) == {"client", "judge", "alpha", "beta"}
    reference = tmp_path / "single" / "run"
    assert ids(out / "dialogues.jsonl") == ids(reference / "dialogues.jsonl")
    assert len(ids(out / "dialogues.jsonl")) == 6
    assert without_timings(read_records(out / "dialogues.jsonl")) == without_timings(
        read_records(reference / "dialogues.jsonl")
    )

    def battles(run: Path) -> list[bytes]:
        lines = read_records(run / "battles.jsonl")
        return sorted(orjson.dumps({**line, "timestamp": None}) for line in lines)

    assert battles(out) == battles(reference)  # each battle once, with its dialogue


def test_bad_shard_options_exit_2_naming_them(server: FakeServer, tmp_path: Path) -> None:
    zero = CliRunner().invoke(main, [*base_args(server, tmp_path / "run"), "--workers", "0"])
    assert zero.exit_code == 2 and "--workers" in zero.output

    # A Python without Ray: a package of that name that cannot be imported comes first.
    hidden = tmp_path / "no_ray" / "ray"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'ray\'", name="ray")\n'
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hidden.parent), str(ROOT)])}
    result = run_cli([*base_args(server, tmp_path / "run"), "--ray", "local"], env=env)
    assert result.returncode == 2, result.stderr.decode()
    assert "pip install 'interactive-agents[ray]'" in result.stderr.decode()
    assert "--ray" in result.stderr.decode()
    assert not (tmp_path / "run").exists()  # nothing was written


def test_a_library_runner_with_its_own_backends_cannot_be_sharded() -> None:
    from interactive_agents.llm._endpoint import ChatEndpoint

    config = config_for("http://127.0.0.1:9/v1")
    backend = ChatEndpoint(config.client.endpoint)
    engine = Engine(config, backends={"client": backend, "counselor": backend})
    with pytest.raises(EngineError, match="cannot be split into shards"):
        engine.spec()


@pytest.mark.anyio
async def test_the_library_splits_an_engine_over_processes(
    server: FakeServer, tmp_path: Path
) -> None:
    cards = load_cards(ROOT / "runners" / "cards" / "demo_en.jsonl").cards
    executor = ProcessShards()
    try:
        async with Engine(config_for(server.base_url), run_dir=tmp_path) as engine:
            sharded = ShardedRun(engine, executor, 2)
            merged = [record["id"] async for record in sharded.run(cards)]
    finally:
        executor.close()
    assert sorted(merged) == sorted(card.id for card in cards) == ids(tmp_path / "dialogues.jsonl")
    assert sharded.stats.finished == len(cards) and sharded.stats.calls == len(server.calls)
    assert {report.status for report in sharded.reports.values()} == {"complete"}


@pytest.mark.e2e
def test_shards_share_the_one_embedded_server_the_parent_starts(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_cli(["simulate", "--recipe", "quickstart", "--max-turns", "1", "--out", str(out),
                  "--client-max-tokens", "16", "--counselor-max-tokens", "16",
                  "--workers", "2", "--quiet", "--json"])  # fmt: skip
    summary = summary_of(result)
    assert summary["finished"] == 3 and summary["local_server"]
    started = [entry for entry in summary["shards"]["per_shard"] if entry["items"]]
    assert len(started) == 2  # the quickstart's three cards fall in both shards
    for entry in started:
        manifest = orjson.loads((out / "shards" / entry["shard"] / "manifest.json").read_bytes())
        for role in ("client", "counselor"):
            # A URL, the parent's: the shard had no endpoint of its own to start a server for.
            assert manifest["config"][role]["endpoint"]["base_urls"] == [summary["local_server"]]
