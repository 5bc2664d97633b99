"""A run split over shards: the parent's side.

::

    async with Engine(config, run_dir="runs/a") as engine:
        sharded = ShardedRun(engine, ProcessShards(run_loop, prepare), count=4)
        async for record in sharded.run(cards):
            ...

The parent is an ordinary runner opened on the run directory: it holds the directory's
lock, manifest and store (and the embedded model server, when an endpoint names no
URL, whose address the shards are given: one server for the whole run). It plays
nothing itself. It first merges what the shard directories already hold (a parent
killed before merging loses nothing), gives each shard the items of its hash that the
run directory does not hold yet, then merges the shards' new records four times a
second through its own recorder, so records reach ``dialogues.jsonl`` while the run
goes on and exactly once. Its counters are the sum of the shards'. The manifest's
``shards`` section records how the items were split and each shard's limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import anyio

from interactive_agents.errors import EngineError
from interactive_agents.runtime._counters import EngineStats
from interactive_agents.runtime._runner import Runner, RunnerState
from interactive_agents.runtime.shards._merge import Adoption, ShardMerger
from interactive_agents.runtime.shards._partition import (
    ASSIGNMENT,
    SHARDS_DIR,
    Shard,
    add_counters,
    partition,
)
from interactive_agents.runtime.shards._play import (
    ShardExecutor,
    ShardJob,
    ShardReport,
    ShardWorker,
)
from interactive_agents.runtime.store._store import FAILURES, RunStore, write_atomic

TICK = 0.25  # seconds between two merges (and progress updates)


def _adopt_all(adoptions: list[Adoption], store: RunStore) -> None:
    for name, record, companions in adoptions:
        store.adopt(name, record, companions)


class ShardedRun:
    """Plays a runner's items over ``count`` shards run by ``executor``.

    ``runner`` must be open (inside its ``async with``); ``retry_failed`` must be what it
    was opened with (failed records of the shards are then played again, not merged).
    The caller closes ``executor`` once the run has ended.
    """

    def __init__(
        self,
        runner: Runner[Any, Any],
        executor: ShardExecutor,
        count: int,
        *,
        retry_failed: bool = False,
    ) -> None:
        if count < 1:
            raise EngineError("a sharded run needs at least one shard")
        if runner.run_dir is None or runner.store is None:
            raise EngineError("a sharded run needs a run directory")
        if runner.state is not RunnerState.OPENED:
            raise EngineError(f"open the {type(runner).__name__} first: use it in 'async with'")
        self.runner = runner
        self.executor = executor
        self.out = runner.run_dir.resolve()
        self.store: RunStore = runner.store
        self.shards = [Shard(index, count) for index in range(count)]
        self.stats = EngineStats()
        self.reports: dict[str, ShardReport] = {}
        self._retry_failed = retry_failed
        self._stopping = False
        self._merger = ShardMerger(
            self.store,
            str(runner.manifest["fingerprint"]),
            force=runner.forced,
            failures=not retry_failed,
        )
        self._section: dict[str, Any] = {}
        self._workers: list[ShardWorker] = []

    def cancel(self) -> None:
        """Stop every shard (each flushes what it finished; the parent merges it)."""
        self._stopping = True
        for worker in self._workers:
            worker.stop()

    def _directories(self) -> list[Path]:
        """Every shard directory, of this shard count or an earlier one."""
        root = self.out / SHARDS_DIR
        return sorted(path for path in root.glob("*-of-*") if path.is_dir())

    async def _merge(self, directories: Iterable[Path]) -> list[dict[str, Any]]:
        adoptions = [item for path in directories for item in self._merger.pending(path)]
        if adoptions:
            await self.runner.write_store(partial(_adopt_all, adoptions))
        return [record for _, record, _ in adoptions]

    def describe(self) -> dict[str, Any]:
        """The ``shards`` section of the manifest and the summary."""
        section = dict(self._section)
        if self.reports and "per_shard" in section:
            section["per_shard"] = [
                {**entry, "status": self.reports[entry["shard"]].status}
                if entry["shard"] in self.reports
                else entry
                for entry in section["per_shard"]
            ]
        return section

    async def run(self, items: Iterable[Any]) -> AsyncIterator[dict[str, Any]]:
        """Play every item the run directory does not hold yet; yields each record as
        it is merged. Raises the error of a shard that failed once all have ended."""
        items = list(items)
        if self._retry_failed:  # the failures are played again: none stays in a shard
            for directory in self._directories():
                if (directory / FAILURES).exists():
                    write_atomic(directory / FAILURES, b"")
        for record in await self._merge(self._directories()):
            yield record
        runner = self.runner
        self.stats.total = len(items)
        todo = [item for item in items if not runner.is_done(runner.item_id(item))]
        self.stats.already_done = len(items) - len(todo)
        parts = partition(todo, runner.item_id, len(self.shards))
        spec = runner.spec()
        self._section = {
            "count": len(self.shards),
            "assignment": ASSIGNMENT.replace("N", str(len(self.shards))),
            "directory": str(self.out / SHARDS_DIR),
            **self.executor.describe(),
            "per_shard": [
                {"shard": shard.name, "items": len(part), **spec.limits(shard)}
                for shard, part in zip(self.shards, parts, strict=True)
            ],
        }
        await runner.write_store(partial(RunStore.note, section="shards", value=self._section))
        self._workers = []
        counters: dict[str, dict[str, int]] = {}
        if not self._stopping:
            for shard, part in zip(self.shards, parts, strict=True):
                if part:
                    self._workers.append(self.executor.start(ShardJob(spec, self.out, shard, part)))
        directories = [shard.directory(self.out) for shard in self.shards]
        try:
            while len(self.reports) < len(self._workers):
                await anyio.sleep(TICK)
                for worker in self._workers:
                    fresh, report = worker.poll()
                    if fresh is not None:
                        counters[worker.shard.name] = fresh
                    if report is not None:
                        counters[worker.shard.name] = report.counters
                        self.reports.setdefault(worker.shard.name, report)
                add_counters(self.stats, counters.values())
                for record in await self._merge(directories):
                    yield record
            for record in await self._merge(directories):
                yield record
        finally:
            if len(self.reports) < len(self._workers):
                self.cancel()  # left early: the shards stop; the executor's close waits
        self._raise_failures()

    def _raise_failures(self) -> None:
        """A shard that failed (or stopped while the parent did not ask) fails the run."""
        if self._stopping:
            return  # interrupted: what each shard finished is merged, a re-run resumes
        for report in self.reports.values():
            if report.status == "failed":
                raise report.exception()
            if report.status == "interrupted":
                raise ShardReport(
                    report.shard, "failed", report.counters, "crashed", "it was stopped"
                ).exception()
