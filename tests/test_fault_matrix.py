"""The fault matrix: one table of server faults and what the engine must do about each.

Every row runs a few dialogues through the public API (``Engine`` with a run directory)
against the shared fault-injecting OpenAI fake on loopback, with the endpoint on virtual
time (no backoff is really waited). Outcomes:

- ``done``: the fault is absorbed (retried, parsed, paused through); every card recorded;
- ``failed``: the answers can never be used, each dialogue fails with a clear error;
- ``stopped``: no dialogue can succeed (permanent error, outage past the limit): the
  run stops with an ``EndpointUnusableError`` and no card is marked failed.

Then the server is healed and the run resumed (failed cards retried): each card must
end with exactly one record, none lost and none duplicated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import (
    BadResponseError,
    ConfigError,
    EndpointDownError,
    EndpointUnusableError,
    PermanentEndpointError,
)
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.method._cards import RoleCard, load_cards
from interactive_agents.method._config import RunConfig
from interactive_agents.method._records import Role
from interactive_agents.runtime._engine import Engine
from interactive_agents.testing import Call, FakeServer, Fault, default_script

from .support import VirtualTime, closed_port, config_for, read_records

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
CARDS = load_cards(ROOT / "runners" / "cards" / "demo_en.jsonl").cards[:3]
KEY = "sk-test-0123456789abcdef"
MODEL = "scripted"
HTML = "text/html"
Outcome = Literal["done", "failed", "stopped"]


def completion(content: object, **message: object) -> Fault:
    """A 200 chat completion whose message is whatever the row needs (odd but legal)."""
    document = {
        "object": "chat.completion",
        "choices": [{"message": {"role": "assistant", "content": content, **message}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5},
    }
    return Fault(200, body=orjson.dumps(document))


def flaky(times: int, *faults: Fault) -> Callable[[Call], str | Fault]:
    """Each distinct request fails ``times`` times (cycling through ``faults``), then works."""
    seen: Counter[bytes] = Counter()

    def script(call: Call) -> str | Fault:
        key = orjson.dumps(call.messages)
        seen[key] += 1
        if seen[key] <= times:
            return faults[(seen[key] - 1) % len(faults)]
        return default_script(call)

    return script


def always(fault: Fault) -> Callable[[Call], str | Fault]:
    return lambda call: fault


@dataclass(frozen=True)
class Row:
    """One fault, how to inject it, and what must come of it."""

    name: str
    outcome: Outcome
    script: Callable[[Call], str | Fault] = default_script
    error: type[Exception] | None = None
    message: tuple[str, ...] = ()  # fragments the error message must contain
    base_url: Callable[[FakeServer], str] = lambda server: server.base_url
    settings: dict[str, Any] = field(default_factory=dict)
    # The server goes down once the run has started (its endpoint probed) and stays down
    # this long (virtual s); None: up throughout.
    outage: float | None = None
    check: Callable[[RunResult], None] = lambda result: None


@dataclass
class RunResult:
    """What a row's first run produced."""

    server: FakeServer
    time: VirtualTime
    backend_retries: int
    dialogues: list[dict[str, Any]]
    failures: list[dict[str, Any]]


def _no_reasoning_in_transcript(result: RunResult) -> None:
    """Reasoning stays out of the text (and so out of the other side's view) and is
    recorded apart on the turn it belongs to."""
    turns = [turn for record in result.dialogues for turn in record["turns"]]
    texts = [turn["content"] for turn in turns]
    assert all("secret plan" not in text and "think>" not in text for text in texts)
    assert "I hear you." in texts
    replies = [turn for turn in turns if turn["content"] == "I hear you."]
    assert replies and all("secret plan" in (turn["reasoning"] or "") for turn in replies)
    greeting = turns[0]
    assert greeting["reasoning"] is None  # the fixed greeting is no model's text


def _parts_joined(result: RunResult) -> None:
    texts = {turn["content"] for record in result.dialogues for turn in record["turns"]}
    assert "I hear you." in texts


def _retry_after_lower_bound(result: RunResult) -> None:
    assert result.time.waits and min(result.time.waits) >= 1.0
    assert result.backend_retries == len(result.time.waits) > 0


def _waits_capped(result: RunResult) -> None:
    assert result.time.waits and max(result.time.waits) <= 30.0


def _huge_reply_kept_out(result: RunResult) -> None:
    assert all(len(orjson.dumps(record)) < 100_000 for record in result.dialogues)


def _truncated(result: RunResult) -> None:
    lengths = [len(t["content"]) for r in result.dialogues for t in r["turns"]]
    assert max(lengths) <= 1000


