"""``interactive-agents bench`` against the fake server run as its own process,
as the benchmarks run it, over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.loadtest._generator import TrafficConversation
from interactive_agents.method._cards import load_cards
from interactive_agents.method._prompts import load_prompts
from interactive_agents.testing import ServerOptions, spawn

ROOT = Path(__file__).resolve().parents[1]
TOKENS = 6
PACE = 200.0  # tokens per second of the paced mock
DISTRIBUTIONS = ("ttft", "tpot", "itl", "e2el")
STATISTICS = ("mean", "median", "std", "p50", "p90", "p99")
VLLM_FIELDS = (
    "duration",
    "completed",
    "failed",
    "total_input_tokens",
    "total_output_tokens",
    "request_throughput",
    "request_goodput",
    "output_throughput",
    "total_token_throughput",
    *(f"{stat}_{name}_ms" for name in DISTRIBUTIONS for stat in STATISTICS),
)


@pytest.fixture(scope="module")
def mock() -> Iterator[str]:
    """One server for the module: 20 % of requests get a 429, answers are 6 tokens long."""
    options = ServerOptions(latency=0.01, p429=0.2, output_tokens=(TOKENS, TOKENS), seed=7)
    with spawn(options) as [url]:
        yield url


@pytest.fixture(scope="module")
def paced() -> Iterator[str]:
    """A server without faults that streams 6 tokens at 200 tokens/s after 0.01 s."""
    options = ServerOptions(
        latency=0.01, output_tokens=(TOKENS, TOKENS), tokens_per_second=PACE, seed=3
    )
    with spawn(options) as [url]:
        yield url


@pytest.fixture(scope="module")
def prefix_cache() -> Iterator[str]:
    """One server with a prefix cache, which reports ``cached_tokens``."""
    with spawn(ServerOptions(output_tokens=(8, 8), cache_blocks=4096)) as [url]:
        yield url


def server_stats(url: str) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(url.removesuffix("/v1") + "/stats").json()
    return document


def injected_429(url: str) -> int:
    """429s the fault-injecting mock sent so far (0 from a server that injects none)."""
    count: int = server_stats(url).get("injected", {}).get("429", 0)
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
    assert report["request_rate"] == "inf" and report["max_concurrency"] == 6
    assert report["completed"] + report["failed"] == 60
    assert report["failed"] == report["_injected"] > 0
    assert report["error_counts"] == {"http_429": report["failed"]}
    # Each error's message, as the server sent it (the fake's OpenAI error document).
    assert len(report["errors"]) == report["failed"]
    assert set(report["errors"]) == {"http_429: 429 injected 429"}
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
    assert report["error_counts"] == ({"http_429": report["failed"]} if report["failed"] else {})
    assert report["failed"] == report["_injected"]
    assert report["output_tokens"] == TOKENS * report["completed"]
    ttft, latency = report["ttft_s"], report["latency_s"]
    assert set(ttft) == {"mean", "p50", "p90", "p99"}
    # Each request's first token comes before its last, so every percentile does too.
    assert all(ttft[key] <= latency[key] for key in ttft)


def test_errors_are_printed_with_their_messages(mock: str) -> None:
    result = CliRunner().invoke(
        main, ["bench", "--base-url", mock, "--model", "mock-model", "--requests", "30"]
    )
    assert result.exit_code == 0, result.output
    assert "x http_429: 429 injected 429" in result.stderr


def test_poisson_arrivals_for_a_duration(mock: str) -> None:
    report = bench(mock, "--request-rate", "50", "--duration", "1", "--seed", "3")
    assert report["load"]["mode"] == "poisson" and report["load"]["request_rate"] == 50
    # As `vllm bench serve` writes them: the rate, and the cap on requests outstanding.
    assert report["request_rate"] == 50 and report["max_concurrency"] is None
    assert report["sent"] > 0
    assert report["completed"] + report["failed"] == report["sent"]


def ordered(report: dict[str, Any], name: str) -> bool:
    stats = [report[f"{stat}_{name}_ms"] for stat in ("p50", "p90", "p99")]
    return stats == sorted(stats) and report[f"median_{name}_ms"] == report[f"p50_{name}_ms"]


def test_streamed_report_has_vllm_fields_consistent_with_the_pacing(paced: str) -> None:
    report = bench(paced, "--requests", "30", "--concurrency", "3", "--stream", "--slo", "e2el=60")
    assert all(name in report for name in VLLM_FIELDS)
    assert report["completed"] == 30 and report["failed"] == 0
    assert report["total_output_tokens"] == TOKENS * 30
    assert all(ordered(report, name) for name in DISTRIBUTIONS)
    # Each answer's tokens are paced 1/200 s apart, so no TPOT can be below that pacing
    # (less a margin for a late first chunk); the upper bound only catches a wrong formula.
    assert 0.5 * 1000 / PACE <= report["mean_tpot_ms"] <= 25 * 1000 / PACE
    # Within one answer the gaps between chunks add up to at most the time after the
    # first token, and every answer has the same length: mean ITL <= mean TPOT.
    assert report["mean_itl_ms"] <= report["mean_tpot_ms"] + 0.01
    assert report["mean_ttft_ms"] <= report["mean_e2el_ms"]
    duration = report["duration"]
    assert report["output_throughput"] == pytest.approx(180 / duration, rel=0.01)
    assert report["request_throughput"] == pytest.approx(30 / duration, rel=0.01)
    assert report["total_token_throughput"] == pytest.approx(
        (report["total_input_tokens"] + 180) / duration, rel=0.01
    )
    # Every request met a 60 s end-to-end target.
    assert report["request_goodput"] == report["request_throughput"]
    # The earlier names still carry the same figures.
    assert report["wall_s"] == duration and report["requests_per_s"] == report["request_throughput"]
    assert report["output_tokens"] == report["total_output_tokens"]
    assert report["latency_s"]["mean"] * 1000 == pytest.approx(report["mean_e2el_ms"], abs=0.01)
    assert report["ttft_s"]["p99"] * 1000 == pytest.approx(report["p99_ttft_ms"], abs=0.01)


def test_goodput_counts_only_requests_meeting_every_target(paced: str) -> None:
    args = ("--requests", "20", "--concurrency", "2", "--stream")
    report = bench(paced, *args, "--slo", "ttft=60", "--slo", "tpot=0.000001")
    assert report["load"]["slo_s"] == {"ttft": 60.0, "tpot": 0.000001}
    assert report["request_goodput"] == 0.0 < report["request_throughput"]
    report = bench(paced, *args, "--slo", "ttft=60", "--slo", "tpot=60", "--slo", "e2el=60")
    assert report["request_goodput"] == report["request_throughput"] > 0


def test_whole_answers_have_no_streaming_figures(paced: str) -> None:
    report = bench(paced, "--requests", "10", "--concurrency", "2")
    assert all(
        report[f"{stat}_{name}_ms"] is None
        for name in ("ttft", "tpot", "itl")
        for stat in STATISTICS
    )
    assert report["mean_e2el_ms"] is not None and report["request_goodput"] is None


def test_warmup_requests_are_sent_but_not_reported(paced: str) -> None:
    before = server_stats(paced)["requests"]
    report = bench(paced, "--requests", "12", "--concurrency", "3", "--warmup", "5")
    assert server_stats(paced)["requests"] - before == 17
    assert report["warmup_requests"] == 5 and report["sent"] == 12
    assert report["completed"] == 12
    assert sum(row["requests"] for row in report["by_turn_depth"]) == 12


def test_sweep_prints_one_run_per_level(paced: str) -> None:
    report = bench(paced, "--requests", "8", "--sweep", "1,3")
    assert report["sweep_over"] == "concurrency" and report["levels"] == [1, 3]
    assert [run["load"]["concurrency"] for run in report["runs"]] == [1, 3]
    assert all(run["completed"] == 8 for run in report["runs"])
    result = CliRunner().invoke(
        main, ["bench", "--base-url", paced, "--model", "m", "--requests", "4", "--sweep", "1,2"]
    )
    assert result.exit_code == 0, result.output
    assert "sweep over concurrency" in result.output
    rates = bench(paced, "--requests", "6", "--request-rate", "100", "--sweep", "50,200")
    assert rates["sweep_over"] == "request_rate" and rates["levels"] == [50.0, 200.0]
    assert [run["load"]["mode"] for run in rates["runs"]] == ["poisson", "poisson"]


def test_cached_tokens_by_turn_depth(prefix_cache: str) -> None:
    before = server_stats(prefix_cache)
    report = bench(prefix_cache, "--requests", "40", "--concurrency", "4", "--max-turns", "4")
    after = server_stats(prefix_cache)
    assert report["completed"] == 40
    assert report["total_input_tokens"] == after["prompt_tokens"] - before["prompt_tokens"]
    assert report["total_cached_tokens"] == after["cached_tokens"] - before["cached_tokens"]
    rows = report["by_turn_depth"]
    assert [row["turn"] for row in rows] == [1, 2, 3, 4]
    for key in ("requests", "prompt_tokens", "cached_tokens"):
        total = {"requests": "completed"}.get(key, f"total_{key.replace('prompt', 'input')}")
        assert sum(row[key] for row in rows) == report[total]
    for row in rows:
        assert row["cached_tokens"] <= row["prompt_tokens"]
        assert row["cache_hit_rate"] == round(row["cached_tokens"] / row["prompt_tokens"], 4)
        assert row["mean_ttft_ms"] is None
    # A conversation's history is a prefix of its next request on the one replica.
    assert rows[-1]["cache_hit_rate"] > max(rows[0]["cache_hit_rate"], 0.8)
    # The server's own counters (its /metrics, in vLLM's names) say the same.
    (server,) = report["server_metrics"].values()
    assert server["available"] and server["engine"] == "vllm"
    assert server["prefix_cache_queries"] == report["total_input_tokens"]
    assert server["prefix_cache_hits"] == report["total_cached_tokens"]
    assert server["prefix_cache_hit_rate"] == report["cache_hit_rate"]
    assert server["kv_cache_usage"] is None  # the fake has no KV cache: not a zero


@pytest.mark.parametrize("distribution", ["fixed", "exponential"])
def test_a_thinking_conversation_is_not_continued_before_its_delay(
    paced: str, distribution: str
) -> None:
    # Thinking for days: no conversation gets a second request, new ones fill the load,
    # and the run ends with its last answer rather than waiting for the thinkers.
    args = ("--requests", "12", "--concurrency", "3", "--think-dist", distribution)
    report = bench(paced, *args, "--think-time", "100000")
    assert report["load"]["think_distribution"] == distribution
    assert [row["turn"] for row in report["by_turn_depth"]] == [1]
    assert report["by_turn_depth"][0]["requests"] == 12
    # Without thinking, one conversation goes deeper: the counselor opens turn 1, then
    # the client and the counselor speak in each later turn.
    report = bench(paced, "--requests", "12", "--concurrency", "1", "--max-turns", "10")
    depths = {row["turn"]: row["requests"] for row in report["by_turn_depth"]}
    assert depths == {1: 1, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 1}


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
        (["--requests", "5", "--slo", "ttft=0.5"], "--stream"),
        (["--requests", "5", "--slo", "speed=3"], "ttft, tpot, e2el"),
        (["--requests", "5", "--slo", "e2el=fast"], "seconds"),
        (["--requests", "5", "--sweep", "1,x"], "--sweep"),
        (["--requests", "5", "--sweep", "1.5"], "whole numbers"),
        (["--requests", "5", "--warmup", "-1"], "warmup"),
        (["--requests", "5", "--think-time", "-1"], "think_time"),
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
