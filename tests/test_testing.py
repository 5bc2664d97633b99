"""``interactive_agents.testing``, the fake OpenAI-compatible server, through its public API
over real loopback HTTP: in-process (:class:`FakeServer`) and as its own process (:func:`spawn`)."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from typing import Any

import httpx
import orjson
import pytest

from interactive_agents.testing import (
    Call,
    FakeServer,
    Fault,
    ServerOptions,
    ServerStats,
    default_script,
    spawn,
)

HELLO = {"model": "mock-model", "messages": [{"role": "user", "content": "Hello, counselor."}]}
HELLO_TOKENS = 3  # "<user>", "Hello,", "counselor."


def stats(base_url: str) -> dict[str, Any]:
    response = httpx.get(base_url.removesuffix("/v1") + "/stats")
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def complete(base_url: str, body: dict[str, Any], timeout: float = 10.0) -> httpx.Response:
    return httpx.post(base_url + "/chat/completions", json=body, timeout=timeout)


def generating(**options: Any) -> FakeServer:
    """A server that generates filler answers (no script), as under load."""
    return FakeServer(None, ServerOptions(**options))


# --- Answers -----------------------------------------------------------------------------


def test_completion_has_the_openai_fields() -> None:
    with generating(latency=0.01, output_tokens=(5, 5)) as server:
        document = complete(server.base_url, HELLO).json()
        capped = complete(server.base_url, {**HELLO, "max_tokens": 3}).json()
        models = httpx.get(server.base_url + "/models").json()
    assert document["object"] == "chat.completion"
    choice = document["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert len(choice["message"]["content"].split()) == 5
    assert choice["finish_reason"] == "stop"
    assert document["usage"] == {
        "prompt_tokens": HELLO_TOKENS,
        "completion_tokens": 5,
        "total_tokens": HELLO_TOKENS + 5,
    }
    assert capped["choices"][0]["finish_reason"] == "length"
    assert capped["usage"]["completion_tokens"] == 3
    assert [model["id"] for model in models["data"]] == ["mock-model"]


def test_n_gives_that_many_choices() -> None:
    with generating(output_tokens=(4, 4)) as server:
        document = complete(server.base_url, {**HELLO, "n": 3}).json()
    assert [choice["index"] for choice in document["choices"]] == [0, 1, 2]
    assert document["usage"]["completion_tokens"] == 12


def test_a_seeded_request_always_gets_the_same_answer() -> None:
    with generating(output_tokens=(4, 30)) as server:
        answers = [
            complete(server.base_url, {**HELLO, "seed": seed}).json()["choices"][0]["message"]
            for seed in (1, 2, 1)
        ]
    assert answers[0] == answers[2] != answers[1]


def test_bad_request_is_400() -> None:
    with generating() as server:
        response = httpx.post(server.base_url + "/chat/completions", content=b"{not json")
        missing = complete(server.base_url, {"model": "m"})
    assert response.status_code == missing.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_stream_sends_chunks_then_usage_then_done() -> None:
    body = {**HELLO, "stream": True, "stream_options": {"include_usage": True}}
    with (
        generating(latency=0.01, output_tokens=(6, 6)) as server,
        httpx.stream("POST", server.base_url + "/chat/completions", json=body) as response,
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


# --- Load: latency, pacing, capacity -----------------------------------------------------


def test_latency_and_token_rate_delay_the_answer() -> None:
    with generating(latency=0.2, output_tokens=(10, 10), tokens_per_second=50) as server:
        start = time.perf_counter()
        complete(server.base_url, HELLO).raise_for_status()
        elapsed = time.perf_counter() - start
        busy = server.stats.busy_seconds
    assert elapsed >= 0.2 + 10 / 50
    assert busy == pytest.approx(0.2 + 10 / 50)


def test_capacity_bounds_requests_in_flight() -> None:
    async def burst(url: str) -> list[int]:
        async with httpx.AsyncClient(timeout=10.0) as client:
            responses = await asyncio.gather(
                *(client.post(url + "/chat/completions", json=HELLO) for _ in range(10))
            )
        return [response.status_code for response in responses]

    with generating(latency=0.1, capacity=2) as server:
        statuses = asyncio.run(burst(server.base_url))
        counted = stats(server.base_url)
    assert statuses == [200] * 10
    assert counted["max_in_flight"] == 2
    assert counted["served"] == 10
    assert counted["in_flight"] == counted["queued"] == 0


def test_latency_distributions_centre_on_the_latency() -> None:
    rng = random.Random(7)

    def draws(dist: Any, jitter: float) -> list[float]:
        options = ServerOptions(latency=0.1, latency_dist=dist, latency_jitter=jitter)
        return sorted(options.draw_latency(rng) for _ in range(2001))

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


@pytest.mark.parametrize(
    "options",
    [
        {"output_tokens": (9, 2)},
        {"output_tokens": (0, 2)},
        {"p429": 0.6, "p500": 0.6},
        {"p503": -0.1},
        {"latency_dist": "gamma"},
        {"block_tokens": 0},
    ],
)
def test_impossible_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        ServerOptions(**options)


# --- Faults ------------------------------------------------------------------------------


def test_injected_429_carries_retry_after() -> None:
    with generating(p429=1.0, retry_after=2) as server:
        response = complete(server.base_url, HELLO)
        counted = stats(server.base_url)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert counted["injected"]["429"] == 1
    assert counted["cpu_seconds"] > 0  # what the benchmarks charge to the server


@pytest.mark.parametrize("status", [500, 503])
def test_injected_server_errors(status: int) -> None:
    with generating(**{f"p{status}": 1.0}) as server:
        response = complete(server.base_url, HELLO)
        counted = stats(server.base_url)
    assert response.status_code == status
    assert counted["injected"][str(status)] == 1
    assert counted["served"] == 0


def test_injected_timeout_hangs_then_closes() -> None:
    with generating(ptimeout=1.0, hang_seconds=1.0) as server:
        with pytest.raises(httpx.TimeoutException):
            complete(server.base_url, HELLO, timeout=0.2)
        with pytest.raises(httpx.RemoteProtocolError):
            complete(server.base_url, HELLO, timeout=10.0)
        counted = stats(server.base_url)
    assert counted["injected"]["timeout"] == 2


def test_queued_faults_answer_the_next_requests_in_order() -> None:
    html = Fault(200, body=b"<html>Bad gateway</html>", content_type="text/html")
    with FakeServer() as server:
        server.fail_next(Fault(429, retry_after=0.5), Fault(401), html)
        answers = [complete(server.base_url, HELLO) for _ in range(4)]
        server.fail_next(Fault(reset=True))
        with pytest.raises(httpx.RemoteProtocolError):
            complete(server.base_url, HELLO)
    assert [a.status_code for a in answers] == [429, 401, 200, 200]
    assert answers[0].headers["retry-after-ms"] == "500"
    assert answers[1].json()["error"]["type"] == "authentication_error"
    assert answers[2].text == "<html>Bad gateway</html>"
    assert answers[3].json()["choices"][0]["message"]["content"].startswith("What goes")
    assert len(server.calls) == 5  # every request is recorded, answered or not


def test_a_request_refused_at_random_leaves_the_queued_fault() -> None:
    with FakeServer(options=ServerOptions(p503=1.0)) as server:
        server.fail_next(Fault(401))
        refused = complete(server.base_url, HELLO)
        server.options = ServerOptions()
        queued = complete(server.base_url, HELLO)
        answered = complete(server.base_url, HELLO)
    assert [refused.status_code, queued.status_code, answered.status_code] == [503, 401, 200]


def test_a_stopped_server_ends_the_requests_it_was_answering() -> None:
    with FakeServer() as server:
        server.fail_next(Fault(hang=30.0))
        with pytest.raises(httpx.TimeoutException):
            complete(server.base_url, HELLO, timeout=0.2)
        server.stop()
        assert server.stats.in_flight == 0  # the hanging answer was ended, not left pending
        assert server.start() and complete(server.base_url, HELLO).status_code == 200


def test_a_stopped_server_refuses_then_comes_back_on_its_port() -> None:
    with FakeServer() as server:
        url = server.base_url
        server.stop()
        with pytest.raises(httpx.ConnectError):
            complete(url, HELLO)
        assert server.start() == url
        assert complete(url, HELLO).status_code == 200


# --- Scripts -----------------------------------------------------------------------------


def dialogue(*utterances: str) -> dict[str, Any]:
    """A counselor's request: the system prompt, then client (user) and counselor turns."""
    roles = ("user", "assistant")
    messages = [{"role": "system", "content": "You are a counselor."}]
    messages += [{"role": roles[i % 2], "content": text} for i, text in enumerate(utterances)]
    return {"model": "scripted", "messages": messages}