def _key_masked(result: RunResult) -> None:
    assert KEY not in str(result.failures) and "***" in str(result.failures)


def _paused_not_failed(result: RunResult) -> None:
    assert result.time.now >= 40.0  # the outage cost (virtual) time ...
    assert len(result.dialogues) == len(CARDS)  # ... not dialogues


HUGE = "word " * 400_000  # 2 MB, over the default max_response_bytes of 1 MB
MATRIX = [
    Row(
        "429 storm, Retry-After: 1",
        "done",
        flaky(3, Fault(429, retry_after=1)),
        check=_retry_after_lower_bound,
    ),
    Row("5xx bursts", "done", flaky(3, Fault(500), Fault(502), Fault(503))),
    Row("connection resets", "done", flaky(2, Fault(reset=True))),
    Row(
        "timeouts",
        "done",
        flaky(1, Fault(hang=1.5)),
        settings={"endpoint.timeout": 0.3},
    ),
    Row("truncated JSON 200", "done", flaky(2, Fault(200, body=b'{"choices": [{"mess'))),
    Row(
        "HTML 200 from a proxy",
        "done",
        flaky(
            1, Fault(200, body=b"<html><body>Bad gateway</body></html>", content_type="text/html")
        ),
    ),
    Row(
        "content as a list of parts",
        "done",
        lambda call: completion(
            [{"type": "text", "text": "I hear "}, {"type": "text", "text": "you."}]
        ),
        check=_parts_joined,
    ),
    Row(
        "numeric content",
        "failed",
        always(completion(42)),
        error=BadResponseError,
        message=("content is a int",),
        settings={"endpoint.max_retries": 1},
    ),
    Row("huge reply, rejected", "done", flaky(1, completion(HUGE)), check=_huge_reply_kept_out),
    Row(
        "huge reply, truncated",
        "done",
        always(completion(HUGE)),
        settings={"endpoint.oversize": "truncate", "endpoint.max_response_bytes": 1000},
        check=_truncated,
    ),
    Row(
        "reasoning_content and <think>",
        "done",
        lambda call: completion(
            "<think>secret plan</think>I hear you.", reasoning_content="secret plan too"
        ),
        check=_no_reasoning_in_transcript,
    ),
    Row(
        "an error body quoting the key",
        "failed",
        always(Fault(400, body=f'{{"error": "bad request from key {KEY}"}}'.encode())),
        error=BadResponseError,
        message=("400",),
        check=_key_masked,
    ),
    Row("401", "stopped", always(Fault(401)), PermanentEndpointError, ("401", "127.0.0.1")),
    Row("403", "stopped", always(Fault(403)), PermanentEndpointError, ("403", "127.0.0.1")),
    Row(
        "404 wrong model",
        "stopped",
        always(Fault(404, body=b'{"error": {"message": "The model does not exist."}}')),
        PermanentEndpointError,
        ("404", MODEL),
    ),
    Row(
        "400 naming the model",
        "stopped",
        always(Fault(400, body=f'{{"error": "unknown model {MODEL}"}}'.encode())),
        PermanentEndpointError,
        ("400", MODEL),
    ),
    Row(
        "unresolvable host",
        "stopped",
        error=PermanentEndpointError,
        message=("does not resolve", "nohost.invalid"),
        base_url=lambda server: "http://nohost.invalid/v1",
    ),
    Row(
        "server down when the run starts",
        "stopped",
        error=PermanentEndpointError,
        message=("cannot connect", "is the port right?"),
        base_url=lambda server: f"http://127.0.0.1:{closed_port()}/v1",
    ),
    Row(
        "server down for 40 s, then back",
        "done",
        outage=40.0,
        check=_paused_not_failed,
    ),
    Row(
        "server down past the outage limit",
        "stopped",
        error=EndpointDownError,
        message=("outage limit",),
        outage=float("inf"),
        settings={"endpoint.outage_limit": 120.0},
    ),
    Row(
        "Retry-After: 86400",
        "done",
        flaky(1, Fault(429, retry_after=86400)),
        check=_waits_capped,
    ),
]


async def _run(
    config: RunConfig,
    run_dir: Path,
    time: VirtualTime,
    cards: list[RoleCard],
    on_open: Callable[[], object] = lambda: None,
    **options: Any,
) -> tuple[int, BaseException | None]:
    """One run through the public API (``on_open`` called once it has started); the
    retries it counted and what it raised."""
    backend = time.endpoint(config.client.endpoint)
    roles: dict[Role, ChatBackend] = {"client": backend, "counselor": backend}
    try:
        async with Engine(config, run_dir=run_dir, backends=roles, **options) as engine:
            on_open()
            async for _ in engine.run(cards):
                pass
    except EndpointUnusableError as exc:
        return backend.stats.retries, exc
    finally:
        await backend.aclose()
    return backend.stats.retries, None


