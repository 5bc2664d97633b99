"""``interactive-agents bench`` against the benchmarks' mock server, over loopback HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.loadtest.generator import TrafficConversation
from interactive_agents.method.cards import load_cards
from interactive_agents.method.prompts import load_prompts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _launch import mock_server

ROOT = Path(__file__).resolve().parents[1]
TOKENS = 6


@pytest.fixture(scope="module")
def mock() -> Iterator[str]:
    """One mock for the module: 20 % of requests get a 429, answers are 6 tokens long."""
    with mock_server(latency=0.01, p429=0.2, output_tokens=TOKENS, seed=7) as url:
        yield url


def injected_429(url: str) -> int:
    document = httpx.get(url.removesuffix("/v1") + "/stats").json()
    count: int = document["injected"]["429"]
    return count


def bench(url: str, *args: str) -> dict[str, Any]:
    before = injected_429(url)
    result = CliRunner().invoke(
        main, ["bench", "--base-url", url, "--model", "mock-model", "--json", "--quiet", *args]
    )
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = orjson.loads(result.stdout.strip().splitlines()[-1])
    report["_injected"] = injected_429(url) - before
    return report


def test_counts_tokens_latency_and_429s(mock: str, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    report = bench(mock, "--requests", "60", "--concurrency", "6", "--out", str(out))
    assert report["load"]["mode"] == "closed_loop" and report["sent"] == 60
    assert report["completed"] + report["failed"] == 60
    assert report["failed"] == report["_injected"] > 0
    assert report["errors"] == {"http_429": report["failed"]}
    assert report["output_tokens"] == TOKENS * report["completed"]
    assert report["prompt_tokens"] > 0 and report["requests_per_s"] > 0
    assert set(report["latency_s"]) == {"mean", "p50", "p90", "p99"}
    assert report["latency_s"]["p50"] <= report["latency_s"]["p90"] <= report["latency_s"]["p99"]
    assert report["ttft_s"] is None
    written = orjson.loads(out.read_bytes())
    assert written["sent"] == 60 and written["errors"] == report["errors"]


def test_streaming_measures_time_to_first_token(mock: str) -> None:
    report = bench(mock, "--requests", "40", "--concurrency", "4", "--stream")
    assert report["load"]["stream"] is True
    assert report["completed"] + report["failed"] == 40
    assert report["errors"] == ({"http_429": report["failed"]} if report["failed"] else {})
    assert report["failed"] == report["_injected"]
    assert report["output_tokens"] == TOKENS * report["completed"]
    ttft, latency = report["ttft_s"], report["latency_s"]
    assert set(ttft) == {"mean", "p50", "p90", "p99"}
    # Each request's first token comes before its last, so every percentile does too.
    assert all(ttft[key] <= latency[key] for key in ttft)


def test_poisson_arrivals_for_a_duration(mock: str) -> None:
    report = bench(mock, "--request-rate", "50", "--duration", "1", "--seed", "3")
    assert report["load"]["mode"] == "poisson" and report["load"]["request_rate"] == 50
    assert report["sent"] > 0
    assert report["completed"] + report["failed"] == report["sent"]


def test_histories_grow_from_each_side() -> None:
    prompts = load_prompts("en")
    card = load_cards(ROOT / "runners" / "cards" / "demo_en.jsonl").cards[0]
    conversation = TrafficConversation(card, prompts, max_turns=2)
    requests = []
    while not conversation.over:
        requests.append((conversation.speaker, conversation.messages()))
        conversation.answer(f"line {len(requests)}")
    assert [speaker for speaker, _ in requests] == ["counselor", "client", "counselor"]
    (_, first), (_, client), (_, second) = requests
    assert [m.role for m in first] == ["system", "user", "system"]
    assert [m.role for m in client][1:] == ["assistant", "user"]
    # The counselor's second request extends its first (minus the stage cue): a cached prefix.
    assert second[: len(first) - 1] == first[:-1]
    assert [m.content for m in second[-3:-1]] == ["line 1", "line 2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--requests", "0"], "requests"),
        (["--requests", "5", "--api-key-env", "IA_TEST_UNSET_KEY"], "IA_TEST_UNSET_KEY"),
        (["--requests", "5", "--cards", "no-such-cards"], "no-such-cards"),
    ],
)
def test_bad_options_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        main, ["bench", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--quiet", *args]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_help_has_examples() -> None:
    result = CliRunner().invoke(main, ["bench", "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "--request-rate" in result.output
