"""The OpenAI-compatible backend: request shape, retries, Retry-After, errors, balancing,
endpoint health, the wire format and key redaction.

These inject an ``httpx.AsyncClient`` on ``httpx.MockTransport`` through the
:class:`HttpxClient` seam (no network) and run the retry policy on virtual time (no
backoff is waited); the loopback tests in ``test_fault_matrix.py`` and
``test_engine_http.py`` cover the same paths over real HTTP with the aiohttp client.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx
import orjson
import pytest

from interactive_agents.errors import (
    BadResponseError,
    ConfigError,
    EndpointDownError,
    EndpointTimeoutError,
    PermanentEndpointError,
    RateLimitedError,
    ServerError,
)
from interactive_agents.llm._endpoint import ChatEndpoint, parse_retry_after
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import ChatMessage, Sampling
from interactive_agents.llm._redaction import redact
from interactive_agents.llm._retry import RetryPolicy
from interactive_agents.llm._transport import HttpxClient
from interactive_agents.llm._wire import NotAChatCompletion, parse_completion, parse_event

from .support import VirtualTime

pytestmark = pytest.mark.anyio

Handler = Callable[[httpx.Request], httpx.Response]


def ok(content: str = "fine", prompt: int = 7, completion: int = 3) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "choices": [
                {"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
        },
    )


def endpoint(
    handler: Handler, time: VirtualTime | None = None, **options: object
) -> tuple[ChatEndpoint, list[httpx.Request]]:
    """An endpoint on a mock transport and on virtual time (``time``, or a fresh one)."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    def client(base_url: str, timeout: float) -> HttpxClient:
        transport = httpx.MockTransport(record)
        return HttpxClient(httpx.AsyncClient(base_url=base_url, transport=transport), timeout)

    urls: tuple[str, ...] = options.pop("base_urls", ("http://a/v1",))  # type: ignore[assignment]
    config = EndpointConfig(base_urls=urls, model="m", **options)  # type: ignore[arg-type]
    time = time if time is not None else VirtualTime()
    retry = RetryPolicy.for_endpoint(config, sleep=time.sleep, clock=time.clock)
    return ChatEndpoint(config, http_client=client, retry=retry), seen


MESSAGES = [ChatMessage("system", "be kind"), ChatMessage("user", "hello")]


async def test_request_carries_model_messages_sampling_and_seed() -> None:
    backend, seen = endpoint(lambda r: ok("hi there"))
    completion = await backend.complete(MESSAGES, Sampling(0.5, 0.9, 64), seed=42)
    body = orjson.loads(seen[0].content)
    assert seen[0].url == "http://a/v1/chat/completions"
    assert body == {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be kind"},
            {"role": "user", "content": "hello"},
        ],
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 64,
        "seed": 42,
    }
    assert completion.content == "hi there"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (7, 3)
    assert backend.stats.calls == 1 and backend.stats.prompt_tokens == 7


async def test_429_is_retried_after_the_servers_delay() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0.01"}), ok()])
    backend, seen = endpoint(lambda r: next(answers))
    completion = await backend.complete(MESSAGES, Sampling())
    assert len(seen) == 2 and completion.usage.retries == 1 and backend.stats.retries == 1


async def test_5xx_retried_then_gives_up_with_the_right_error() -> None:
    backend, seen = endpoint(lambda r: httpx.Response(503, text="busy"), max_retries=2)
    backend_429, _ = endpoint(
        lambda r: httpx.Response(429, headers={"Retry-After": "0"}), max_retries=1
    )
    with pytest.raises(ServerError, match="503"):
        await backend.complete(MESSAGES, Sampling())
    assert len(seen) == 3
    with pytest.raises(RateLimitedError):
        await backend_429.complete(MESSAGES, Sampling())


