"""The engine's own HTTP/1.1 client against a loopback server that answers byte for byte
as scripted: every way a body can be framed, answers split anywhere, connections the
server closes, answers that are not HTTP, deadlines and cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import pytest

from interactive_agents.llm._http1 import Http1Client
from interactive_agents.llm._transport import UnresolvableHostError

pytestmark = pytest.mark.anyio

BODY = b'{"model": "m", "messages": []}'
HEADERS = {"content-type": "application/json", "authorization": "Bearer k"}
OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok": 42}\n'

Answer = Callable[[int], list[bytes]]
"""The pieces written for the n-th request (0-based) the server reads; ``b""`` closes."""


class Scripted:
    """A loopback server that reads whole requests and writes the scripted pieces."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self.connections = 0
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.requests.append(head + await reader.readexactly(length))
                for piece in self.answer(len(self.requests) - 1):
                    if piece == b"":
                        writer.close()
                        return
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0.005)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@asynccontextmanager
async def scripted(answer: Answer) -> AsyncIterator[tuple[Scripted, Http1Client]]:
    server = Scripted(answer)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    client = Http1Client(f"http://127.0.0.1:{server.port}/v1", 5.0)
    try:
        yield server, client
    finally:
        await client.aclose()
        listener.close()
        for writer in server.writers:
            writer.close()
        await listener.wait_closed()


async def post(client: Http1Client) -> tuple[int, bytes]:
    async with client.post("/chat/completions", BODY, HEADERS) as answer:
        return answer.status, await answer.read()


async def test_the_request_is_one_post_with_its_headers_and_body() -> None:
    async with scripted(lambda n: [OK]) as (server, client):
        assert await post(client) == (200, b'{"ok": 42}\n')
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /v1/chat/completions HTTP/1.1"
    assert b"Host: 127.0.0.1:%d" % server.port in lines
    assert b"authorization: Bearer k" in lines and b"content-type: application/json" in lines
    assert b"Content-Length: %d" % len(BODY) in lines and body == BODY


async def test_a_keep_alive_connection_carries_the_next_requests() -> None:
    async with scripted(lambda n: [OK]) as (server, client):
        for _ in range(3):
            assert (await post(client))[0] == 200
    assert server.connections == 1 and len(server.requests) == 3


async def test_an_answer_split_anywhere_is_read_whole() -> None:
    def byte_by_byte(n: int) -> list[bytes]:
        return [OK[i : i + 1] for i in range(len(OK))]

    async with scripted(byte_by_byte) as (server, client):
        assert await post(client) == (200, b'{"ok": 42}\n')
        assert await post(client) == (200, b'{"ok": 42}\n')
    assert server.connections == 1


async def test_a_chunked_answer_with_extensions_and_trailers_is_decoded() -> None:
    chunked = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=x\r\nhel",
        b"lo\r\n",
        b"6\r\n world\r\n0\r\nX-Trailer: 1\r\n",
        b"\r\n",
    ]
    async with scripted(lambda n: chunked) as (server, client):
        assert await post(client) == (200, b"hello world")
        assert await post(client) == (200, b"hello world")
    assert server.connections == 1


async def test_streamed_lines_arrive_as_the_server_sends_them() -> None:
    events = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"]
    events += [b"%x\r\ndata: %d\n\n\r\n" % (len(b"data: %d\n\n" % i), i) for i in range(3)]
    events += [b"0\r\n\r\n"]
    async with (
        scripted(lambda n: events) as (_, client),
        client.post("/chat/completions", BODY, HEADERS) as answer,
    ):
        lines = [line async for line in answer.lines()]
    assert lines == ["data: 0\n", "\n", "data: 1\n", "\n", "data: 2\n", "\n"]


async def test_connection_close_and_http_1_0_answers_end_their_connection() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi"
    until_eof = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end"

    def answers(n: int) -> list[bytes]:
        return [closing] if n == 0 else [until_eof, b""]

    async with scripted(answers) as (server, client):
        assert await post(client) == (200, b"hi")
        assert await post(client) == (200, b"to the end")
        assert await post(client) == (200, b"to the end")
    assert server.connections == 3


