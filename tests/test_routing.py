"""Replica routing: streams stay on their replica, loads stay bounded, health is honoured."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from interactive_agents.llm._endpoint import ChatEndpoint
from interactive_agents.llm._routing import (
    FewestInFlight,
    ReplicaLoad,
    SessionAffinity,
    routing_policy,
)
from interactive_agents.method._cards import RoleCard
from interactive_agents.method._config import build_config
from interactive_agents.runtime._engine import Engine, RoleName
from interactive_agents.testing import FakeServer, ServerOptions

from .support import refused_simulate


def test_a_stream_stays_on_its_replica_while_loads_are_even() -> None:
    policy = SessionAffinity(4)
    loads = [ReplicaLoad() for _ in range(4)]
    for stream in (f"dialogue-{i}/counselor" for i in range(50)):
        first = policy.choose(stream, loads)
        assert all(policy.choose(stream, loads) == first for _ in range(5))
    assert policy.live_streams == 50


def test_a_new_stream_goes_to_its_hash_home_unless_that_is_at_the_bound() -> None:
    policy = SessionAffinity(4, epsilon=0.1)
    loads = [ReplicaLoad() for _ in range(4)]
    passed_over = 0
    for stream in (f"dialogue-{i}/client" for i in range(200)):
        home = policy.home(stream)
        has_room = policy.streams_on(home) < policy.bound()
        assert (policy.choose(stream, loads) == home) == has_room
        passed_over += not has_room
    assert 0 < passed_over < 100  # the bound acted, and most streams still went home


def test_streams_spread_over_every_replica() -> None:
    policy = SessionAffinity(4)
    homes = [policy.home(f"dialogue-{i}/client") for i in range(400)]
    counts = [homes.count(index) for index in range(4)]
    assert min(counts) > 0.5 * 100 and max(counts) < 1.5 * 100


def test_a_stream_keeps_its_replica_when_that_is_merely_busier() -> None:
    """In-flight load far above the mean, but healthy and below capacity: nothing moves
    (under the old per-call bound every one of these calls would have left its replica)."""
    policy = SessionAffinity(4, epsilon=0.1, capacity=32)
    loads = [ReplicaLoad() for _ in range(4)]
    streams = [f"dialogue-{i}/counselor" for i in range(80)]
    assigned = {stream: policy.choose(stream, loads) for stream in streams}
    rng = random.Random(1)
    for _ in range(500):
        for load in loads:
            load.in_flight = rng.choice([0, 0, 1, 31])  # bursts up to one below capacity
        stream = rng.choice(streams)
        assert policy.choose(stream, loads) == assigned[stream]


@pytest.mark.parametrize("epsilon", [0.1, 0.25, 1.0])
def test_no_replica_is_given_streams_beyond_the_bound(epsilon: float) -> None:
    """Streams come and go (dialogues start and end): each assignment lands on a replica
    holding at most ceil((1 + e) x the mean) live streams, the new one counted."""
    policy = SessionAffinity(8, epsilon)
    loads = [ReplicaLoad() for _ in range(8)]
    rng = random.Random(0)
    live: list[str] = []
    for step in range(3000):
        if live and rng.random() < 0.45:
            policy.release(live.pop(rng.randrange(len(live))))
            continue
        stream = f"dialogue-{step}/counselor"
        index = policy.choose(stream, loads)
        live.append(stream)
        mean = len(live) / 8
        assert policy.streams_on(index) <= math.ceil((1 + epsilon) * mean)
    assert sum(policy.streams_on(i) for i in range(8)) == policy.live_streams == len(live)


def test_a_full_or_unhealthy_replica_is_passed_over_and_the_stream_returns() -> None:
    policy = SessionAffinity(3, capacity=2)
    stream = "dialogue-7/counselor"
    loads = [ReplicaLoad() for _ in range(3)]
    home = policy.choose(stream, loads)
    loads[home].healthy = False
    moved = policy.choose(stream, loads)
    assert moved != home
    assert policy.choose(stream, loads) == moved  # the same detour each time: its cache stays
    loads[home].healthy = True
    assert policy.choose(stream, loads) == home
    loads[home].in_flight = 2  # full: as many in flight as it serves at once
    assert policy.choose(stream, loads) != home
    loads[home].in_flight = 1
    assert policy.choose(stream, loads) == home
    assert policy.streams_on(home) == policy.live_streams == 1  # the assignment never moved


def test_released_streams_leave_the_table() -> None:
    """10,000 dialogues, at most 64 at a time: the table holds the live streams only."""
    policy = SessionAffinity(4)
    loads = [ReplicaLoad() for _ in range(4)]
    live: list[str] = []
    for dialogue in range(10_000):
        for role in ("client", "counselor"):
            live.append(f"d{dialogue}/{role}")
            policy.choose(live[-1], loads)
        if len(live) > 128:
            for stream in live[:2]:
                policy.release(stream)
            del live[:2]
        assert policy.live_streams <= 128
    for stream in live:
        policy.release(stream)
    assert policy.live_streams == 0
    assert [policy.streams_on(i) for i in range(4)] == [0, 0, 0, 0]


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


def test_the_replica_capacity_flag_reaches_the_configuration(tmp_path: Path) -> None:
    """``--replica-capacity`` is an endpoint field: a negative one is refused with exit 2,
    naming the field, before anything is written."""
    output = refused_simulate(tmp_path, "--replica-capacity", "-1")
    assert "replica_capacity" in output and "negative" in output
    config = build_config(None, {"endpoint.base_urls": ["http://h/v1"], "endpoint.model": "m",
                                 "endpoint.replica_capacity": 4})  # fmt: skip
    endpoint = ChatEndpoint(config.counselor.endpoint)
    assert isinstance(endpoint.routing, SessionAffinity) and endpoint.routing.capacity == 4


@pytest.mark.anyio
async def test_the_engine_keeps_each_dialogue_role_on_one_replica(tmp_path: Path) -> None:
    """Two real replicas on loopback; with the cache hint on, every request names its
    stream, each stream's requests all reached the same replica, and every stream was
    released when its dialogue ended."""
    servers = [FakeServer(), FakeServer()]
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
            },
        )
        endpoint = ChatEndpoint(config.client.endpoint)
        cards = [RoleCard(id=f"c{i}", chief_complaint="I cannot sleep.") for i in range(8)]
        backends: dict[RoleName, ChatEndpoint] = {"client": endpoint, "counselor": endpoint}
        async with Engine(config, run_dir=tmp_path, backends=backends) as engine:
            records = [result async for result in engine.run(cards)]
        assert len(records) == 8
        assert isinstance(endpoint.routing, SessionAffinity)
        assert endpoint.routing.live_streams == 0
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
    """Two replicas with a prefix cache of 4-token blocks, answering at once with filler."""
    options = ServerOptions(output_tokens=(24, 24), block_tokens=4, cache_blocks=4096)
    with FakeServer(None, options) as first, FakeServer(None, options) as second:
        yield [first.base_url, second.base_url]


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
