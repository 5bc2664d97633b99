"""What a shard does in its own process (or Ray actor): play its items into its own run
directory, publishing its counters while it runs, and report how it ended.

Everything that crosses to the shard (:class:`ShardJob`) and back (:class:`ShardReport`,
the counters) is plain picklable data; errors come back as their kind and message and
are raised again by the parent as the same kind of error, so the exit codes of a
sharded run are those of a run in one process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import anyio

from interactive_agents.errors import (
    EndpointDownError,
    EngineError,
    RunStorageError,
    ShardFailedError,
)
from interactive_agents.runtime.shards._partition import RunnerSpec, Shard, counters_of

PUBLISH_EVERY = 0.25  # seconds between two counter reports of a shard

ErrorKind = Literal["storage", "unavailable", "usage", "crashed"]
_ERRORS: dict[ErrorKind, Callable[[str], EngineError]] = {
    "storage": RunStorageError,
    "unavailable": EndpointDownError,
    "usage": EngineError,
    "crashed": ShardFailedError,
}


@dataclass(frozen=True, slots=True)
class ShardJob:
    """A shard's work: the runner to build, where, and the items it plays."""

    spec: RunnerSpec
    out: Path
    shard: Shard
    items: Sequence[Any]

    @property
    def directory(self) -> Path:
        return self.shard.directory(self.out)


@dataclass(frozen=True, slots=True)
class ShardReport:
    """How a shard ended: ``complete``, ``interrupted`` (stopped by the parent) or
    ``failed`` (with the kind and text of the error)."""

    shard: str
    status: Literal["complete", "interrupted", "failed"]
    counters: dict[str, int]
    kind: ErrorKind | None = None
    error: str | None = None

    def exception(self) -> EngineError:
        """The error to raise in the parent for a failed shard."""
        assert self.kind is not None
        advice = "; the others' records are merged: re-run the same command to finish it"
        return _ERRORS[self.kind](
            f"shard {self.shard}: {self.error}{advice if self.kind == 'crashed' else ''}"
        )


def _single(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def shard_error_kind(error: BaseException) -> ErrorKind:
    """How the parent re-raises a shard's error (and so which exit code it gives)."""
    if isinstance(error, RunStorageError):
        return "storage"
    if isinstance(error, EndpointDownError):
        return "unavailable"
    if isinstance(error, EngineError | OSError):  # bad input, an endpoint refusing the run
        return "usage"
    return "crashed"


class ShardControl:
    """Stops a shard's runner from its own event loop (a signal, a Ray call)."""

    def __init__(self) -> None:
        self.cancelled = False
        self._cancel: Callable[[], None] | None = None

    def bind(self, cancel: Callable[[], None]) -> None:
        self._cancel = cancel
        if self.cancelled:
            cancel()

    def cancel(self) -> None:
        self.cancelled = True
        if self._cancel is not None:
            self._cancel()


async def play_shard(
    job: ShardJob, publish: Callable[[dict[str, int]], None], control: ShardControl
) -> ShardReport:
    """Play the job's items; publish the counters every quarter second and at the end."""
    runner = job.spec.build(job.directory, job.shard)
    stats = runner.stats

    async def keep_publishing() -> None:
        while True:
            publish(counters_of(stats))
            await anyio.sleep(PUBLISH_EVERY)

    try:
        async with runner:
            control.bind(runner.cancel)
            async with anyio.create_task_group() as group:
                group.start_soon(keep_publishing)
                if not control.cancelled:
                    async for _ in runner.run(job.items):
                        pass
                group.cancel_scope.cancel()
    except Exception as exc:
        error = _single(exc)
        with contextlib.suppress(Exception):
            publish(counters_of(stats))
        return ShardReport(
            job.shard.name, "failed", counters_of(stats), shard_error_kind(error), str(error)
        )
    publish(counters_of(stats))
    status: Literal["complete", "interrupted"] = "interrupted" if control.cancelled else "complete"
    return ShardReport(job.shard.name, status, counters_of(stats))


class ShardWorker(Protocol):
    """A shard started by an executor."""

    shard: Shard

    def poll(self) -> tuple[dict[str, int] | None, ShardReport | None]:
        """Without waiting: the latest counters (None: none new) and the report once it
        has ended (a shard that died without one is reported failed)."""

    def stop(self) -> None:
        """Ask the shard to stop: it cancels its dialogues, flushes and reports."""


class ShardExecutor(Protocol):
    """Where shards run: local processes, or actors on a Ray cluster."""

    name: str

    def start(self, job: ShardJob) -> ShardWorker: ...

    def close(self) -> None:
        """Release everything the executor started (after every shard has reported)."""

    def describe(self) -> dict[str, Any]:
        """What the manifest and the summary say of the executor."""
