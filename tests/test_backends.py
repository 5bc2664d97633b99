"""The OpenAI-compatible backend: request shape, retries, Retry-After, errors, balancing.

These inject an ``httpx.AsyncClient`` on ``httpx.MockTransport`` through the
:class:`HttpxClient` seam (no network); the loopback tests in ``test_engine_http.py``
cover the same paths over real HTTP with the default aiohttp client.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import orjson
import pytest

from interactive_agents import (
    BadResponseError,
    ChatEndpoint,
    ChatMessage,
    ConfigError,
    EndpointConfig,
    EndpointTimeoutError,
    RateLimitedError,
    Sampling,
    ServerError,
)
from interactive_agents.llm.endpoint import parse_retry_after
from interactive_agents.llm.transport import HttpxClient

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


def endpoint(handler: Handler, **options: object) -> tuple[ChatEndpoint, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    def client(base_url: str, timeout: float) -> HttpxClient:
        transport = httpx.MockTransport(record)
        return HttpxClient(httpx.AsyncClient(base_url=base_url, transport=transport), timeout)

    urls: tuple[str, ...] = options.pop("base_urls", ("http://a/v1",))  # type: ignore[assignment]
    config = EndpointConfig(base_urls=urls, model="m", **options)  # type: ignore[arg-type]
    return ChatEndpoint(config, http_client=client), seen


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


async def test_client_errors_are_not_retried() -> None:
    backend, seen = endpoint(lambda r: httpx.Response(400, text="context too long"))
    with pytest.raises(BadResponseError, match="400 context too long"):
        await backend.complete(MESSAGES, Sampling())
    garbage, _ = endpoint(lambda r: httpx.Response(200, text="<html>"))
    with pytest.raises(BadResponseError, match="not a chat completion"):
        await garbage.complete(MESSAGES, Sampling())
    assert len(seen) == 1


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
