"""The engine's HTTP/1.1 client: keep-alive connections on asyncio protocols, answers read
by ``httptools`` (llhttp, the parser of Node.js and uvicorn).

Why not aiohttp's client on this path: on every LLM call its request machinery (request
and response objects, header multidicts, a task per request body before Python 3.12,
traces, cookies, redirects) cost more CPU than everything the engine itself does for the
call, and the objects it leaves in flight made the garbage collector the next largest item
(``docs/performance.md`` has the profiles). A chat completion needs far less: one POST
with a JSON body on a persistent connection, and one answer. So the code here is only the
pool, the deadlines and the mapping of failures; the bytes of an answer (status line,
headers, ``Content-Length``, chunked or close-delimited bodies, keep-alive) are llhttp's.

What it does: HTTP/1.1 over TCP or TLS (the system's certificates), one request at a
time per connection, idle connections reused most recent first and closed after a
minute, interim ``1xx`` answers skipped, one deadline per request (connecting included),
the host's addresses cached for a minute. What it does not do: proxies, redirects (a
``3xx`` is returned as it is), compression (no ``Accept-Encoding`` is sent, so a server
answers uncompressed), HTTP/2. Where those are needed, pass ``AiohttpClient`` or an
``httpx`` client (:mod:`.transport`).

Failures are reported as the seam wants them: :class:`TimeoutError` past the deadline,
:class:`~.transport.UnresolvableHostError` for a host name that does not resolve, and
:class:`ConnectionError` for anything else that breaks a connection or an answer
(refused, reset, closed early, not HTTP).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from urllib.parse import urlsplit

import httptools

from interactive_agents.llm._transport import HttpResponse, UnresolvableHostError

IDLE_SECONDS = 60.0
"""An idle connection older than this is closed instead of reused (servers drop them)."""
ADDRESS_SECONDS = 60.0
"""How long the host's resolved addresses are reused before it is looked up again."""
HEAD_LIMIT = 64 * 1024
"""The most bytes a status line and headers may take (llhttp itself sets no limit)."""


class _Broken(ConnectionError):
    """The server's answer is not HTTP/1.1 as llhttp reads it."""


