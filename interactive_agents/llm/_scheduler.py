"""The one place that decides when an LLM call may go.

Per endpoint: a concurrency limit whose free slots go to the waiting request with the
lowest priority value first (the engine gives each session its admission number, so
sessions already in progress overtake new ones and finished dialogues stream out
early), then requests-per-minute and tokens-per-minute limits (aiolimiter leaky
buckets, sized so that at most about a second's worth of requests can burst).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import anyio
from aiolimiter import AsyncLimiter


@dataclass(order=True, slots=True)
class _Waiter:
    priority: int
    sequence: int
    event: anyio.Event = field(compare=False)
    granted: bool = field(default=False, compare=False)
    abandoned: bool = field(default=False, compare=False)


class PriorityLimiter:
    """A counting semaphore that wakes waiters in priority order, FIFO among equals."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("slots must be at least 1")
        self._free = slots
        self._waiters: list[_Waiter] = []
        self._sequence = itertools.count()
        self.in_use = 0
        self.peak_in_use = 0

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.abandoned)

    async def acquire(self, priority: int = 0) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            self._taken()
            return
        waiter = _Waiter(priority, next(self._sequence), anyio.Event())
        heapq.heappush(self._waiters, waiter)
        try:
            await waiter.event.wait()
        except BaseException:
            if waiter.granted:
                self._pass_on()
            else:
                waiter.abandoned = True
            raise
        self._taken()

    def release(self) -> None:
        self.in_use -= 1
        self._pass_on()

    def _pass_on(self) -> None:
        """Hand a freed slot to the most urgent live waiter, or put it back."""
        while self._waiters:
            waiter = heapq.heappop(self._waiters)
            if not waiter.abandoned:
                waiter.granted = True
                waiter.event.set()
                return
        self._free += 1

    def _taken(self) -> None:
        self.in_use += 1
        self.peak_in_use = max(self.peak_in_use, self.in_use)


def _leaky_bucket(per_minute: int, burst_seconds: float) -> AsyncLimiter:
    """A limiter of ``per_minute`` whose bucket holds ``burst_seconds`` worth (at least 1)."""
    capacity = max(1.0, per_minute * burst_seconds / 60)
    return AsyncLimiter(capacity, capacity * 60 / per_minute)


class EndpointGate:
    """Concurrency, RPM and TPM limits of one endpoint (all its replicas together)."""

    def __init__(self, concurrency: int, rpm: int = 0, tpm: int = 0) -> None:
        self.slots = PriorityLimiter(concurrency)
        self._requests = _leaky_bucket(rpm, 1.0) if rpm > 0 else None
        self._tokens = _leaky_bucket(tpm, 10.0) if tpm > 0 else None

    @property
    def limits_tokens(self) -> bool:
        """Whether a TPM budget is set (only then are a request's tokens worth estimating)."""
        return self._tokens is not None

    async def acquire(self, priority: int, estimated_tokens: int) -> None:
        """Take one request slot, once the rate limits allow the request to go; every
        return is paired with one :meth:`release` (a plain pair, not a context manager:
        it is on the path of every call)."""
        await self.slots.acquire(priority)
        try:
            if self._requests is not None:
                await self._requests.acquire()
            if self._tokens is not None:
                await self.charge_tokens(estimated_tokens)
        except BaseException:
            self.slots.release()
            raise

    def release(self) -> None:
        """Give back the slot of a finished request."""
        self.slots.release()

    @asynccontextmanager
    async def slot(self, priority: int, estimated_tokens: int) -> AsyncIterator[None]:
        """:meth:`acquire` and :meth:`release` around a block."""
        await self.acquire(priority, estimated_tokens)
        try:
            yield
        finally:
            self.release()

    async def charge_tokens(self, tokens: int) -> None:
        """Count tokens against the TPM budget (waits when the budget is spent)."""
        if self._tokens is None or tokens <= 0:
            return
        capacity = self._tokens.max_rate
        while tokens > 0:
            amount = min(float(tokens), capacity)
            await self._tokens.acquire(amount)
            tokens -= int(amount)
