"""The HTTP seam: the clients answer alike over real loopback HTTP, and report failures
as ``TimeoutError`` / ``ConnectionError`` so the backend can judge them the same way."""

from __future__ import annotations

import socket

import httpx
import orjson
import pytest

from interactive_agents.llm._http1 import Http1Client
from interactive_agents.llm._transport import (
    AiohttpClient,
    HttpClient,
    HttpClientFactory,
    HttpxClient,
)
from interactive_agents.testing import FakeServer, Fault

pytestmark = pytest.mark.anyio

BODY = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": "hello"}]})
HEADERS = {"content-type": "application/json"}


def aiohttp_client(base_url: str, timeout: float) -> HttpClient:
    return AiohttpClient(base_url, timeout)


def httpx_client(base_url: str, timeout: float) -> HttpClient:
    return HttpxClient(httpx.AsyncClient(base_url=base_url), timeout)


def http1_client(base_url: str, timeout: float) -> HttpClient:
    return Http1Client(base_url, timeout)


CLIENTS = pytest.mark.parametrize(
    "make", [http1_client, aiohttp_client, httpx_client], ids=["http1", "aiohttp", "httpx"]
)


@CLIENTS
async def test_a_post_reads_status_headers_and_body(
    server: FakeServer, make: HttpClientFactory
) -> None:
    client = make(server.base_url, 10.0)
    try:
        async with client.post("/chat/completions", BODY, HEADERS) as response:
            assert response.status == 200
            assert response.header("Content-Type") == "application/json; charset=utf-8"
            document = orjson.loads(await response.read())
        assert document["choices"][0]["message"]["role"] == "assistant"
        server.fail_next(Fault(status=429, retry_after=3))
        async with client.post("/chat/completions", BODY, HEADERS) as response:
            assert (response.status, response.header("retry-after")) == (429, "3")
    finally:
        await client.aclose()


@CLIENTS
async def test_a_silent_server_is_a_timeout(server: FakeServer, make: HttpClientFactory) -> None:
    client = make(server.base_url, 0.3)
    server.fail_next(Fault(hang=1.0))
    try:
        with pytest.raises(TimeoutError):
            async with client.post("/chat/completions", BODY, HEADERS) as response:
                await response.read()
    finally:
        await client.aclose()


@CLIENTS
async def test_a_closed_port_is_a_connection_error(make: HttpClientFactory) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make(f"http://127.0.0.1:{port}/v1", 5.0)
    try:
        with pytest.raises(ConnectionError):
            async with client.post("/chat/completions", BODY, HEADERS):
                pass
    finally:
        await client.aclose()