async def test_interim_answers_are_skipped_and_bodiless_statuses_end_at_the_head() -> None:
    def answers(n: int) -> list[bytes]:
        if n == 0:
            return [b"HTTP/1.1 100 Continue\r\n\r\n", OK]
        return [b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"]

    async with scripted(answers) as (server, client):
        assert await post(client) == (200, b'{"ok": 42}\n')
        assert await post(client) == (204, b"")
    assert server.connections == 1


async def test_headers_are_read_without_regard_to_case() -> None:
    limited = b"HTTP/1.1 429 Too Many\r\nretry-AFTER:  7 \r\nContent-Length: 0\r\n\r\n"
    async with (
        scripted(lambda n: [limited]) as (_, client),
        client.post("/chat/completions", BODY, HEADERS) as answer,
    ):
        assert (answer.status, answer.header("Retry-After")) == (429, "7")
        assert answer.header("x-missing") is None


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async with scripted(lambda n: [OK, b""]) as (server, client):
        assert await post(client) == (200, b'{"ok": 42}\n')
        await server.writers[0].wait_closed()  # the server's close arrives while idle
        await anyio.sleep(0.05)
        assert await post(client) == (200, b'{"ok": 42}\n')
    assert server.connections == 2


@pytest.mark.parametrize(
    "pieces",
    [
        [b"hello\r\n\r\n"],  # not HTTP
        [b'HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{"partial', b""],  # closed mid-body
        [b""],  # closed before any answer
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],  # a bad chunk size
        [b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc"],
    ],
    ids=["not-http", "closed-mid-body", "closed-at-once", "bad-chunk", "two-lengths"],
)
async def test_a_broken_answer_is_a_connection_error(pieces: list[bytes]) -> None:
    async with scripted(lambda n: pieces if n == 0 else [OK]) as (server, client):
        with pytest.raises(ConnectionError):
            await post(client)
        assert await post(client) == (200, b'{"ok": 42}\n')  # on a new connection
    assert server.connections == 2


async def test_the_deadline_covers_the_whole_answer() -> None:
    slow = [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"]  # and nothing more

    async with scripted(lambda n: slow if n == 0 else [OK]) as (server, client):
        client.timeout = 0.3
        with pytest.raises(TimeoutError):
            await post(client)
        assert await post(client) == (200, b'{"ok": 42}\n')
    assert server.connections == 2


async def test_a_cancelled_request_leaves_no_connection_behind() -> None:
    async with scripted(lambda n: [] if n == 0 else [OK]) as (server, client):
        with anyio.move_on_after(0.2):
            await post(client)  # never answered
        assert await post(client) == (200, b'{"ok": 42}\n')
    assert server.connections == 2


async def test_a_host_name_is_resolved_and_a_bad_header_refused() -> None:
    async with scripted(lambda n: [OK]) as (server, _):
        client = Http1Client(f"http://localhost:{server.port}/v1", 5.0)
        try:
            assert await post(client) == (200, b'{"ok": 42}\n')
            with pytest.raises(ValueError, match="cannot be sent"):
                client.post("/chat/completions", BODY, {"x-evil": "a\r\nHost: b"})
        finally:
            await client.aclose()


async def test_a_host_that_does_not_resolve_says_so() -> None:
    client = Http1Client("http://no-such-host.invalid/v1", 5.0)
    try:
        with pytest.raises(UnresolvableHostError):
            await post(client)
    finally:
        await client.aclose()


async def test_a_second_answer_to_one_request_ends_the_connection() -> None:
    async with scripted(lambda n: [OK + OK] if n == 0 else [OK]) as (server, client):
        assert await post(client) == (200, b'{"ok": 42}\n')
        assert await post(client) == (200, b'{"ok": 42}\n')
    assert server.connections == 2


async def test_a_head_without_end_is_refused() -> None:
    endless = [b"HTTP/1.1 200 OK\r\n", *[b"X-Filler: " + b"y" * 8000 + b"\r\n"] * 10]
    async with scripted(lambda n: endless if n == 0 else [OK]) as (server, client):
        with pytest.raises(ConnectionError, match="head longer"):
            await post(client)
        assert await post(client) == (200, b'{"ok": 42}\n')
    assert server.connections == 2
