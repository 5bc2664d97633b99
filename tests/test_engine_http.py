"""Algorithm 1 over real HTTP against the scripted loopback server."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from anyio import wait_all_tasks_blocked

from interactive_agents.errors import RunDirectoryError, SessionCancelledError
from interactive_agents.method._cards import RoleCard, load_cards
from interactive_agents.method._records import DialogueRecord, FailureRecord
from interactive_agents.runtime._engine import Engine
from interactive_agents.testing import Call, FakeServer, Fault, ServerOptions

from .support import VirtualTime, config_for, read_records

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
DEMO = load_cards(ROOT / "runners" / "cards" / "demo_en.jsonl").cards


async def collect(engine: Engine, cards: list[RoleCard]) -> list[DialogueRecord | FailureRecord]:
    return [result async for result in engine.run(cards)]


async def test_a_session_follows_algorithm_1(server: FakeServer, tmp_path: Path) -> None:
    async with Engine(config_for(server.base_url, max_turns=5), run_dir=tmp_path) as engine:
        (record,) = await collect(engine, DEMO[:1])
    assert isinstance(record, DialogueRecord)
    assert [t.role for t in record.turns] == ["client", "counselor"] * 5
    assert record.turns[0].content == "Hello"
    stages = [t.stage for t in record.turns if t.role == "counselor"]
    assert stages == ["early", "early", "middle", "middle", "late"]  # 0.3 and 0.8 of T
    assert record.termination.reason == "max_turns"
    assert record.usage.calls == 9 and record.usage.prompt_tokens > 0
    # Each role sees the history from its own side, under its own system prompt.
    client_calls = server.calls_of("client")
    counselor_calls = server.calls_of("counselor")
    assert len(client_calls) == 4 and len(counselor_calls) == 5
    assert DEMO[0].chief_complaint in client_calls[0].system
    assert [m["role"] for m in client_calls[1].messages] == [
        "system",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert counselor_calls[4].messages[1] == {"role": "user", "content": "Hello"}
    assert counselor_calls[4].messages[-1]["role"] == "system"  # the stage cue
    assert "late stage" in counselor_calls[4].messages[-1]["content"]
    seeds = [call.body["seed"] for call in server.calls]
    assert len(set(seeds)) == len(seeds)
    stored = read_records(tmp_path / "dialogues.jsonl")
    assert stored[0]["turns"][1]["stage"] == "early" and stored[0]["id"] == DEMO[0].id
    assert set(stored[0]) >= {
        "id",
        "card_id",
        "card",
        "turns",
        "termination",
        "usage",
        "models",
        "seed",
        "timings",
    }


@pytest.mark.parametrize(
    ("replies", "phrase"),
    [
        ({2: "We covered a lot today. Take care of yourself."}, "Take care"),
        # qwen2.5-coder-1.5b-instruct's closing (tests/fixtures/quality_labels, round 3):
        # an answer to a thanks; the same answer going on with a question ends nothing.
        (
            {
                2: "You're welcome! Let's look at your week. What was hardest?",
                3: "You're welcome! If you have any other questions, feel free to ask.",
            },
            "You're welcome",
        ),
    ],
)
async def test_a_closing_reply_ends_the_session(
    server: FakeServer, replies: dict[int, str], phrase: str
) -> None:
    def script(call: Call) -> str:
        if call.role == "counselor" and call.turn in replies:
            return replies[call.turn]
        return f"Tell me more, {call.turn}." if call.role == "counselor" else "Thank you."

    server.script = script
    async with Engine(config_for(server.base_url, max_turns=10)) as engine:
        (record,) = await collect(engine, DEMO[:1])
    assert record.termination.reason == "phrase" and record.termination.phrase == phrase
    assert len(record.turns) == 2 * max(replies)


async def test_refiner_rejects_and_regenerates(server: FakeServer) -> None:
    counselor_calls = 0

    def script(call: Call) -> str:
        nonlocal counselor_calls
        if call.role == "client":
            return "I see."
        counselor_calls += 1
        if counselor_calls == 1:
            return "Here are steps:\n1. Breathe.\n2. Walk."
        if counselor_calls == 2:
            return "First: 1. breathe 2. walk"
        return "What feels hardest right now?"

    server.script = script
    async with Engine(config_for(server.base_url, max_turns=2)) as engine:
        (record,) = await collect(engine, DEMO[:1])
    assert isinstance(record, DialogueRecord)
    first = record.turns[1]
    assert first.content == "What feels hardest right now?" and not first.refiner_gave_up
    assert [r.reason for r in first.rejected] == [
        "contains a line break",
        "enumerates items (numbered items)",
    ]
    assert record.refiner["rejections"] == 2 and engine.stats.rejections == 2
    assert counselor_calls == 4  # three for turn 1, one for turn 2


@pytest.mark.parametrize("policy", ["repair", "accept_last", "fail"])
async def test_policy_when_every_candidate_is_rejected(server: FakeServer, policy: str) -> None:
    server.script = lambda call: "I hear you.\nTell me more." if call.role == "counselor" else "Ok."
    config = config_for(server.base_url, max_turns=1, **{"refiner.on_exhausted": policy})
    async with Engine(config) as engine:
        (record,) = await collect(engine, DEMO[:1])
    if policy == "fail":
        assert isinstance(record, FailureRecord)
        assert (
            record.error.type == "SessionError" and "rejected 3 candidates" in record.error.message
        )
        assert record.termination.reason == "error" and record.turns[0].content == "Hello"
        return
    assert isinstance(record, DialogueRecord)
    reply = record.turns[1]
    assert reply.refiner_gave_up and len(reply.rejected) == 3
    expected = "I hear you. Tell me more." if policy == "repair" else "I hear you.\nTell me more."
    assert reply.content == expected
    assert record.refiner["gave_up_turns"] == [1]


async def test_429_500_and_timeouts_are_retried(server: FakeServer) -> None:
    server.fail_next(Fault(429, retry_after=0.05), Fault(500), Fault(502), Fault(200, hang=1.0))
    config = config_for(server.base_url, max_turns=2, **{"endpoint.timeout": 0.5})
    backend = VirtualTime().endpoint(config.client.endpoint)  # no backoff really waited
    async with Engine(config, backends={"client": backend, "counselor": backend}) as engine:
        (record,) = await collect(engine, DEMO[:1])
    await backend.aclose()
    assert isinstance(record, DialogueRecord)
    assert record.usage.retries == 4 and backend.stats.retries == 4
    assert len(server.calls) == 3 + 4


async def test_an_endpoint_that_keeps_failing_fails_only_its_dialogue(
    server: FakeServer,
) -> None:
    target = DEMO[1].chief_complaint

    def script(call: Call) -> str | Fault:
        if call.role == "client" and target in call.system:
            return Fault(400)
        return "Go on." if call.role == "counselor" else "Well."

    server.script = script
    async with Engine(config_for(server.base_url, max_turns=3)) as engine:
        results = {r.id: r for r in await collect(engine, DEMO[:3])}
    failed = results[DEMO[1].id]
    assert isinstance(failed, FailureRecord) and failed.error.type == "BadResponseError"
    assert len(failed.turns) == 2  # kept: the greeting and the first counselor reply
    assert all(isinstance(results[c.id], DialogueRecord) for c in (DEMO[0], DEMO[2]))


async def test_replicas_and_separate_role_endpoints(tmp_path: Path) -> None:
    servers = [FakeServer() for _ in range(3)]
    for scripted in servers:
        scripted.start()
    try:
        a, b, c = servers
        config = config_for(
            a.base_url,
            b.base_url,
            **{"counselor.endpoint.base_urls": [c.base_url], "counselor.endpoint.model": "other"},
        )
        async with Engine(config) as engine:
            results = await collect(engine, DEMO[:4])
    finally:
        for scripted in servers:
            scripted.stop()
    assert len(results) == 4
    assert a.calls and b.calls and all(call.role == "client" for call in a.calls + b.calls)
    assert c.calls and all(call.role == "counselor" for call in c.calls)
    assert {call.body["model"] for call in c.calls} == {"other"}


async def test_resume_skips_finished_and_refuses_another_configuration(
    server: FakeServer, tmp_path: Path
) -> None:
    async with Engine(config_for(server.base_url), run_dir=tmp_path) as engine:
        await collect(engine, DEMO[:2])
    calls_after_first = len(server.calls)
    async with Engine(config_for(server.base_url), run_dir=tmp_path) as engine:
        second = await collect(engine, DEMO[:4])
    assert {r.id for r in second} == {DEMO[2].id, DEMO[3].id}
    assert engine.stats.already_done == 2
    assert len(server.calls) == calls_after_first * 2
    ids = [r["id"] for r in read_records(tmp_path / "dialogues.jsonl")]
    assert sorted(ids) == sorted(c.id for c in DEMO[:4])
    manifest = orjson.loads((tmp_path / "manifest.json").read_bytes())
    assert len(manifest["resumed"]) == 1

    with pytest.raises(RunDirectoryError, match="another configuration"):
        async with Engine(config_for(server.base_url, max_turns=9), run_dir=tmp_path):
            pass
    async with Engine(
        config_for(server.base_url, max_turns=9), run_dir=tmp_path, force=True
    ) as engine:
        assert await collect(engine, DEMO[:4]) == []


async def test_library_api_submit_and_cancel(server: FakeServer) -> None:
    server.options = ServerOptions(latency=0.05)
    async with Engine(config_for(server.base_url, max_turns=20)) as engine:
        quick = await engine.submit(DEMO[0])
        slow = await engine.submit(DEMO[1])
        slow.cancel()
        with pytest.raises(SessionCancelledError):
            await slow.result()
        quick.cancel()
        with pytest.raises(SessionCancelledError):
            await quick.result()
    assert engine.stats.cancelled == 2 and engine.stats.in_flight == 0


async def test_sessions_in_progress_go_first(server: FakeServer) -> None:
    config = config_for(server.base_url, max_turns=3, **{"endpoint.concurrency": 1})
    async with Engine(config) as engine:
        order = [r.id for r in await collect(engine, DEMO)]
    assert order == [card.id for card in DEMO]


async def fail_mid_run(engine: Engine) -> None:
    async with engine:
        await engine.submit(DEMO[0])
        await wait_all_tasks_blocked()  # the dialogue is waiting on its first LLM call
        raise RuntimeError("boom")


async def test_an_error_inside_the_block_cancels_cleanly(
    server: FakeServer, tmp_path: Path
) -> None:
    server.options = ServerOptions(latency=0.05)
    engine = Engine(config_for(server.base_url, max_turns=50), run_dir=tmp_path)
    with pytest.raises(RuntimeError, match="boom"):
        await fail_mid_run(engine)
    assert engine.stats.cancelled == 1
    assert read_records(tmp_path / "dialogues.jsonl") == []
