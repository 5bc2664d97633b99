"""Shards as local processes (``simulate --workers N``): one spawned process per shard.

Each shard is a fresh interpreter (the ``spawn`` start method: no state of the parent is
inherited, and it works the same on every platform), running its runner on its own
event loop; it sends its counters and finally its report through a pipe. The process
stops its runner on SIGINT, SIGTERM or SIGHUP (the parent's ``stop`` sends SIGTERM; a
terminal's Ctrl-C reaches it directly), and Linux's parent-death signal sends it
SIGTERM if the parent is killed, so no shard outlives its run. A shard that dies
without a report is reported failed; the others go on.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import anyio

from interactive_agents.llm.local._orphan_guard import die_with_parent
from interactive_agents.runtime.shards._partition import Shard
from interactive_agents.runtime.shards._play import ShardControl, ShardJob, ShardReport, play_shard

LoopRunner = Callable[..., ShardReport]
"""``run_loop(func, *args)``: runs the async ``func(*args)`` on an event loop to its end
(the command's choice of loop: uvloop)."""

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
JOIN_TIMEOUT = 10.0


async def _serve(job: ShardJob, connection: Connection) -> ShardReport:
    control = ShardControl()
    async with anyio.create_task_group() as group:

        async def on_signal() -> None:
            with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
                async for _ in signals:
                    control.cancel()

        group.start_soon(on_signal)
        report = await play_shard(job, lambda c: connection.send(("progress", c)), control)
        group.cancel_scope.cancel()
    return report


def shard_process_main(
    job: ShardJob,
    connection: Connection,
    parent: int,
    run_loop: LoopRunner,
    prepare: Callable[[], None] | None,
) -> None:
    """The shard process: armed to stop with its parent, then plays and reports."""
    if not die_with_parent(parent, signal.SIGTERM):
        return
    if prepare is not None:
        prepare()
    report = run_loop(_serve, job, connection)
    connection.send(("done", report))
    connection.close()


class _ProcessWorker:
    def __init__(self, shard: Shard, process: BaseProcess, connection: Connection) -> None:
        self.shard = shard
        self._process = process
        self._connection = connection
        self._counters: dict[str, int] = {}
        self._report: ShardReport | None = None
        self._stopped = False

    def poll(self) -> tuple[dict[str, int] | None, ShardReport | None]:
        fresh: dict[str, int] | None = None
        while self._report is None and self._connection.poll():
            try:
                kind, payload = self._connection.recv()
            except (EOFError, OSError):
                break
            if kind == "progress":
                fresh = self._counters = payload
            else:
                self._report = payload
        if self._report is None and not self._process.is_alive():
            self._process.join()
            code = self._process.exitcode
            stopped = self._stopped and code in (-signal.SIGTERM, -signal.SIGINT)
            self._report = ShardReport(
                self.shard.name,
                "interrupted" if stopped else "failed",
                self._counters,
                None if stopped else "crashed",
                None if stopped else f"its process ended without a report (exit code {code})",
            )
        return fresh, self._report

    def stop(self) -> None:
        self._stopped = True
        if self._process.is_alive():
            self._process.terminate()

    def close(self) -> None:
        self._process.join(JOIN_TIMEOUT)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._connection.close()


class ProcessShards:
    """Runs each shard in a spawned local process: ``run_loop(func, *args)`` runs its
    event loop (``anyio.run`` by default; the commands use uvloop), after ``prepare()``
    (the commands tune the garbage collector). Both must be importable functions."""

    name = "processes"

    def __init__(
        self, run_loop: LoopRunner = anyio.run, prepare: Callable[[], None] | None = None
    ) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._run_loop = run_loop
        self._prepare = prepare
        self._workers: list[_ProcessWorker] = []

    def start(self, job: ShardJob) -> _ProcessWorker:
        receive, send = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=shard_process_main,
            args=(job, send, os.getpid(), self._run_loop, self._prepare),
            name=f"shard-{job.shard.name}",
        )
        process.start()
        send.close()
        worker = _ProcessWorker(job.shard, process, receive)
        self._workers.append(worker)
        return worker

    def close(self) -> None:
        for worker in self._workers:
            worker.close()

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name}
