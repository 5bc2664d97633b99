"""Check an endpoint once before a run admits dialogues: fail in seconds, saying why.

Without it a wrong port costs the whole outage limit (five minutes of retries, then exit
75) and a wrong model name one failed call per dialogue. Each replica is asked, once:

1. ``GET /models``: a refused connection, a host that does not resolve, no answer
   within the probe's timeout, or a 401/403 stop the run (:class:`PermanentEndpointError`,
   exit 2), naming the URL. A list that holds the model ends the probe.
2. Otherwise ``GET /models/{model}`` (OpenAI's retrieve call), and if that does not
   answer 200 either, a one-token chat call: what a real call would be refused with
   (404, a 400 naming the model) stops the run, with the models the server does list.

A 5xx or a 429 does not stop the run: the server is there and may recover, and the
endpoint's retries and outage pause handle it as they handle any call (the probe returns
a note saying so). Nothing the probe sends is counted in the run's usage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import orjson

from interactive_agents.errors import BackendError, PermanentEndpointError
from interactive_agents.llm._messages import ChatMessage
from interactive_agents.llm._redaction import redact
from interactive_agents.llm._transport import UnresolvableHostError
from interactive_agents.llm._wire import chat_request

if TYPE_CHECKING:
    from interactive_agents.llm._endpoint import ChatEndpoint, Replica

PROBE_TIMEOUT = 30.0
"""Longest a replica may take to answer the probe (the endpoint's timeout if shorter)."""
_SHOWN_MODELS = 10


class _Unusable(Exception):
    """The replica cannot serve the run: the reason, to be raised with its URL."""


async def probe_endpoint(endpoint: ChatEndpoint) -> list[str]:
    """Probe every replica of ``endpoint`` at once; notes on replicas that answered
    with a server error. Raises :class:`PermanentEndpointError` naming each replica
    that cannot serve the run."""
    timeout = min(endpoint.config.timeout, PROBE_TIMEOUT)
    problems: list[str] = []
    notes: list[str] = []

    async def one(replica: Replica) -> None:
        try:
            with anyio.fail_after(timeout):
                note = await _probe_replica(endpoint, replica)
        except TimeoutError:
            problems.append(f"{replica.base_url}: no answer to the probe within {timeout:g} s")
        except _Unusable as reason:
            problems.append(f"{replica.base_url}: {reason}")
        except PermanentEndpointError as refused:  # the client cannot run here at all
            problems.append(str(refused))
        else:
            if note is not None:
                notes.append(f"{replica.base_url}: {note}")

    async with anyio.create_task_group() as group:
        for replica in endpoint.replicas:
            group.start_soon(one, replica)
    if problems:
        first = endpoint.replicas[0].base_url
        raise PermanentEndpointError(redact("; ".join(problems)), url=first)
    return notes


async def _probe_replica(endpoint: ChatEndpoint, replica: Replica) -> str | None:
    """None when the replica serves the model, a note when it answered a server error."""
    model = endpoint.model
    listed = await _get(endpoint, replica, "/models")
    if isinstance(listed, int):
        if listed >= 500 or listed == 429:
            return f"answered {listed} to GET /models; the run goes on and retries"
        served: list[str] = []
    else:
        served = listed
        if model in served:
            return None
        if isinstance(await _get(endpoint, replica, f"/models/{model}"), list):
            return None
    return await _one_token(endpoint, replica, served)


async def _get(endpoint: ChatEndpoint, replica: Replica, path: str) -> list[str] | int:
    """The model ids a 200 lists (empty for another 200 document), else the status."""
    get = getattr(replica.client, "get", None)
    if get is None:  # a client of the user's without GET: go straight to the chat call
        return 404
    try:
        async with get(path, endpoint.headers) as response:
            status: int = response.status
            body: bytes = await response.read()
    except ConnectionError as exc:
        raise _Unusable(_connection_problem(exc)) from exc
    if status in (401, 403):
        raise _Unusable(f"GET {path} answered {status}: check the key (api_key_env)")
    if status != 200:
        return status
    return _model_ids(body)


def _model_ids(body: bytes) -> list[str]:
    """The ``id`` of every entry of a ``/models`` list; a single model's document counts
    as a list of one (what ``GET /models/{model}`` answers)."""
    try:
        document: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return []
    if not isinstance(document, dict):
        return []
    entries = document.get("data")
    if not isinstance(entries, list):
        entries = [document]
    return [entry["id"] for entry in entries if isinstance(entry, dict) and "id" in entry]


async def _one_token(endpoint: ChatEndpoint, replica: Replica, served: list[str]) -> str | None:
    """A chat call of one token; what would refuse every call stops the run."""
    payload = chat_request(
        endpoint.model, [ChatMessage("user", "ping")], temperature=0.0, top_p=1.0, max_tokens=1
    )
    post = replica.client.post
    try:
        async with post("/chat/completions", payload, endpoint.headers) as response:
            status, body = response.status, await response.read()
    except ConnectionError as exc:
        raise _Unusable(_connection_problem(exc)) from exc
    if status == 200:
        return None
    if status >= 500 or status == 429:
        return f"answered {status} to a one-token call; the run goes on and retries"
    try:
        endpoint.refusal(status, body, replica)
    except PermanentEndpointError as refused:
        listing = ""
        if served:
            names = ", ".join(served[:_SHOWN_MODELS]) + (
                ", ..." if len(served) > _SHOWN_MODELS else ""
            )
            listing = f" (the server lists: {names})"
        raise _Unusable(f"{_without_url(refused, replica)}{listing}") from refused
    except BackendError:
        pass  # a 400 about something else: every call will say so, one dialogue at a time
    return None


def _connection_problem(exc: ConnectionError) -> str:
    if isinstance(exc, UnresolvableHostError):
        return f"the host name does not resolve ({exc}): check the base URL"
    return f"cannot connect ({exc}): is the server running, and is the port right?"


def _without_url(error: BackendError, replica: Replica) -> str:
    """The error's message without the ``URL: `` it starts with (added back once)."""
    return str(error).removeprefix(f"{replica.base_url}: ")
