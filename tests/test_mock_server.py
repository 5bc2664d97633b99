"""The benchmarks' mock server and baselines, checked over real loopback HTTP."""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from _launch import mock_server
from baselines import BASELINES
from mock_server import Options, parse_options, sample_latency, token_range

HELLO = {"model": "mock-model", "messages": [{"role": "user", "content": "Hello, counselor."}]}


def stats(base_url: str) -> dict[str, Any]:
    response = httpx.get(base_url.removesuffix("/v1") + "/stats")
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def complete(base_url: str, body: dict[str, Any], timeout: float = 10.0) -> httpx.Response:
    return httpx.post(base_url + "/chat/completions", json=body, timeout=timeout)


def test_completion_has_the_openai_fields() -> None:
    with mock_server(latency=0.01, output_tokens=5) as url:
        document = complete(url, HELLO).json()
        capped = complete(url, {**HELLO, "max_tokens": 3}).json()
        models = httpx.get(url + "/models").json()
    assert document["object"] == "chat.completion"
    choice = document["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert len(choice["message"]["content"].split()) == 5
    assert choice["finish_reason"] == "stop"
    assert document["usage"] == {"prompt_tokens": 4, "completion_tokens": 5, "total_tokens": 9}
    assert capped["choices"][0]["finish_reason"] == "length"
    assert capped["usage"]["completion_tokens"] == 3
    assert [model["id"] for model in models["data"]] == ["mock-model"]


def test_n_gives_that_many_choices() -> None:
    with mock_server(latency=0.01, output_tokens=4) as url:
        document = complete(url, {**HELLO, "n": 3}).json()
    assert [choice["index"] for choice in document["choices"]] == [0, 1, 2]
    assert document["usage"]["completion_tokens"] == 12


def test_bad_request_is_400() -> None:
    with mock_server() as url:
        response = httpx.post(url + "/chat/completions", content=b"{not json")
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_injected_429_carries_retry_after() -> None:
    with mock_server(p429=1.0, retry_after=2) as url:
        response = complete(url, HELLO)
        counted = stats(url)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert counted["injected"]["429"] == 1
    assert counted["cpu_seconds"] > 0  # what the benchmarks charge to the mock


@pytest.mark.parametrize("status", [500, 503])
def test_injected_server_errors(status: int) -> None:
    with mock_server(**{f"p{status}": 1.0}) as url:
        response = complete(url, HELLO)
        counted = stats(url)
    assert response.status_code == status
    assert counted["injected"][str(status)] == 1
    assert counted["served"] == 0


def test_injected_timeout_hangs_then_closes() -> None:
    with mock_server(ptimeout=1.0, hang_seconds=1.0) as url:
        with pytest.raises(httpx.TimeoutException):
            complete(url, HELLO, timeout=0.2)
        with pytest.raises(httpx.RemoteProtocolError):
            complete(url, HELLO, timeout=10.0)
        counted = stats(url)
    assert counted["injected"]["timeout"] == 2


def test_stream_sends_chunks_then_usage_then_done() -> None:
    body = {**HELLO, "stream": True, "stream_options": {"include_usage": True}}
    with (
        mock_server(latency=0.01, output_tokens=6) as url,
        httpx.stream("POST", url + "/chat/completions", json=body) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line.removeprefix("data: ") for line in response.iter_lines() if line]
    assert events[-1] == "[DONE]"
    chunks = [orjson.loads(event) for event in events[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert len(text.split()) == 6
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 6


def test_latency_and_token_rate_delay_the_answer() -> None:
    with mock_server(latency=0.2, output_tokens=10, tokens_per_second=50) as url:
        start = time.perf_counter()
        complete(url, HELLO).raise_for_status()
        elapsed = time.perf_counter() - start
    assert elapsed >= 0.2 + 10 / 50


def test_capacity_bounds_requests_in_flight() -> None:
    async def burst(url: str) -> list[int]:
        async with httpx.AsyncClient(timeout=10.0) as client:
            responses = await asyncio.gather(
                *(client.post(url + "/chat/completions", json=HELLO) for _ in range(10))
            )
        return [response.status_code for response in responses]

    with mock_server(latency=0.1, capacity=2) as url:
        statuses = asyncio.run(burst(url))
        counted = stats(url)
    assert statuses == [200] * 10
    assert counted["max_in_flight"] == 2
    assert counted["served"] == 10
    assert counted["in_flight"] == counted["queued"] == 0


def test_process_is_gone_after_the_context_exits() -> None:
    with mock_server() as url:
        pid = stats(url)["pid"]
        os.kill(pid, 0)  # alive: no error
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/models")


def test_latency_distributions_centre_on_the_latency() -> None:
    rng = random.Random(7)

    def draws(dist: str, jitter: float) -> list[float]:
        options = Options(latency=0.1, latency_dist=dist, latency_jitter=jitter)
        return sorted(sample_latency(rng, options) for _ in range(2001))

    assert set(draws("fixed", 0.05)) == {0.1}
    uniform = draws("uniform", 0.05)
    assert uniform[0] >= 0.05
    assert uniform[-1] <= 0.15
    assert uniform[-1] - uniform[0] > 0.09
    exponential = draws("exponential", 0.05)
    assert exponential[0] >= 0.1
    assert 0.14 < sum(exponential) / len(exponential) < 0.16
    lognormal = draws("lognormal", 0.5)
    assert 0.09 < lognormal[1000] < 0.11  # the median
    assert lognormal[-1] > 0.2


def test_command_line_checks_its_options() -> None:
    assert token_range("20-80") == (20, 80)
    assert token_range("5") == (5, 5)
    assert parse_options(["--output-tokens", "3-4", "--p429", "0.5"]).output_tokens == (3, 4)
    with pytest.raises(SystemExit):
        parse_options(["--p429", "0.6", "--p500", "0.6"])
    with pytest.raises(SystemExit):
        parse_options(["--output-tokens", "9-2"])


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_makes_two_calls_per_turn(name: str) -> None:
    with mock_server(latency=0.01) as url:
        result = BASELINES[name](url, 2, 2)
        served = stats(url)["served"]
    assert (result.calls, result.errors, served) == (8, 0, 8)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_counts_a_failed_call_and_ends_the_dialogue(name: str) -> None:
    with mock_server(p500=1.0) as url:
        result = BASELINES[name](url, 2, 2)
    assert (result.calls, result.errors) == (2, 2)
