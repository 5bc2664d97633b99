"""Which HTTP client an endpoint gets when none is given, by the event loop it runs on."""

from __future__ import annotations

from interactive_agents.llm._http1 import Http1Client
from interactive_agents.llm._transport import HttpClient, HttpxClient, running_async_library


def default_http_client(base_url: str, timeout: float) -> HttpClient:
    """The client the engine uses unless given one: :class:`Http1Client` on asyncio (and
    uvloop) or outside an event loop, an anyio-native httpx client on any other backend
    (trio), where asyncio's protocols do not run."""
    if running_async_library() in ("asyncio", None):
        return Http1Client(base_url, timeout)
    import httpx  # here: a run on asyncio never needs it

    unbounded = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    client = httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 30.0)),
        limits=unbounded,
    )
    return HttpxClient(client, timeout)