async def test_connection_errors_and_timeouts_are_retried() -> None:
    failures = iter([httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])

    def flaky(request: httpx.Request) -> httpx.Response:
        error = next(failures, None)
        if error is not None:
            raise error
        return ok()

    backend, seen = endpoint(flaky)
    assert (await backend.complete(MESSAGES, Sampling())).content == "fine"
    assert len(seen) == 3

    def always_slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    slow, _ = endpoint(always_slow, max_retries=1)
    with pytest.raises(EndpointTimeoutError):
        await slow.complete(MESSAGES, Sampling())


async def test_client_errors_are_not_retried_but_a_200_that_is_not_a_completion_is() -> None:
    backend, seen = endpoint(lambda r: httpx.Response(400, text="context too long"))
    with pytest.raises(BadResponseError, match="400 context too long"):
        await backend.complete(MESSAGES, Sampling())
    assert len(seen) == 1
    answers = iter([httpx.Response(200, text="<html>"), httpx.Response(200, text='{"cho'), ok()])
    garbage, seen = endpoint(lambda r: next(answers))
    assert (await garbage.complete(MESSAGES, Sampling())).content == "fine"
    assert len(seen) == 3 and garbage.stats.retries == 2
    html, _ = endpoint(lambda r: httpx.Response(200, text="<html>"), max_retries=1)
    with pytest.raises(BadResponseError, match="not a chat completion"):
        await html.complete(MESSAGES, Sampling())


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, "bad key"), (403, "forbidden"), (404, "no such model"), (400, "model 'm' unknown")],
)
async def test_permanent_errors_stop_at_once_naming_url_and_status(status: int, body: str) -> None:
    backend, seen = endpoint(lambda r: httpx.Response(status, text=body))
    with pytest.raises(PermanentEndpointError, match=f"http://a/v1: {status}") as caught:
        await backend.complete(MESSAGES, Sampling())
    assert len(seen) == 1 and backend.stats.retries == 0
    assert caught.value.status == status and caught.value.url == "http://a/v1"


