"""The HTTP seam under the backends: POST a JSON body, read the answer whole or by lines.

The endpoints' default (:func:`~.default_client.default_http_client`) is the engine's
pooled HTTP/1.1 client (:mod:`.http1`, answers read by httptools), which does only what a
chat completion needs and costs the least CPU per call; it runs on asyncio (uvloop
included), so under another anyio backend (trio) the default is an ``httpx.AsyncClient``,
which anyio runs anywhere. :class:`AiohttpClient` is aiohttp's client used directly, for
what a full client adds (redirects, compression, cookies), and the load generator's;
:class:`HttpxClient` adapts any ``httpx.AsyncClient``, so tests can use
``httpx.MockTransport`` and users their own proxies, certificates or event hooks.
``docs/design.md`` and ``docs/performance.md`` have the measurements behind the choice.

Implementations report a timeout as :class:`TimeoutError`, a host name that does not
resolve as :class:`UnresolvableHostError` and any other failed connection or broken read
as :class:`ConnectionError`; anything else is the caller's to judge.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import orjson
import sniffio

if TYPE_CHECKING:  # imported where used: most runs use neither (half the import time)
    import aiohttp
    import httpx
    from yarl import URL

from interactive_agents.errors import ConfigError, PermanentEndpointError
from interactive_agents.llm._redaction import remember_secret


class UnresolvableHostError(ConnectionError):
    """The base URL's host name does not resolve: no retry will reach it."""


