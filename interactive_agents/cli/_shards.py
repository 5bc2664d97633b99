"""``--workers N`` and ``--ray ADDRESS`` of the run commands (simulate, arena): play the
items in this process, or over shards in local processes or on a Ray cluster."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import anyio
import click
from rich.console import Console
from rich.table import Table

from interactive_agents import EngineStats
from interactive_agents.cli._options import option, overrides
from interactive_agents.cli._progress import drive
from interactive_agents.llm import watch_server_metrics
from interactive_agents.runtime import (
    ProcessShards,
    Runner,
    ShardedRun,
    ShardExecutor,
    run_with_uvloop,
    tune_garbage_collector,
)

F = TypeVar("F", bound=Callable[..., Any])


def shard_options(command: F) -> F:
    """The two options; :func:`shard_choice` reads them back."""
    command = option(
        "--ray",
        key="ray",
        group=_SHARDS,
        metavar="ADDRESS",
        help="Run the shards as Ray actors: 'local' starts a cluster on this machine, "
        "else a cluster's address (auto, ray://head:10001). Needs the ray extra.",
    )(command)
    return option(
        "--workers",
        key="workers",
        group=_SHARDS,
        type=click.IntRange(min=1),
        default_text="1",
        help="Shards of the run: N local processes (1: this process alone); with "
        "--ray, N actors (default: the cluster's CPUs).",
    )(command)


_SHARDS = "shards"


@dataclass(frozen=True, slots=True)
class ShardChoice:
    """How a run is split: ``workers`` shards (None: one, or the cluster's CPUs with Ray),
    as local processes or as actors of the Ray cluster at ``ray``."""

    workers: int | None = None
    ray: str | None = None


def shard_choice(ctx: click.Context) -> ShardChoice:
    """The shard options given on the command line."""
    return ShardChoice(**overrides(ctx, _SHARDS))


@dataclass(frozen=True, slots=True)
class Sharding:
    """The executor of a sharded run and its number of shards."""

    executor: ShardExecutor
    count: int


@asynccontextmanager
async def shard_executor(choice: ShardChoice) -> AsyncIterator[Sharding | None]:
    """The run's shards as chosen (None: play in this process). Started before the run
    directory is touched, so a missing Ray is reported first (exit 2)."""
    workers, address = choice.workers, choice.ray
    if address is None and (workers or 1) == 1:
        yield None
        return
    executor: Any
    if address is not None:
        from interactive_agents.runtime import RayShards

        cpus = workers or os.cpu_count() or 1
        executor = RayShards(address, cpus=cpus, prepare=tune_garbage_collector)
        count = workers or executor.cpus
    else:
        executor = ProcessShards(run_with_uvloop, tune_garbage_collector)
        count = workers
    try:
        yield Sharding(executor, count)
    finally:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(executor.close)


@dataclass(frozen=True, slots=True)
class Played:
    """What a run command reports: the counters, whether it was interrupted, and how it
    was split (None: in this process)."""

    stats: EngineStats
    interrupted: bool
    shards: dict[str, Any] | None
    server_metrics: dict[str, dict[str, Any]] = field(default_factory=dict)


async def play(
    runner: Runner[Any, Any],
    items: Iterable[Any],
    sharding: Sharding | None,
    console: Console,
    *,
    retry_failed: bool,
    show_progress: bool,
) -> Played:
    """Play ``items`` on the open ``runner``, or over its shards, under a progress bar,
    after its notes (a concurrency capped, a server answering errors to the probe) and
    with its servers' own metrics read meanwhile."""
    for note in runner.notes:
        console.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    async with watch_server_metrics(runner.base_urls) as watch:
        if sharding is None:
            interrupted = await drive(
                runner.run(items), runner.stats, runner.cancel, console, show_progress=show_progress
            )
            played = Played(runner.stats, interrupted, None)
        else:
            sharded = ShardedRun(
                runner, sharding.executor, sharding.count, retry_failed=retry_failed
            )
            interrupted = await drive(
                sharded.run(items),
                sharded.stats,
                sharded.cancel,
                console,
                show_progress=show_progress,
            )
            played = Played(sharded.stats, interrupted, sharded.describe())
    return replace(played, server_metrics=watch.report())


def shards_table(section: dict[str, Any]) -> Table:
    """Each shard's items, status and share of the limits (0: unlimited)."""
    title = f"{section['count']} shards ({section['executor']}), {section['assignment']}"
    table = Table(title=title, title_justify="left")
    rows = section["per_shard"]
    endpoints = list(rows[0]["endpoints"]) if rows else []
    for column in ("shard", "items", "status", "in flight", *endpoints):
        table.add_column(column, justify="left" if column in ("shard", "status") else "right")
    for row in rows:
        limits = [
            "/".join(str(row["endpoints"][name][key]) for key in ("concurrency", "rpm", "tpm"))
            for name in endpoints
        ]
        table.add_row(
            row["shard"], str(row["items"]), row.get("status", ""), str(row["max_in_flight"]),
            *limits,
        )  # fmt: skip
    table.caption = "endpoints: concurrency/rpm/tpm per shard (0: no limit)"
    return table