@pytest.mark.parametrize("row", MATRIX, ids=[row.name for row in MATRIX])
async def test_fault(row: Row, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_MATRIX_KEY", KEY)
    server = FakeServer(script=row.script)
    server.start()
    time = VirtualTime()
    settings = {"max_turns": 2, "endpoint.api_key_env": "FAULT_MATRIX_KEY", **row.settings}

    def outage() -> None:
        if row.outage is not None:
            server.stop()
            time.at(time.now + row.outage, server.start)

    try:
        config = config_for(row.base_url(server), **settings)
        retries, raised = await _run(config, tmp_path, time, CARDS, outage)
        result = RunResult(
            server,
            time,
            retries,
            read_records(tmp_path / "dialogues.jsonl"),
            read_records(tmp_path / "failures.jsonl"),
        )
        if row.outcome == "stopped":
            assert row.error is not None and isinstance(raised, row.error), raised
            assert result.failures == []  # no card is marked failed for the endpoint's fault
        else:
            assert raised is None
        if row.outcome == "failed":
            assert row.error is not None
            assert [f["error"]["type"] for f in result.failures] == [row.error.__name__] * 3
            for failure in result.failures:
                assert all(part in failure["error"]["message"] for part in row.message)
        if row.outcome == "done":
            assert result.failures == [] and len(result.dialogues) == len(CARDS)
        if raised is not None:
            assert all(part in str(raised) for part in row.message), str(raised)
        row.check(result)

        # Healed, the same command (failed cards retried) completes every card once.
        server.stop()
        server.script = default_script
        server.start()
        healed = config_for(server.base_url, **settings)
        _, raised = await _run(healed, tmp_path, VirtualTime(), CARDS, retry_failed=True)
        assert raised is None
    finally:
        server.stop()
    ids = [record["card_id"] for record in read_records(tmp_path / "dialogues.jsonl")]
    assert sorted(ids) == sorted(card.id for card in CARDS)  # lost 0, duplicated 0


def test_a_malformed_url_is_a_config_error_before_anything_runs(tmp_path: Path) -> None:
    for url in ("http://127.0.0.1:99999/v1", "http://[::1/v1"):
        with pytest.raises(ConfigError, match="base_urls"):
            config_for(url)
    assert list(tmp_path.iterdir()) == []


async def test_a_fault_free_run_waits_and_retries_nothing(tmp_path: Path) -> None:
    """The baseline of the matrix: no fault, no wait, no retry, one record per card."""
    server = FakeServer()
    server.start()
    try:
        time = VirtualTime()
        config = config_for(server.base_url, max_turns=2)
        retries, raised = await _run(config, tmp_path, time, CARDS)
    finally:
        server.stop()
    assert (retries, raised, time.waits) == (0, None, [])
    assert len(read_records(tmp_path / "dialogues.jsonl")) == len(CARDS)
    assert read_records(tmp_path / "failures.jsonl") == []


def test_a_wrong_key_through_the_cli_is_one_line_exit_2_then_the_fix_does_every_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a new user meets it: the server refuses the key (401), which quotes it back."""
    monkeypatch.setenv("FAULT_MATRIX_KEY", KEY)
    server = FakeServer(script=always(Fault(401, body=f"invalid key {KEY}".encode())))
    server.start()
    out = tmp_path / "run"
    try:
        args = [
            *("simulate", "--cards", str(ROOT / "runners" / "cards" / "demo_en.jsonl")),
            *("--out", str(out), "--base-url", server.base_url, "--model", MODEL),
            *("--api-key-env", "FAULT_MATRIX_KEY", "--language", "en", "--max-turns", "2"),
            "--quiet",
        ]
        refused = CliRunner().invoke(main, args)
        assert refused.exit_code == 2, refused.output
        lines = [
            x for x in refused.output.splitlines() if x.strip() and not x.startswith("warning:")
        ]
        assert len(lines) == 1 and "401" in lines[0] and server.base_url in lines[0]
        assert KEY not in refused.output
        assert read_records(out / "failures.jsonl") == []
        server.script = default_script
        fixed = CliRunner().invoke(main, args)
    finally:
        server.stop()
    assert fixed.exit_code == 0, fixed.output
    cards = load_cards(ROOT / "runners" / "cards" / "demo_en.jsonl").cards
    ids = [record["card_id"] for record in read_records(out / "dialogues.jsonl")]
    assert sorted(ids) == sorted(card.id for card in cards)
