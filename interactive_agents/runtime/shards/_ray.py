"""Shards as Ray actors (``simulate --ray ADDRESS``): the cluster runs the shards.

Ray is the distributed engine; this module only maps shards onto it. Each shard is an
async actor reserving one CPU: its runner plays on the actor's own event loop, next to
the small ``counters`` and ``stop`` methods the driver calls, so stopping a shard is a
plain call on the loop it runs on. ``ADDRESS`` ``local`` starts a cluster of this
machine for the run (``ray.init(num_cpus=...)``) and stops it at the end; any other
address joins a running cluster (``ray.init(address=...)``, e.g. ``auto`` or
``ray://head:10001``).

Records travel through the file system: every shard writes its run directory under
``OUT/shards/``, which the driver merges, so on a cluster of several machines ``OUT``
must be on a file system every node sees (NFS, a shared volume) at the same path, and
the package must be installed on every node. Ray is imported only here, and only when
a command is asked for it; without it the command fails with the install hint.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from interactive_agents.errors import ConfigError, install_hint
from interactive_agents.runtime.shards._partition import Shard
from interactive_agents.runtime.shards._play import ShardControl, ShardJob, ShardReport, play_shard

INSTALL_HINT = install_hint("ray")
LOCAL = "local"


def import_ray() -> Any:
    """The ``ray`` module, or a ConfigError naming ``--ray`` and the install hint."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report sent home
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(f"Ray is not installed ({exc}): {INSTALL_HINT}", field="--ray") from exc
    return ray


class ShardActor:
    """One shard on a Ray worker (wrapped by ``ray.remote`` when Ray is in use)."""

    def __init__(self, job: ShardJob, prepare: Callable[[], None] | None) -> None:
        if prepare is not None:
            prepare()
        self._job = job
        self._control = ShardControl()
        self._counters: dict[str, int] = {}

    async def run(self) -> ShardReport:
        return await play_shard(self._job, self._publish, self._control)

    def _publish(self, counters: dict[str, int]) -> None:
        self._counters = counters

    async def counters(self) -> dict[str, int]:
        return self._counters

    async def stop(self) -> None:
        self._control.cancel()


class _RayWorker:
    def __init__(self, ray: Any, shard: Shard, actor: Any) -> None:
        self.shard = shard
        self._ray = ray
        self.actor = actor
        self._run = actor.run.remote()
        self._counting: Any = None
        self._counters: dict[str, int] = {}
        self._report: ShardReport | None = None

    def _ready(self, ref: Any) -> bool:
        ready, _ = self._ray.wait([ref], timeout=0)
        return bool(ready)

    def poll(self) -> tuple[dict[str, int] | None, ShardReport | None]:
        fresh: dict[str, int] | None = None
        if self._report is None and self._ready(self._run):
            try:
                self._report = self._ray.get(self._run)
            except self._ray.exceptions.RayError as exc:
                self._report = ShardReport(
                    self.shard.name, "failed", self._counters, "crashed", f"its actor died: {exc}"
                )
        if self._report is not None:
            return self._report.counters, self._report
        if self._counting is not None and self._ready(self._counting):
            try:
                fresh = self._counters = self._ray.get(self._counting)
            except self._ray.exceptions.RayError:
                fresh = None
            self._counting = None
        if self._counting is None:
            self._counting = self.actor.counters.remote()
        return fresh, None

    def stop(self) -> None:
        if self._report is None:
            self.actor.stop.remote()


class RayShards:
    """Runs each shard as an actor of a Ray cluster (``address``: ``local`` or a
    cluster's address); ``cpus`` sizes a local cluster."""

    name = "ray"

    def __init__(
        self, address: str, *, cpus: int = 2, prepare: Callable[[], None] | None = None
    ) -> None:
        self._ray = ray = import_ray()
        self.address = address
        self._prepare = prepare
        if address == LOCAL:
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
        self._actor_class = ray.remote(num_cpus=1)(ShardActor)
        self._workers: list[_RayWorker] = []

    @property
    def cpus(self) -> int:
        """The CPUs of the cluster (how many shards run at once)."""
        return int(self._ray.cluster_resources().get("CPU", 1))

    def start(self, job: ShardJob) -> _RayWorker:
        actor = self._actor_class.remote(job, self._prepare)
        worker = _RayWorker(self._ray, job.shard, actor)
        self._workers.append(worker)
        return worker

    def close(self) -> None:
        for worker in self._workers:
            self._ray.kill(worker.actor)
        self._ray.shutdown()

    def describe(self) -> dict[str, Any]:
        return {"executor": self.name, "address": self.address}