class _Connection(asyncio.Protocol):
    """One connection and the answer it is receiving.

    ``data_received`` feeds llhttp, whose callbacks (the ``on_*`` methods) gather the
    answer's status, headers and body; ``_waiter`` is the future of whoever waits for
    the next step (the head, more body, or its end).
    """

    __slots__ = (
        "_busy",
        "_error",
        "_framed",
        "_head_bytes",
        "_interim",
        "_loop",
        "_parser",
        "_waiter",
        "answered",
        "body",
        "closed",
        "done",
        "headers",
        "idle_since",
        "keep_alive",
        "status",
        "transport",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._busy = False
        self._head_bytes = 0
        self._interim = False  # the answer being parsed is a 1xx one, skipped
        self._framed = False  # a Content-Length or a chunked body: not ended by the close
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.done = False  # the whole answer has arrived
        self.keep_alive = True
        self.answered = False  # the head of the answer has been parsed

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if not self._busy or self.done:  # nothing was asked: the connection is unusable
            self._fail(_Broken("the server sent bytes nobody asked for"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(_Broken(f"not an HTTP/1.x answer as expected: {exc}"))
            return
        if not self.answered:
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_LIMIT:
                self._fail(_Broken(f"a head longer than {HEAD_LIMIT} bytes"))

    def eof_received(self) -> bool:
        self._end_of_stream()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if exc is None:
            self._end_of_stream()
        if self._busy and not self.done:
            reason = f": {exc}" if exc is not None else ""
            self._fail(ConnectionError(f"the server closed the connection{reason}"))

    def _end_of_stream(self) -> None:
        """A body without a length or chunks ends with the connection (llhttp cannot
        tell, as httptools does not expose its end-of-input call)."""
        if self._busy and not self.done and self.answered and not self._framed:
            self.keep_alive = False
            self._finish()

    # -- llhttp's callbacks ------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.done:  # a second answer to one request: nothing more can be trusted
            raise _Broken("the server sent more than one answer")

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"content-length":
            self._framed = True
        elif name == b"transfer-encoding":
            self._framed = value.rsplit(b",", 1)[-1].strip().lower() == b"chunked"
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:  # 100 Continue, 103 Early Hints: the real answer follows
            self._interim = True
            self.headers, self._framed = [], False
            return
        self.status, self.answered = status, True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.body += body
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        self.keep_alive = self._parser.should_keep_alive()
        self._finish()

    # -- one exchange ----------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Start an exchange: forget the last answer and write the whole request."""
        assert self.transport is not None
        self._busy, self.done, self._error = True, False, None
        self.answered, self._interim, self._framed = False, False, False
        self.status, self.headers, self.body = 0, [], bytearray()
        self.keep_alive, self._head_bytes = True, 0
        self.transport.write(data)

    async def wait(self) -> None:
        """Until the answer has moved on (the head, or more of the body, or its end);
        a failure after the whole answer arrived is the connection's, not the answer's."""
        if self._error is None:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._error is not None and not self.done:
            raise self._error

    def release(self) -> bool:
        """End the exchange; True if the connection can carry another request."""
        self._busy = False
        reusable = self.done and self.keep_alive and not self.closed
        self.headers, self.body = [], bytearray()  # an idle connection holds no answer
        if reusable:
            self.idle_since = time.monotonic()
        else:
            self.close()
        return reusable

    def time_out(self) -> None:
        self._fail(TimeoutError("no complete answer before the deadline"))

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        self._wake()
        if self.transport is not None:
            self.transport.abort()
        self.closed = True

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _finish(self) -> None:
        self.done = True
        self._wake()


class _Answer:
    """The answer of one exchange, read while its connection is held."""

    __slots__ = ("_connection", "_headers")

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self._headers: dict[str, str] | None = None

    @property
    def status(self) -> int:
        return self._connection.status

    def header(self, name: str) -> str | None:
        if self._headers is None:
            self._headers = {
                key.decode("latin-1"): value.strip().decode("latin-1")
                for key, value in self._connection.headers
            }
        return self._headers.get(name.lower())

    async def read(self) -> bytes:
        connection = self._connection
        while not connection.done:
            await connection.wait()
        return bytes(connection.body)

    async def lines(self) -> AsyncIterator[str]:
        connection, start = self._connection, 0
        while True:
            body = connection.body
            end = body.find(b"\n", start)
            if end >= 0:
                yield body[start : end + 1].decode()
                start = end + 1
            elif connection.done:
                if start < len(body):
                    yield body[start:].decode()
                return
            else:
                await connection.wait()


class _Exchange:
    """``async with client.post(...) as answer``: a connection is taken, the request
    sent and the head of the answer awaited on entry; on exit the connection goes back
    to the pool if its answer was read whole, else it is closed."""

    __slots__ = ("_client", "_connection", "_data", "_timer")

    def __init__(self, client: Http1Client, data: bytes) -> None:
        self._client = client
        self._data = data
        self._connection: _Connection | None = None
        self._timer: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> HttpResponse:
        client = self._client
        loop = asyncio.get_running_loop()
        deadline = loop.time() + client.timeout
        connection = client.idle_connection()
        if connection is None:
            connection = await client.connect(loop, deadline)
        self._connection = connection
        self._timer = loop.call_at(deadline, connection.time_out)
        try:
            connection.send(self._data)
            self._data = b""
            while not connection.answered:
                await connection.wait()
        except BaseException:
            self._end()
            raise
        return _Answer(connection)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._end()

    def _end(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._connection is not None:
            self._client.release(self._connection)


class Http1Client:
    """The engine's default :class:`~.transport.HttpClient`: one base URL, an unbounded
    pool of keep-alive HTTP/1.1 connections (the scheduler bounds how many are used)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        url = urlsplit(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._connect_timeout = min(timeout, 30.0)
        self._host = url.hostname
        self._tls = url.scheme == "https"
        self._port = url.port or (443 if self._tls else 80)
        default_port = self._port == (443 if self._tls else 80)
        host = f"[{self._host}]" if ":" in self._host else self._host
        authority = host if default_port else f"{host}:{self._port}"
        self._prefix = url.path
        self._start = f"\r\nHost: {authority}\r\nUser-Agent: interactive-agents\r\n"
        self._ssl: ssl.SSLContext | None = None
        self._idle: list[_Connection] = []
        self._all: set[_Connection] = set()
        self._addresses: list[tuple[int, str]] = []
        self._resolved_at = 0.0
        self._resolving: asyncio.Future[list[tuple[int, str]]] | None = None
        self._heads: dict[tuple[object, ...], bytes] = {}
        self._closed = False
        try:
            self._literal: str | None = str(ipaddress.ip_address(self._host))
        except ValueError:
            self._literal = None

    def post(self, path: str, payload: bytes, headers: Mapping[str, str]) -> _Exchange:
        key = (path, *headers.items())
        head = self._heads.get(key)
        if head is None:  # the same path and headers come back on every call
            head = self._heads[key] = self._head("POST", path, headers)
            if len(self._heads) > 64:
                del self._heads[next(iter(self._heads))]
        return _Exchange(self, b"%sContent-Length: %d\r\n\r\n%s" % (head, len(payload), payload))

    def get(self, path: str, headers: Mapping[str, str]) -> _Exchange:
        """A GET of ``path`` (the start-up probe's ``/models``, servers' ``/metrics``)."""
        return _Exchange(self, self._head("GET", path, headers) + b"\r\n")

    def _head(self, method: str, path: str, headers: Mapping[str, str]) -> bytes:
        """The request line and headers of ``method`` on ``path``, without Content-Length."""
        for name, value in headers.items():
            if any(c in name or c in value for c in "\r\n") or name.lower() == "content-length":
                raise ValueError(f"header {name!r} cannot be sent as given")
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        return f"{method} {self._prefix}{path} HTTP/1.1{self._start}{lines}".encode("latin-1")

    def idle_connection(self) -> _Connection | None:
        """The most recently used idle connection still worth using, if any."""
        idle = self._idle
        while idle:
            connection = idle.pop()
            if not connection.closed and time.monotonic() - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
            self._all.discard(connection)
        return None

    def release(self, connection: _Connection) -> None:
        """Take a connection back after an exchange: idle if it can carry another."""
        if connection.release() and not self._closed:
            self._idle.append(connection)
        else:
            connection.close()
            self._all.discard(connection)

    async def connect(self, loop: asyncio.AbstractEventLoop, deadline: float) -> _Connection:
        """A new connection, within the connect timeout and the request's deadline."""
        if self._closed:
            raise ConnectionError("the client is closed")
        limit = min(deadline, loop.time() + self._connect_timeout)
        last: OSError | None = None
        async with asyncio.timeout_at(limit):
            for family, address in await self._resolve(loop):
                try:
                    connection = await self._open(loop, family, address)
                except OSError as exc:
                    last = exc
                    continue
                self._all.add(connection)
                return connection
        assert last is not None
        raise ConnectionError(f"cannot connect to {self._host}:{self._port}: {last}") from last

    async def _open(
        self, loop: asyncio.AbstractEventLoop, family: int, address: str
    ) -> _Connection:
        connection = _Connection(loop)
        await loop.create_connection(
            lambda: connection,
            address,
            self._port,
            family=family,
            ssl=self._tls_context(),
            server_hostname=self._host if self._tls else None,
        )
        return connection

    async def _resolve(self, loop: asyncio.AbstractEventLoop) -> list[tuple[int, str]]:
        """The host's addresses (a literal IP as it is), looked up once a minute, one
        look-up at a time however many connections are being opened."""
        if self._literal is not None:
            family = socket.AF_INET6 if ":" in self._literal else socket.AF_INET
            return [(family, self._literal)]
        if self._addresses and time.monotonic() - self._resolved_at < ADDRESS_SECONDS:
            return self._addresses
        if self._resolving is None:
            self._resolving = loop.create_future()
            try:
                infos = await loop.getaddrinfo(self._host, self._port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                error = UnresolvableHostError(f"{self._host}: {exc}")
                self._resolving.set_exception(error)
                self._resolving.exception()  # retrieved: later callers get it from here
                self._resolving = None
                raise error from exc
            except BaseException as exc:
                self._resolving.set_exception(ConnectionError(f"{self._host}: {exc}"))
                self._resolving.exception()
                self._resolving = None
                raise
            self._addresses = [(family, str(info[0])) for family, _, _, _, info in infos]
            self._resolved_at = time.monotonic()
            self._resolving.set_result(self._addresses)
            self._resolving = None
            return self._addresses
        return await asyncio.shield(self._resolving)

    def _tls_context(self) -> ssl.SSLContext | None:
        if self._tls and self._ssl is None:
            self._ssl = ssl.create_default_context()
        return self._ssl

    async def aclose(self) -> None:
        self._closed = True
        for connection in self._all:
            connection.close()
        self._all.clear()
        self._idle.clear()
