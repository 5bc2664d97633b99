"""What the routing benchmarks share: the sessions they route, and a timed run of them
through the engine, so that the mock's figures and the real servers' are of one run."""

from __future__ import annotations

import tempfile
import time

from interactive_agents import Engine, EngineStats, RoleCard, RunConfig

COMPLAINT = (
    "Since the reorganisation at work I sleep badly, replay every meeting at night and "
    "feel I am failing both my team and my family; I would like to find some calm again."
)


def sessions(prefix: str, count: int, digits: int) -> list[RoleCard]:
    """``count`` cards ``{prefix}-0…``, each with its own complaint; the ids keep
    ``digits`` digits since affinity routing hashes a stream's dialogue id."""
    return [
        RoleCard(id=f"{prefix}-{i:0{digits}d}", chief_complaint=f"{COMPLAINT} (case {i})")
        for i in range(count)
    ]


async def timed_run(config: RunConfig, cards: list[RoleCard]) -> tuple[float, EngineStats]:
    """Every card through the engine into a temporary run directory: the wall seconds
    (closing the engine included) and the engine's counters."""
    with tempfile.TemporaryDirectory() as run_dir:
        started = time.perf_counter()
        async with Engine(config, run_dir=run_dir) as engine:
            async for _ in engine.run(cards):
                pass
        return time.perf_counter() - started, engine.stats
