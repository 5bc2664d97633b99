"""Process-wide choices for running the engine: the event loop and the garbage collector.

The library never makes them on its own, since they affect the whole process; the
commands, which own their process, do, and so can a service that embeds the engine
(``docs/performance.md`` measures each).
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import Awaitable, Callable
from typing import TypeVar, TypeVarTuple, Unpack

import anyio

T = TypeVar("T")
Args = TypeVarTuple("Args")


def has_uvloop() -> bool:
    """uvloop is installed (it is on Linux and macOS; Windows has no build of it)."""
    return importlib.util.find_spec("uvloop") is not None


def run_with_uvloop(func: Callable[[Unpack[Args]], Awaitable[T]], *args: *Args) -> T:
    """``anyio.run`` on asyncio with uvloop's event loop where it is installed.

    uvloop's loop does the sockets, timers and callbacks of thousands of requests in
    flight for about half the CPU of asyncio's own loop.
    """
    return anyio.run(func, *args, backend="asyncio", backend_options={"use_uvloop": has_uvloop()})


def tune_garbage_collector() -> None:
    """Fewer full collections for a batch process (15-35 % less CPU per LLM call).

    Many long-lived small objects (transcripts, requests in flight) make CPython's default
    thresholds collect far too often; freezing what start-up built and raising the
    thresholds keeps the collector off the hot path.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)