def client_view(request: dict[str, Any]) -> dict[str, Any]:
    """The same history as the client asks it: its own lines are the assistant's."""
    swap = {"user": "assistant", "assistant": "user", "system": "system"}
    messages = request["messages"]
    flipped = [{**m, "role": swap[m["role"]]} for m in messages[1:]]
    system = {"role": "system", "content": "You are a client."}
    return {**request, "messages": [system, *flipped]}


def test_a_script_plays_each_role_with_the_turn() -> None:
    def script(call: Call) -> str | Fault:
        if call.role == "counselor" and call.turn == 2:
            return Fault(503)
        return f"{call.role} {call.turn} after {call.last_user!r}"

    with FakeServer(script) as server:
        counselor = complete(server.base_url, dialogue("Hi."))
        second = complete(server.base_url, dialogue("Hi.", "Hello.", "I feel low."))
        client = complete(server.base_url, client_view(dialogue("Hi.", "How are you?")))
    assert counselor.json()["choices"][0]["message"]["content"] == "counselor 1 after 'Hi.'"
    assert second.status_code == 503
    # The client greeted first: its history opens with its own (assistant) line.
    assert client.json()["choices"][0]["message"]["content"] == "client 2 after 'How are you?'"
    (call,) = server.calls_of("client")
    assert call.system == "You are a client." and call.port == server.port
    assert [c.turn for c in server.calls_of("counselor")] == [1, 2]


