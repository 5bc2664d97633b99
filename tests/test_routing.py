"""Replica routing: streams stay on their replica, loads stay bounded, health is honoured."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from interactive_agents.llm.routing import (
    FewestInFlight,
    ReplicaLoad,
    SessionAffinity,
    routing_policy,
)
from interactive_agents.method.cards import RoleCard
from interactive_agents.method.config import build_config
from interactive_agents.runtime.engine import Engine

from .scripted_server import ScriptedServer

ROOT = Path(__file__).resolve().parents[1]


def test_a_stream_stays_on_its_replica_while_loads_are_even() -> None:
    policy = SessionAffinity(4)
    loads = [ReplicaLoad() for _ in range(4)]
    for stream in (f"dialogue-{i}/counselor" for i in range(50)):
        first = policy.choose(stream, loads)
        assert all(policy.choose(stream, loads) == first for _ in range(5))
        assert first == policy.home(stream)


def test_streams_spread_over_every_replica() -> None:
    policy = SessionAffinity(4)
    homes = [policy.home(f"dialogue-{i}/client") for i in range(400)]
    counts = [homes.count(index) for index in range(4)]
    assert min(counts) > 0.5 * 100 and max(counts) < 1.5 * 100


@pytest.mark.parametrize("epsilon", [0.1, 0.25, 1.0])
def test_no_replica_exceeds_the_load_bound(epsilon: float) -> None:
    """Place 1,000 concurrent calls one by one: every placement respects ceil((1+e)·mean)."""
    policy = SessionAffinity(8, epsilon)
    loads = [ReplicaLoad() for _ in range(8)]
    rng = random.Random(0)
    for call in range(1000):
        stream = f"dialogue-{rng.randrange(300)}/counselor"
        index = policy.choose(stream, loads)
        loads[index].in_flight += 1
        placed = call + 1
        assert loads[index].in_flight <= math.ceil((1 + epsilon) * placed / 8)


def test_a_full_or_unhealthy_replica_is_passed_over_and_the_stream_returns() -> None:
    policy = SessionAffinity(3)
    stream = "dialogue-7/counselor"
    loads = [ReplicaLoad() for _ in range(3)]
    home = policy.choose(stream, loads)
    loads[home].healthy = False
    moved = policy.choose(stream, loads)
    assert moved != home
    loads[home].healthy = True
    assert policy.choose(stream, loads) == home
    loads[home].in_flight = 10  # far above (1 + e) x the mean
    assert policy.choose(stream, loads) != home


def test_adding_a_replica_moves_few_streams() -> None:
    streams = [f"dialogue-{i}/client" for i in range(2000)]
    before = SessionAffinity(4)
    after = SessionAffinity(5)
    moved = sum(before.home(s) != after.home(s) for s in streams) / len(streams)
    assert moved < 0.35  # about 1/5 expected; a modulo hash would move 4/5


def test_fewest_in_flight_ignores_streams_and_skips_the_unhealthy() -> None:
    policy = FewestInFlight()
    loads = [ReplicaLoad(3), ReplicaLoad(1), ReplicaLoad(0, healthy=False)]
    assert policy.choose("any", loads) == 1
    assert isinstance(routing_policy("fewest", 3), FewestInFlight)
    assert isinstance(routing_policy("affinity", 3), SessionAffinity)


@pytest.mark.anyio
async def test_the_engine_keeps_each_dialogue_role_on_one_replica(tmp_path: Path) -> None:
    """Two real replicas on loopback; with the cache hint on, every request names its
    stream, and each stream's requests all reached the same replica (the load bound is
    set loose: at 8 dialogues a tight one would rightly move streams off a busy replica)."""
    servers = [ScriptedServer(), ScriptedServer()]
    for server in servers:
        server.start()
    try:
        config = build_config(
            None,
            {
                "language": "en",
                "max_turns": 4,
                "endpoint.base_urls": [s.base_url for s in servers],
                "endpoint.model": "scripted",
                "endpoint.cache_hint": True,
                "endpoint.routing_epsilon": 4.0,
            },
        )
        cards = [RoleCard(id=f"c{i}", chief_complaint="I cannot sleep.") for i in range(8)]
        async with Engine(config, run_dir=tmp_path) as engine:
            records = [result async for result in engine.run(cards)]
        assert len(records) == 8
        homes: dict[str, set[int]] = {}
        for index, server in enumerate(servers):
            for call in server.calls:
                homes.setdefault(call.body["prompt_cache_key"], set()).add(index)
        assert set(homes) == {f"c{i}/{role}" for i in range(8) for role in ("client", "counselor")}
        assert all(len(replicas) == 1 for replicas in homes.values())
        assert {next(iter(r)) for r in homes.values()} == {0, 1}  # both replicas served
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def prefix_cache_replicas() -> Iterator[list[str]]:
    """Two replicas of ``benchmarks/prefix_cache_server.py`` (4-token blocks, no delay)."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "prefix_cache_server.py"), "--replicas", "2",
         "--decode-per-token", "0", "--prefill-per-token", "0", "--block-tokens", "4"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = process.stdout.readline().split()
        assert ready and ready[0] == "READY"
        yield ready[1:]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.anyio
async def test_cached_tokens_are_counted_per_call_dialogue_and_run(
    tmp_path: Path, prefix_cache_replicas: list[str]
) -> None:
    """Replicas that model a prefix cache report ``cached_tokens``; records and counters
    add them up exactly, and with affinity most of a dialogue's prompt comes from cache."""
    config = build_config(
        None,
        {
            "language": "en",
            "max_turns": 5,
            "terminator.mode": "closing",
            "endpoint.base_urls": prefix_cache_replicas,
            "endpoint.model": "prefix-mock",
            "endpoint.routing_epsilon": 4.0,
        },
    )
    cards = [RoleCard(id=f"c{i}", chief_complaint="I cannot sleep.") for i in range(4)]
    async with Engine(config, run_dir=tmp_path) as engine:
        records = [result async for result in engine.run(cards)]
    async with httpx.AsyncClient() as client:
        served = [
            (await client.get(url.removesuffix("/v1") + "/stats")).json()["cached_tokens"]
            for url in prefix_cache_replicas
        ]
    assert len(records) == 4
    per_dialogue = [record.usage.cached_tokens for record in records]
    assert sum(per_dialogue) == engine.stats.cached_tokens == sum(served) > 0
    prompt = sum(record.usage.prompt_tokens for record in records)
    assert engine.stats.cached_tokens / prompt > 0.5
    lines = (tmp_path / "dialogues.jsonl").read_bytes().splitlines()
    assert all(b'"cached_tokens":' in line for line in lines)
    manifest = orjson.loads((tmp_path / "manifest.json").read_bytes())
    assert manifest["usage"]["cached_tokens"] == engine.stats.cached_tokens
    assert manifest["usage"]["prompt_tokens"] == prompt
    assert manifest["usage"]["cached_share"] == round(engine.stats.cached_tokens / prompt, 4)

    # A resumed run with more cards: the manifest sums the records of both runs.
    more = [*cards, RoleCard(id="c4", chief_complaint="I cannot sleep.")]
    async with Engine(config, run_dir=tmp_path) as engine:
        added = [result async for result in engine.run(more)]
    assert len(added) == 1
    resumed = orjson.loads((tmp_path / "manifest.json").read_bytes())["usage"]
    assert resumed["calls"] == sum(r.usage.calls for r in [*records, *added])
    assert resumed["cached_tokens"] == sum(per_dialogue) + added[0].usage.cached_tokens