def _connection_error(
    exc: BaseException, unresolvable: tuple[type[BaseException], ...] = (socket.gaierror,)
) -> ConnectionError:
    """``exc`` as the seam reports it: unresolvable host (a cause among ``unresolvable``)
    or another connection failure."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, unresolvable):
            return UnresolvableHostError(str(exc) or type(exc).__name__)
        cause = cause.__cause__ or cause.__context__
    return ConnectionError(str(exc) or type(exc).__name__)


class HttpResponse(Protocol):
    """The status line, headers and body of one answer."""

    @property
    def status(self) -> int: ...

    def header(self, name: str) -> str | None: ...

    async def read(self) -> bytes: ...

    def lines(self) -> AsyncIterator[str]: ...


class HttpClient(Protocol):
    """One base URL: POST requests on a pooled set of keep-alive connections."""

    def post(
        self, path: str, payload: bytes, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[HttpResponse]: ...

    async def aclose(self) -> None: ...


HttpClientFactory = Callable[[str, float], HttpClient]
"""Builds the client of a base URL given the timeout of a whole request, in seconds."""


def running_async_library() -> str | None:
    """``"asyncio"`` or ``"trio"`` (what anyio runs on here), None outside any event loop."""
    try:
        return sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return None


def json_headers(api_key_env: str | None) -> dict[str, str]:
    """Headers of a JSON POST, with a bearer key read from the named environment variable
    (only its name is ever configured or recorded)."""
    headers = {"content-type": "application/json"}
    if api_key_env:
        key = os.environ.get(api_key_env)
        if not key:
            raise ConfigError(
                f"the environment variable {api_key_env} is not set", field="api_key_env"
            )
        remember_secret(key)
        headers["authorization"] = f"Bearer {key}"
    return headers


def json_body(document: Any) -> bytes:
    """``document`` as a JSON request body, right-sized.

    orjson returns its working buffer with the capacity it grew to (16 KiB for a 2 KiB
    body) and never shrinks it; a body stays alive as long as its request is on the wire,
    so the copy saves about 14 KiB of every dialogue in flight.
    """
    return bytes(memoryview(orjson.dumps(document)))


def _aiohttp_error(exc: BaseException) -> ConnectionError:
    import aiohttp

    return _connection_error(exc, (socket.gaierror, aiohttp.ClientConnectorDNSError))


class _AiohttpResponse:
    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status

    def header(self, name: str) -> str | None:
        return self._response.headers.get(name)

    async def read(self) -> bytes:
        import aiohttp

        try:
            return await self._response.read()
        except TimeoutError:
            raise  # aiohttp's timeouts are ClientErrors too
        except aiohttp.ClientError as exc:
            raise _aiohttp_error(exc) from exc

    async def lines(self) -> AsyncIterator[str]:
        import aiohttp

        try:
            async for line in self._response.content:
                yield line.decode()
        except TimeoutError:
            raise
        except aiohttp.ClientError as exc:
            raise _aiohttp_error(exc) from exc


class _AiohttpPost:
    """One ``session.post`` as the seam's context manager, aiohttp's errors mapped.

    A class rather than an ``asynccontextmanager`` generator around aiohttp's own
    context manager: it is on the path of every LLM call.
    """

    __slots__ = ("_request", "_response")

    def __init__(self, request: Awaitable[aiohttp.ClientResponse]) -> None:
        self._request = request
        self._response: aiohttp.ClientResponse | None = None

    async def __aenter__(self) -> HttpResponse:
        import aiohttp

        try:
            self._response = await self._request
        except TimeoutError:
            raise
        except aiohttp.ClientError as exc:
            raise _aiohttp_error(exc) from exc
        return _AiohttpResponse(self._response)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        import aiohttp

        assert self._response is not None
        try:
            await self._response.__aexit__(exc_type, exc, traceback)  # releases the connection
        except TimeoutError:
            raise
        except aiohttp.ClientError as error:
            raise _aiohttp_error(error) from error


class AiohttpClient:
    """aiohttp's client session for one base URL, unbounded (the scheduler bounds it).

    The session is created on first use because aiohttp binds it to the running loop.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        import aiohttp

        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 30.0))
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None:
            library = running_async_library()
            if library != "asyncio":
                raise PermanentEndpointError(
                    f"{self.base_url}: aiohttp's client needs asyncio, not {library}: build "
                    "the endpoint inside the running event loop (it then picks an httpx "
                    "client) or pass http_client= an HttpxClient",
                    url=self.base_url,
                )
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    def post(
        self, path: str, payload: bytes, headers: Mapping[str, str]
    ) -> AbstractAsyncContextManager[HttpResponse]:
        session = self._open()
        url = self._urls.get(path)
        if url is None:  # parsed once per path, not per request
            from yarl import URL

            url = self._urls[path] = URL(self.base_url + path)
        return _AiohttpPost(session.post(url, data=payload, headers=headers))

    @asynccontextmanager
    async def get(self, path: str, headers: Mapping[str, str]) -> AsyncIterator[HttpResponse]:
        """A GET on the same pool (the endpoint probe's ``/models``, a server's ``/metrics``)."""
        import aiohttp

        session = self._open()
        try:
            async with session.get(self.base_url + path, headers=headers) as reply:
                yield _AiohttpResponse(reply)
        except TimeoutError:
            raise
        except aiohttp.ClientError as exc:
            raise _aiohttp_error(exc) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _HttpxResponse:
    __slots__ = ("_response",)

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    def header(self, name: str) -> str | None:
        value: str | None = self._response.headers.get(name)
        return value

    async def read(self) -> bytes:
        return await self._response.aread()

    def lines(self) -> AsyncIterator[str]:
        return self._response.aiter_lines()


class HttpxClient:
    """An ``httpx.AsyncClient`` (its base URL set) behind the seam, with a total deadline."""

    def __init__(self, client: httpx.AsyncClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    @asynccontextmanager
    async def post(
        self, path: str, payload: bytes, headers: Mapping[str, str]
    ) -> AsyncIterator[HttpResponse]:
        import httpx

        try:
            with anyio.fail_after(self._timeout):
                async with self._client.stream(
                    "POST", path, content=payload, headers=dict(headers)
                ) as response:
                    yield _HttpxResponse(response)
        except httpx.TimeoutException as exc:
            raise TimeoutError(str(exc)) from exc
        except httpx.TransportError as exc:
            raise _connection_error(exc) from exc

    @asynccontextmanager
    async def get(self, path: str, headers: Mapping[str, str]) -> AsyncIterator[HttpResponse]:
        """A GET with the same client (the endpoint probe's ``/models``, ``/metrics``)."""
        import httpx

        try:
            with anyio.fail_after(self._timeout):
                async with self._client.stream("GET", path, headers=dict(headers)) as response:
                    yield _HttpxResponse(response)
        except httpx.TimeoutException as exc:
            raise TimeoutError(str(exc)) from exc
        except httpx.TransportError as exc:
            raise _connection_error(exc) from exc

    async def aclose(self) -> None:
        await self._client.aclose()
