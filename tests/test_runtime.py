"""How commands run: on uvloop's loop where it is installed, with the collector tuned."""

from __future__ import annotations

import asyncio
import gc

from interactive_agents import runtime


async def loop_module(offset: int) -> tuple[str, int]:
    return type(asyncio.get_running_loop()).__module__, offset + 1


def test_commands_run_on_uvloop_and_return_the_result() -> None:
    assert runtime.has_uvloop()  # a dependency of the engine on this platform
    module, value = runtime.run_with_uvloop(loop_module, 41)
    assert module.startswith("uvloop")
    assert value == 42


def test_tuning_the_collector_freezes_start_up_objects() -> None:
    thresholds = gc.get_threshold()
    try:
        runtime.tune_garbage_collector()
        assert gc.get_threshold() == (50_000, 20, 10)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
