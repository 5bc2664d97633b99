"""OpenAI-compatible chat endpoints over HTTP.

One :class:`ChatEndpoint` per model: its replicas (several base URLs serving the same
model, balanced by fewest requests in flight), one HTTP client per replica (aiohttp by
default: see :mod:`.transport`), the scheduler gate, and retries with exponential
backoff and jitter on 429, 5xx, timeouts and dropped connections, honouring
``Retry-After``. The HTTP client is injectable, so unit tests use
``httpx.MockTransport`` and integration tests a real server on loopback.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import orjson
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from interactive_agents.errors import (
    BackendError,
    BadResponseError,
    ConfigError,
    EndpointTimeoutError,
    RateLimitedError,
    ServerError,
)
from interactive_agents.llm.call_counters import CallCounters
from interactive_agents.llm.scheduler import EndpointGate
from interactive_agents.llm.transport import (
    AiohttpClient,
    HttpClient,
    HttpClientFactory,
    json_body,
    json_headers,
)
from interactive_agents.method.config import EndpointConfig
from interactive_agents.method.records import ChatMessage, Completion, Sampling, Usage

MAX_RETRY_AFTER = 120.0


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
    ) -> Completion: ...

    async def aclose(self) -> None: ...


class _Transient(Exception):
    """A failed attempt worth retrying; carries what the final error will be."""

    def __init__(self, error: BackendError, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


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


_BACKOFF = wait_exponential_jitter(multiplier=0.5, max=30.0, jitter=0.5)


def _wait(retry_state: RetryCallState) -> float:
    """Exponential backoff with jitter, unless the server said how long to wait."""
    backoff = _BACKOFF(retry_state)
    outcome = retry_state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, _Transient) and error.retry_after is not None:
        return min(error.retry_after, MAX_RETRY_AFTER)
    return backoff


@dataclass(slots=True)
class Replica:
    """One base URL of an endpoint and its HTTP client."""

    base_url: str
    client: HttpClient
    in_flight: int = 0


class ChatEndpoint:
    """A model behind one or more OpenAI-compatible base URLs."""

    def __init__(
        self,
        config: EndpointConfig,
        *,
        stats: CallCounters | None = None,
        http_client: HttpClientFactory = AiohttpClient,
    ) -> None:
        if config.is_local:
            raise ConfigError("an endpoint needs base_urls", field="base_urls")
        self.config = config
        self.model = config.model
        self.stats = stats if stats is not None else CallCounters()
        self.gate = EndpointGate(config.max_concurrency, config.rpm, config.tpm)
        self.replicas = [
            Replica(url.rstrip("/"), http_client(url.rstrip("/"), config.timeout))
            for url in config.base_urls
        ]
        self._headers = json_headers(config.api_key_env)
        self._turn = 0

    def _pick(self) -> Replica:
        """Fewest requests in flight; round-robin among equals."""
        self._turn += 1
        count = len(self.replicas)
        order = [self.replicas[(self._turn + i) % count] for i in range(count)]
        return min(order, key=lambda replica: replica.in_flight)

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        sampling: Sampling,
        *,
        seed: int | None = None,
        priority: int = 0,
    ) -> Completion:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if seed is not None:
            body["seed"] = seed
        payload = json_body(body)
        estimate = estimate_tokens(messages) if self.gate.limits_tokens else 0
        try:
            return await self._attempt(payload, estimate, priority)
        except _Transient as failure:
            return await self._retry(failure, payload, estimate, priority)
        except BackendError:
            self.stats.errors += 1
            raise

    async def _retry(
        self, failure: _Transient, payload: bytes, estimate: int, priority: int
    ) -> Completion:
        """Attempts after a failed first one, under tenacity.

        The first attempt runs outside tenacity because it nearly always succeeds and
        tenacity's bookkeeping costs a few per cent of the engine's CPU per call; here
        that failure is replayed as tenacity's attempt 1, so waits and counts are the same.
        """
        pending = [failure]

        async def attempt() -> Completion:
            if pending:
                raise pending.pop()
            return await self._attempt(payload, estimate, priority)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=_wait,
            retry=retry_if_exception_type(_Transient),
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
        self.stats.retries += retries
        usage = completion.usage
        return Completion(
            completion.content,
            Usage(usage.prompt_tokens, usage.completion_tokens, usage.calls, retries),
            completion.finish_reason,
            completion.base_url,
        )

    async def _attempt(self, payload: bytes, estimate: int, priority: int) -> Completion:
        async with self.gate.slot(priority, estimate):
            replica = self._pick()
            replica.in_flight += 1
            self.stats.calls_in_flight += 1
            try:
                async with replica.client.post(
                    "/chat/completions", payload, self._headers
                ) as response:
                    status, body = response.status, await response.read()
                    retry_after = (
                        parse_retry_after(response.header("retry-after"))
                        if status == 429 or status >= 500
                        else None
                    )
            except TimeoutError as exc:
                message = f"timed out after {self.config.timeout:g} s"
                raise _Transient(self._error(EndpointTimeoutError, message, replica)) from exc
            except ConnectionError as exc:
                message = f"connection failed: {exc}"
                raise _Transient(self._error(ServerError, message, replica)) from exc
            finally:
                replica.in_flight -= 1
                self.stats.calls_in_flight -= 1
        self.stats.calls += 1
        completion = self._parse(status, body, retry_after, replica)
        if self.gate.limits_tokens:
            used = completion.usage.prompt_tokens + completion.usage.completion_tokens
            await self.gate.charge_tokens(used - estimate)
        return completion

    def _error(
        self, kind: type[BackendError], message: str, replica: Replica, status: int | None = None
    ) -> BackendError:
        return kind(f"{replica.base_url}: {message}", status=status, url=replica.base_url)

    def _parse(
        self, status: int, body: bytes, retry_after: float | None, replica: Replica
    ) -> Completion:
        if status == 429:
            error = self._error(RateLimitedError, "429 Too Many Requests", replica, status)
            raise _Transient(error, retry_after)
        if status >= 500:
            error = self._error(ServerError, f"{status} {_excerpt(body, 200)}", replica, status)
            raise _Transient(error, retry_after)
        if status != 200:
            message = f"{status} {_excerpt(body, 500)}"
            raise self._error(BadResponseError, message, replica, status)
        try:
            data = orjson.loads(body)
            choice = data["choices"][0]
            content = choice["message"].get("content") or ""
            usage = data.get("usage") or {}
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError) as exc:
            message = f"not a chat completion: {_excerpt(body, 200)!r}"
            raise self._error(BadResponseError, message, replica, status) from exc
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        self.stats.prompt_tokens += prompt_tokens
        self.stats.completion_tokens += completion_tokens
        return Completion(
            content=content,
            usage=Usage(prompt_tokens, completion_tokens, 1, 0),
            finish_reason=choice.get("finish_reason"),
            base_url=replica.base_url,
        )

    async def aclose(self) -> None:
        for replica in self.replicas:
            await replica.client.aclose()


def _excerpt(body: bytes, limit: int) -> str:
    """The start of a body for an error message."""
    return body[:limit].decode(errors="replace")