def test_the_default_script_never_ends_a_session() -> None:
    with FakeServer() as server:
        assert server.script is default_script
        counselor = complete(server.base_url, dialogue("Hi."))
        client = complete(server.base_url, client_view(dialogue("Hi.", "How are you?")))
    assert "?" in counselor.json()["choices"][0]["message"]["content"]
    assert client.json()["choices"][0]["message"]["content"].startswith("I keep worrying")


# --- The prefix cache --------------------------------------------------------------------


def test_cached_tokens_count_the_history_the_same_replica_computed() -> None:
    options = ServerOptions(output_tokens=(8, 8), block_tokens=4, cache_blocks=64)
    with FakeServer(None, options) as server, FakeServer(None, options) as other:
        first = dialogue("I cannot sleep since the move, and I worry every night.")
        answer = complete(server.base_url, first).json()
        reply = answer["choices"][0]["message"]["content"]
        second = dialogue(first["messages"][1]["content"], reply, "It started in May.")
        again = complete(server.base_url, second).json()["usage"]
        elsewhere = complete(other.base_url, second).json()["usage"]
        counted: ServerStats = server.stats
    assert answer["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}
    # The system prompt, the first line and the reply were computed: whole blocks of them.
    history = answer["usage"]["prompt_tokens"] + 1 + 8  # "<assistant>" and the reply
    assert again["prompt_tokens_details"]["cached_tokens"] == history // 4 * 4
    assert again["prompt_tokens_details"]["cached_tokens"] < again["prompt_tokens"]
    assert elsewhere["prompt_tokens_details"]["cached_tokens"] == 0  # a cache per replica
    assert counted.cached_tokens == history // 4 * 4
    assert counted.prompt_tokens == answer["usage"]["prompt_tokens"] + again["prompt_tokens"]


def test_the_cache_forgets_the_least_recently_used_blocks() -> None:
    options = ServerOptions(output_tokens=(4, 4), block_tokens=2, cache_blocks=8)
    with FakeServer(None, options) as server:

        def cached(request: dict[str, Any]) -> int:
            usage = complete(server.base_url, request).json()["usage"]
            return int(usage["prompt_tokens_details"]["cached_tokens"])

        old = dialogue("one two three four five six")  # 12 tokens, 17 with the reply
        assert cached(old) == 0
        assert cached(old) == 12  # 8 blocks kept: all of it
        # Another dialogue shares the system prompt's 3 blocks and adds 5 of its own,
        # which push out the 5 blocks the old dialogue used last.
        assert cached(dialogue("seven eight nine ten eleven twelve")) == 6
        assert cached(old) == 6


# --- As a process of its own -------------------------------------------------------------


def test_spawn_serves_the_options_until_the_context_exits() -> None:
    options = ServerOptions(model="spawned", output_tokens=(3, 4), cache_blocks=16, seed=1)
    with spawn(options, replicas=2) as urls:
        assert len(set(urls)) == 2 and all(url.endswith("/v1") for url in urls)
        lengths = {
            len(complete(urls[0], HELLO).json()["choices"][0]["message"]["content"].split())
            for _ in range(20)
        }
        models = httpx.get(urls[1] + "/models").json()
        usage = complete(urls[1], HELLO).json()["usage"]
        pid = stats(urls[0])["pid"]
        os.kill(pid, 0)  # alive: no error
    assert lengths == {3, 4}
    assert [model["id"] for model in models["data"]] == ["spawned"]
    assert "prompt_tokens_details" in usage
    assert pid != os.getpid()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(httpx.ConnectError):
        httpx.get(urls[0] + "/models")


@pytest.mark.parametrize(
    "arguments",
    [["--p429", "0.6", "--p500", "0.6"], ["--output-tokens", "9-2"], ["--replicas", "0"]],
)
def test_the_command_refuses_impossible_options(arguments: list[str]) -> None:
    command = [sys.executable, "-m", "interactive_agents.testing", *arguments]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "error:" in done.stderr


def test_the_library_never_imports_the_fakes() -> None:
    probe = "import sys, interactive_agents, interactive_agents.cli; "
    probe += "print('interactive_agents.testing' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
