"""OpenAI-compatible chat endpoints over HTTP.

One :class:`ChatEndpoint` per model: its replicas (several base URLs serving the same
model, chosen per call by :mod:`.routing`), one HTTP client per replica (the engine's
own HTTP/1.1 client by default, :mod:`.http1`; see :mod:`.transport`), the scheduler
gate, and the endpoint's fault handling:

- transient failures (429, 5xx, timeouts, dropped connections, a 200 that is not a chat
  completion) are retried with exponential backoff and jitter, ``Retry-After`` as a
  lower bound, each wait capped (:class:`~.retry_policy.RetryPolicy`);
- permanent ones (401, 403, 404, a 400 naming the model, a host that does not resolve)
  raise :class:`PermanentEndpointError` at once: no dialogue can succeed, the run stops;
- an endpoint that stops answering pauses its calls (:class:`~.health.EndpointHealth`).

The HTTP client and the retry policy are injectable, so unit tests use
``httpx.MockTransport`` and virtual time, and integration tests a real server on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Protocol

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from interactive_agents.errors import (
    BackendError,
    BadResponseError,
    ConfigError,
    EndpointTimeoutError,
    PermanentEndpointError,
    RateLimitedError,
    ServerError,
)
from interactive_agents.llm._counters import CallCounters
from interactive_agents.llm._default_client import default_http_client
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._health import EndpointHealth
from interactive_agents.llm._messages import ChatMessage, Completion, Sampling, Usage
from interactive_agents.llm._probe import probe_endpoint
from interactive_agents.llm._redaction import redact
from interactive_agents.llm._retry import RetryPolicy
from interactive_agents.llm._routing import ReplicaLoad, routing_policy
from interactive_agents.llm._scheduler import EndpointGate
from interactive_agents.llm._transport import (
    HttpClient,
    HttpClientFactory,
    UnresolvableHostError,
    json_headers,
)
from interactive_agents.llm._wire import (
    ChatReply,
    NotAChatCompletion,
    chat_request,
    parse_completion,
)

PERMANENT_STATUSES = {401: "unauthorized", 403: "forbidden", 404: "not found"}
REPLICA_FAILURES = 3
"""Failures in a row (refused, timeout, 5xx) after which routing passes a replica over."""
REPLICA_COOLDOWN = 5.0
"""Seconds a failing replica is passed over before one call tries it again."""


class ChatBackend(Protocol):
    """What the actors need from a model: one chat completion, scheduled."""

    model: str

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        sampling: Sampling,
        *,
        seed: int | None = None,
        priority: int = 0,
        stream: str | None = None,
    ) -> Completion: ...

    def release(self, stream: str) -> None:
        """The dialogue role ``stream`` is over: routing may forget it."""

    async def aclose(self) -> None: ...


class _Transient(Exception):
    """A failed attempt worth retrying; carries what the final error will be.

    ``counted`` is False for the probe of a paused endpoint: it costs no retry.
    """

    def __init__(
        self, error: BackendError, retry_after: float | None = None, *, counted: bool = True
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.counted = counted


def estimate_tokens(messages: Sequence[ChatMessage]) -> int:
    """About a token per 4 UTF-8 bytes: close for English, a little low for Chinese."""
    return sum(len(m.content.encode()) for m in messages) // 4 + 4 * len(messages)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_retry_after_ms(value: str | None) -> float | None:
    """Seconds from a ``retry-after-ms`` header (milliseconds, OpenAI's and Azure's)."""
    try:
        return max(0.0, float(value) / 1000.0) if value else None
    except ValueError:
        return None


RETRY_AFTER_HEADERS = (
    ("retry-after-ms", parse_retry_after_ms),
    ("retry-after", parse_retry_after),
    # A LiteLLM proxy forwards the provider's own headers under this prefix.
    ("llm_provider-retry-after-ms", parse_retry_after_ms),
    ("llm_provider-retry-after", parse_retry_after),
)


def server_retry_after(header: Callable[[str], str | None]) -> float | None:
    """The longest wait any of the server's or a gateway's retry headers asks for, in
    seconds (None without one): behind a gateway the provider's wait is the one that
    counts, and coming back earlier only earns another 429."""
    waits = [wait for name, parse in RETRY_AFTER_HEADERS if (wait := parse(header(name)))]
    return max(waits, default=None)


@dataclass(slots=True)
class Replica:
    """One base URL of an endpoint, its HTTP client and what routing knows of it."""

    base_url: str
    client: HttpClient
    load: ReplicaLoad = field(default_factory=ReplicaLoad)
    failures: int = 0
    avoid_until: float = 0.0

    @property
    def in_flight(self) -> int:
        return self.load.in_flight


class ChatEndpoint:
    """A model behind one or more OpenAI-compatible base URLs."""

    def __init__(
        self,
        config: EndpointConfig,
        *,
        stats: CallCounters | None = None,
        http_client: HttpClientFactory = default_http_client,
        retry: RetryPolicy | None = None,
    ) -> None:
        if config.is_local:
            raise ConfigError("an endpoint needs base_urls", field="base_urls")
        self.config = config
        self.model = config.model
        self.stats = stats if stats is not None else CallCounters()
        self.retry = retry if retry is not None else RetryPolicy.for_endpoint(config)
        self.gate = EndpointGate(config.max_concurrency, config.rpm, config.tpm)
        self.replicas = [
            Replica(url.rstrip("/"), http_client(url.rstrip("/"), config.timeout))
            for url in config.base_urls
        ]
        self.health = EndpointHealth(", ".join(r.base_url for r in self.replicas), self.retry)
        self._headers = json_headers(config.api_key_env)
        self._max_bytes = config.max_response_bytes or None
        self.routing = routing_policy(
            config.routing, len(self.replicas), config.routing_epsilon, config.replica_capacity
        )
        self._loads = [replica.load for replica in self.replicas]
        self._avoided = 0
        self._single = self.replicas[0] if len(self.replicas) == 1 else None

    def _pick(self, stream: str | None) -> Replica:
        """The replica of this call's stream (:mod:`interactive_agents.llm._routing`)."""
        if self._single is not None:
            return self._single  # one base URL: nothing to choose, nothing to remember
        if self._avoided:
            now = time.monotonic()
            for replica in self.replicas:
                if not replica.load.healthy and replica.avoid_until <= now:
                    replica.load.healthy = True  # one more chance; a failure ends it
                    self._avoided -= 1
        return self.replicas[self.routing.choose(stream, self._loads)]

    def _replica_failed(self, replica: Replica) -> None:
        replica.failures += 1
        if replica.failures >= REPLICA_FAILURES and replica.load.healthy:
            replica.load.healthy = False
            replica.avoid_until = time.monotonic() + REPLICA_COOLDOWN
            self._avoided += 1

    def _replica_answered(self, replica: Replica) -> None:
        replica.failures = 0

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        sampling: Sampling,
        *,
        seed: int | None = None,
        priority: int = 0,
        stream: str | None = None,
    ) -> Completion:
        """One chat completion; ``stream`` names the dialogue role it continues, so
        routing can keep it on the replica that holds its history."""
        payload = chat_request(
            self.model,
            messages,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            max_tokens=sampling.max_tokens,
            seed=seed,
            cache_key=stream if self.config.cache_hint else None,
        )
        estimate = estimate_tokens(messages) if self.gate.limits_tokens else 0
        try:
            return await self._attempt(payload, estimate, priority, stream)
        except _Transient as failure:
            return await self._retry(failure, payload, estimate, priority, stream)
        except BackendError:
            self.stats.errors += 1
            raise

    async def _retry(
        self, failure: _Transient, payload: bytes, estimate: int, priority: int, stream: str | None
    ) -> Completion:
        """Attempts after a failed first one, under tenacity.

        The first attempt runs outside tenacity because it nearly always succeeds and
        tenacity's bookkeeping costs a few per cent of the engine's CPU per call; here
        that failure is replayed as tenacity's attempt 1, so waits and counts are the same.
        Only counted failures spend retries: probes of a paused endpoint do not.
        """
        pending = [failure]
        spent = [0]

        async def attempt() -> Completion:
            try:
                if pending:
                    raise pending.pop()
                return await self._attempt(payload, estimate, priority, stream)
            except _Transient as transient:
                spent[0] += transient.counted
                raise

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome is not None else None
            retry_after = error.retry_after if isinstance(error, _Transient) else None
            return self.retry.wait(state.attempt_number, retry_after)

        def count(state: RetryCallState) -> None:
            self.stats.retries += 1

        retrying = AsyncRetrying(
            stop=lambda state: spent[0] > self.retry.max_retries,
            wait=wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=count,
            sleep=self.retry.sleep,
            reraise=True,
        )
        try:
            async for attempt_manager in retrying:
                with attempt_manager:
                    completion = await attempt()
        except _Transient as final:
            self.stats.errors += 1
            raise final.error from final
        except BackendError:
            self.stats.errors += 1
            raise
        retries = retrying.statistics.get("attempt_number", 1) - 1
        return replace(completion, usage=replace(completion.usage, retries=retries))

    async def _attempt(
        self, payload: bytes, estimate: int, priority: int, stream: str | None
    ) -> Completion:
        probe = await self.health.admit()
        try:
            await self.gate.acquire(priority, estimate)
            try:
                replica = self._pick(stream)
                status, body, retry_after = await self._send(replica, payload)
            finally:
                self.gate.release()
        except _Transient as failure:
            self.health.failed(probe)
            failure.counted = not probe
            raise
        except BaseException:
            self.health.abandoned(probe)
            raise
        self.stats.calls += 1
        if status >= 500:
            self.health.failed(probe)
        else:
            self.health.answered(probe)
        try:
            completion = self._completion(status, body, retry_after, replica)
        except _Transient as failure:
            failure.counted = not (probe and status >= 500)
            raise
        if self.gate.limits_tokens:
            used = completion.usage.prompt_tokens + completion.usage.completion_tokens
            await self.gate.charge_tokens(used - estimate)
        return completion

    async def _post(self, replica: Replica, payload: bytes) -> tuple[int, bytes, float | None]:
        """One request on the wire: status, body and ``Retry-After`` of its answer."""
        replica.load.in_flight += 1
        self.stats.calls_in_flight += 1
        try:
            async with replica.client.post("/chat/completions", payload, self._headers) as response:
                status, body = response.status, await response.read()
                retry_after = (
                    server_retry_after(response.header) if status == 429 or status >= 500 else None
                )
        except (TimeoutError, ConnectionError):
            self._replica_failed(replica)
            raise
        finally:
            replica.load.in_flight -= 1
            self.stats.calls_in_flight -= 1
        if status >= 500:
            self._replica_failed(replica)
        else:
            self._replica_answered(replica)
        return status, body, retry_after

    async def _send(self, replica: Replica, payload: bytes) -> tuple[int, bytes, float | None]:
        """:meth:`_post` with transport failures mapped to the engine's errors."""
        try:
            return await self._post(replica, payload)
        except TimeoutError as exc:
            message = f"timed out after {self.config.timeout:g} s"
            raise _Transient(self._error(EndpointTimeoutError, message, replica)) from exc
        except UnresolvableHostError as exc:
            message = f"the host name does not resolve ({exc}): check the base URL"
            raise self._error(PermanentEndpointError, message, replica) from exc
        except ConnectionError as exc:
            message = f"connection failed: {exc}"
            raise _Transient(self._error(ServerError, message, replica)) from exc

    def _error(
        self, kind: type[BackendError], message: str, replica: Replica, status: int | None = None
    ) -> BackendError:
        """An error naming the replica, with any key the message quotes masked."""
        return kind(redact(f"{replica.base_url}: {message}"), status=status, url=replica.base_url)

    def _names_model(self, body: bytes) -> bool:
        """Whether a 400 is about the model itself (no request to this model can succeed)."""
        text = _excerpt(body, 4096)
        return (bool(self.model) and self.model in text) or "model_not_found" in text

    def _completion(
        self, status: int, body: bytes, retry_after: float | None, replica: Replica
    ) -> Completion:
        if status == 429:
            error = self._error(RateLimitedError, "429 Too Many Requests", replica, status)
            raise _Transient(error, retry_after)
        if status >= 500:
            error = self._error(ServerError, f"{status} {_excerpt(body, 200)}", replica, status)
            raise _Transient(error, retry_after)
        if status in PERMANENT_STATUSES or (status == 400 and self._names_model(body)):
            reason = PERMANENT_STATUSES.get(status, "the model was refused")
            message = f"{status} {reason} for model {self.model!r}: {_excerpt(body, 300)}"
            raise self._error(PermanentEndpointError, message, replica, status)
        if status != 200:
            message = f"{status} {_excerpt(body, 500)}"
            raise self._error(BadResponseError, message, replica, status)
        try:
            reply = parse_completion(body, max_bytes=self._max_bytes, oversize=self.config.oversize)
        except NotAChatCompletion as exc:
            message = f"not a chat completion ({exc}): {_excerpt(body, 200)!r}"
            raise _Transient(self._error(BadResponseError, message, replica, status)) from exc
        return self._counted(reply, replica)

    def _counted(self, reply: ChatReply, replica: Replica) -> Completion:
        self.stats.prompt_tokens += reply.prompt_tokens
        self.stats.completion_tokens += reply.completion_tokens
        self.stats.cached_tokens += reply.cached_tokens
        self.stats.truncated += reply.truncated
        return Completion(
            content=reply.content,
            usage=Usage(reply.prompt_tokens, reply.completion_tokens, 1, 0, reply.cached_tokens),
            finish_reason=reply.finish_reason,
            base_url=replica.base_url,
            reasoning=reply.reasoning,
            truncated=reply.truncated,
        )

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers of every request (the key's, when one is configured)."""
        return self._headers

    async def probe(self) -> list[str]:
        """Check once, before a run, that every replica answers and serves the model
        (:mod:`interactive_agents.llm._probe`); raises :class:`PermanentEndpointError`
        if one cannot, returns notes on replicas that answered with a server error."""
        return await probe_endpoint(self)

    def refusal(self, status: int, body: bytes, replica: Replica) -> None:
        """Raise what a call answered with a non-200 ``status`` and ``body`` fails with."""
        self._completion(status, body, None, replica)

    def release(self, stream: str) -> None:
        """Forget a finished stream's replica, so the routing table holds live ones only."""
        self.routing.release(stream)

    async def aclose(self) -> None:
        for replica in self.replicas:
            await replica.client.aclose()


def _excerpt(body: bytes, limit: int) -> str:
    """The start of a body for an error message."""
    return body[:limit].decode(errors="replace")
