"""The scheduler: concurrency caps, priority order, rate limits, cancellation."""

from __future__ import annotations

import anyio
import pytest
from anyio import wait_all_tasks_blocked
from anyio.lowlevel import checkpoint

from interactive_agents.llm._scheduler import EndpointGate, PriorityLimiter

pytestmark = pytest.mark.anyio


async def test_waiters_are_served_lowest_priority_value_first() -> None:
    limiter = PriorityLimiter(1)
    await limiter.acquire(0)
    order: list[int] = []

    async def waiter(priority: int) -> None:
        await limiter.acquire(priority)
        order.append(priority)
        limiter.release()

    async with anyio.create_task_group() as group:
        for priority in (5, 3, 9, 1, 3):
            group.start_soon(waiter, priority)
            await wait_all_tasks_blocked()
        assert limiter.waiting == 5
        limiter.release()
    assert order == [1, 3, 3, 5, 9]


async def test_concurrency_never_exceeds_the_limit() -> None:
    gate = EndpointGate(concurrency=3)
    active = 0
    peak = 0

    async def call(priority: int) -> None:
        nonlocal active, peak
        async with gate.slot(priority, 0):
            active += 1
            peak = max(peak, active)
            for _ in range(5):
                await checkpoint()
            active -= 1

    async with anyio.create_task_group() as group:
        for priority in range(50):
            group.start_soon(call, priority)
    assert peak == 3 and gate.slots.peak_in_use == 3 and gate.slots.in_use == 0


async def test_a_cancelled_waiter_does_not_lose_a_slot() -> None:
    limiter = PriorityLimiter(1)
    await limiter.acquire()
    async with anyio.create_task_group() as group:
        group.start_soon(limiter.acquire, 1)
        await wait_all_tasks_blocked()
        group.cancel_scope.cancel()
    limiter.release()
    with anyio.fail_after(1):
        await limiter.acquire()
    assert limiter.in_use == 1


async def test_requests_per_minute_limit_holds_back_the_burst() -> None:
    gate = EndpointGate(concurrency=100, rpm=120)  # two per second, bucket of two
    started = 0

    async def call() -> None:
        nonlocal started
        async with gate.slot(0, 0):
            started += 1

    with anyio.move_on_after(0.2):
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(call)
    assert started == 2


async def test_tokens_per_minute_limit_holds_back_large_requests() -> None:
    gate = EndpointGate(concurrency=100, tpm=600)  # 100 tokens per 10 s bucket
    done = 0

    async def call() -> None:
        nonlocal done
        async with gate.slot(0, 60):
            done += 1

    with anyio.move_on_after(0.2):
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(call)
    assert done == 1