async def test_an_unresolvable_host_is_permanent() -> None:
    def dns(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no host") from socket.gaierror(-2, "Name or service not known")

    backend, seen = endpoint(dns)
    with pytest.raises(PermanentEndpointError, match="does not resolve"):
        await backend.complete(MESSAGES, Sampling())
    assert len(seen) == 1


async def test_retry_after_is_a_lower_bound_and_every_wait_is_capped() -> None:
    time = VirtualTime()
    answers = iter(
        [
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(429, headers={"Retry-After": "86400"}),
            httpx.Response(503),
            ok(),
        ]
    )
    backend, _ = endpoint(lambda r: next(answers), time, max_retry_wait=20.0)
    completion = await backend.complete(MESSAGES, Sampling())
    assert completion.usage.retries == 3 and backend.stats.retries == 3
    first, second, third = time.waits
    assert 7.0 <= first <= 20.0 and second == 20.0 and third <= 20.0


async def test_retries_are_counted_even_when_the_call_fails() -> None:
    backend, seen = endpoint(lambda r: httpx.Response(429), max_retries=4)
    with pytest.raises(RateLimitedError):
        await backend.complete(MESSAGES, Sampling())
    assert len(seen) == 5 and backend.stats.retries == 4 and backend.stats.errors == 1


async def test_an_outage_pauses_calls_without_spending_retries() -> None:
    time = VirtualTime()

    def down_for_a_while(request: httpx.Request) -> httpx.Response:
        if time.now < 100.0:
            raise httpx.ConnectError("refused")
        return ok("back")

    backend, seen = endpoint(down_for_a_while, time)  # the defaults: 6 retries, 10 s window
    assert (await backend.complete(MESSAGES, Sampling())).content == "back"
    assert len(seen) > 7  # more attempts than retries: the probes were free
    assert backend.health.pauses == 1 and not backend.health.paused


async def test_an_outage_past_the_limit_raises_endpoint_down() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    time = VirtualTime()
    backend, _ = endpoint(refused, time, outage_limit=60.0)
    with pytest.raises(EndpointDownError, match="outage limit 60 s"):
        await backend.complete(MESSAGES, Sampling())
    assert 60.0 <= time.now <= 60.0 + 30.0


async def test_a_key_quoted_in_an_error_body_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KEY_VAR", "sk-quoted-secret")
    backend, _ = endpoint(
        lambda r: httpx.Response(400, text="bad key sk-quoted-secret"), api_key_env="TEST_KEY_VAR"
    )
    with pytest.raises(BadResponseError) as caught:
        await backend.complete(MESSAGES, Sampling())
    assert "sk-quoted-secret" not in str(caught.value) and "***" in str(caught.value)
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer ***"


def _document(content: object, **message: object) -> bytes:
    choice = {"message": {"role": "assistant", "content": content, **message}}
    return orjson.dumps({"choices": [choice], "usage": {"completion_tokens": 2}})


def test_the_wire_format_understands_odd_but_legal_answers() -> None:
    parts = parse_completion(_document([{"type": "text", "text": "a "}, {"text": "b"}]))
    assert parts.content == "a b"
    thought = parse_completion(_document("<think>plan</think> Hi.", reasoning_content="why"))
    assert (thought.content, thought.reasoning) == ("Hi.", "why\n\nplan")
    assert parse_completion(_document(None)).content == ""
    template_opened = parse_completion(_document("plan</think>Hello."))
    assert (template_opened.content, template_opened.reasoning) == ("Hello.", "plan")
    for odd, reason in [(_document(42), "int"), (b"<html>", "not JSON"), (b"[]", "object")]:
        with pytest.raises(NotAChatCompletion, match=reason):
            parse_completion(odd)
    bad_usage = orjson.dumps({"choices": [{"message": {}}], "usage": {"prompt_tokens": "x"}})
    with pytest.raises(NotAChatCompletion, match=r"usage\.prompt_tokens"):
        parse_completion(bad_usage)


def test_the_response_size_limit_rejects_or_truncates() -> None:
    huge = _document("x" * 5000)
    with pytest.raises(NotAChatCompletion, match="over the limit"):
        parse_completion(huge, max_bytes=1000)
    cut = parse_completion(huge, max_bytes=1000, oversize="truncate")
    assert cut.truncated and len(cut.content) == 1000


def test_stream_events_carry_text_reasoning_and_usage() -> None:
    delta = {"choices": [{"delta": {"content": [{"text": "hi"}], "reasoning_content": "r"}}]}
    chunk = parse_event("data: " + orjson.dumps(delta).decode())
    assert chunk is not None and (chunk.content, chunk.reasoning) == ("hi", "r")
    assert parse_event(": keep-alive") is None
    done = parse_event("data: [DONE]")
    assert done is not None and done.done
    with pytest.raises(NotAChatCompletion):
        parse_event("data: {trunc")


async def test_api_key_comes_from_the_named_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KEY_VAR", "sk-secret")
    backend, seen = endpoint(lambda r: ok(), api_key_env="TEST_KEY_VAR")
    await backend.complete(MESSAGES, Sampling())
    assert seen[0].headers["authorization"] == "Bearer sk-secret"
    monkeypatch.delenv("TEST_KEY_VAR")
    with pytest.raises(ConfigError, match="TEST_KEY_VAR"):
        endpoint(lambda r: ok(), api_key_env="TEST_KEY_VAR")


async def test_replicas_share_the_load() -> None:
    backend, seen = endpoint(
        lambda r: ok(), base_urls=("http://a/v1", "http://b/v1", "http://c/v1")
    )
    for _ in range(9):
        await backend.complete(MESSAGES, Sampling())
    hosts = [request.url.host for request in seen]
    assert sorted(set(hosts)) == ["a", "b", "c"]
    assert all(hosts.count(host) == 3 for host in "abc")


def test_retry_after_parsing() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
