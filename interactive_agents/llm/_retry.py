"""How long an endpoint call waits before it tries again, and on what clock.

A :class:`RetryPolicy` is built from an :class:`EndpointConfig` for every endpoint;
passing one to :class:`~interactive_agents.llm._endpoint.ChatEndpoint` replaces its
``sleep`` and ``clock``, so tests run the whole backoff and outage logic on virtual time
instead of waiting for it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from interactive_agents.llm._endpoint_config import EndpointConfig


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff, its cap, the health thresholds, and the sleep and clock they run on."""

    max_retries: int = 6
    max_wait: float = 30.0
    initial_wait: float = 0.5
    jitter: float = 0.5
    health_window: float = 10.0
    outage_limit: float = 300.0
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def for_endpoint(cls, config: EndpointConfig, **overrides: object) -> RetryPolicy:
        """The policy an endpoint's configuration asks for, with ``overrides`` on top."""
        settings: dict[str, object] = {
            "max_retries": config.max_retries,
            "max_wait": config.max_retry_wait,
            "health_window": config.health_window,
            "outage_limit": config.outage_limit,
        }
        return cls(**(settings | overrides))  # type: ignore[arg-type]

    def wait(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait after failed attempt number ``attempt`` (1-based).

        Exponential backoff with jitter; a server's ``Retry-After`` is a lower bound (a
        rate-limited client that comes back early only earns another 429), and
        ``max_wait`` caps both, so ``Retry-After: 86400`` cannot park a dialogue.
        """
        backoff: float = self.initial_wait * 2.0 ** min(attempt - 1, 60)
        wait = min(backoff, self.max_wait) + random.uniform(0, self.jitter)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return max(0.0, min(wait, self.max_wait))
