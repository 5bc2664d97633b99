"""Live progress bars for long commands, the run driver, and the end-of-run summary."""

from __future__ import annotations

import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from interactive_agents import EngineStats

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""What interrupts a run: Ctrl-C, a kill, a closed terminal (flush, summary, exit 130)."""

Snapshot = tuple[int | None, int, str]
"""What a bar shows: the total (None while unknown), how many are done, a details line."""


@asynccontextmanager
async def live_progress(
    label: str, read: Callable[[], Snapshot], console: Console, *, enabled: bool = True
) -> AsyncIterator[None]:
    """A rich progress bar (stderr) refreshed from ``read()`` four times a second while
    the block runs, and once more at its end so the last figures stay on screen."""
    bar = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[details]}"),
        console=console,
        disable=not enabled,
    )
    task = bar.add_task(label, total=None, details="starting")

    def refresh() -> None:
        total, done, details = read()
        bar.update(task, total=total, completed=done, details=details)

    async def keep_refreshing() -> None:
        while True:
            refresh()
            await anyio.sleep(0.25)

    with bar:
        async with anyio.create_task_group() as group:
            if enabled:
                group.start_soon(keep_refreshing)
            try:
                yield
            finally:
                group.cancel_scope.cancel()
        refresh()


def engine_snapshot(stats: EngineStats) -> Snapshot:
    """Dialogues of this run (not those a resumed run found done) and the live counters."""
    tokens = stats.prompt_tokens + stats.completion_tokens
    cached = (
        f" ({stats.cached_tokens / stats.prompt_tokens:.0%} cached)" if stats.cached_tokens else ""
    )
    details = (
        f"in flight {stats.in_flight} · calls {stats.calls} · tokens {tokens:,}{cached} · "
        f"retries {stats.retries} · errors {stats.errors} · failed {stats.failed} · "
        f"{stats.rate():.1f}/min"
    )
    return max(stats.total - stats.already_done, 0), stats.finished + stats.failed, details


def run_counters(stats: EngineStats) -> dict[str, object]:
    """The counters every run command (simulate, arena) reports in its summary."""
    return {
        "already_done": stats.already_done,
        "finished": stats.finished,
        "failed": stats.failed,
        "calls": stats.calls,
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "cached_tokens": stats.cached_tokens,
        "retries": stats.retries,
        "errors": stats.errors,
        "elapsed_s": round(stats.elapsed, 2),
    }


def server_line(server: dict[str, Any], client_hit_rate: float | None) -> str:
    """One server's own figures (``server_metrics``) beside the client's cached share."""
    client = "-" if client_hit_rate is None else f"{client_hit_rate:.1%}"
    if not server["available"]:
        return f"no server metrics ({server['reason']}) · client-side cached {client}"
    rate = server["prefix_cache_hit_rate"]
    parts = [
        server["engine"],
        f"prefix-cache hit rate {'-' if rate is None else f'{rate:.1%}'} (client-side {client})",
    ]
    for name, label in (("kv_cache_usage", "KV cache"), ("requests_running", "running"),
                        ("requests_waiting", "waiting")):  # fmt: skip
        gauge = server[name]
        if gauge is not None:
            shown = (
                f"{gauge['mean']:.0%} mean, {gauge['max']:.0%} max"
                if name == "kv_cache_usage"
                else f"{gauge['mean']:.1f} mean, {gauge['max']:g} max"
            )
            parts.append(f"{label} {shown}")
    if server["preemptions"] is not None:
        parts.append(f"preemptions {server['preemptions']:g}")
    return " · ".join(parts)


def server_rows(summary: dict[str, Any]) -> dict[str, object]:
    """A run summary's rows for its servers' own metrics, beside its cached share."""
    prompt, cached = summary["prompt_tokens"], summary["cached_tokens"]
    client = cached / prompt if prompt else None
    return {
        f"server {url}": server_line(server, client)
        for url, server in summary["server_metrics"].items()
    }


def print_json(document: object) -> None:
    """One JSON document on a line of stdout (``--json``); numpy values are written too."""
    sys.stdout.write(orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY).decode() + "\n")


def summary_table(title: str, rows: dict[str, object]) -> Table:
    """A two-column table for the end-of-run summary."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows.items():
        table.add_row(key, str(value))
    return table


async def drive(
    results: AsyncIterator[object],
    stats: EngineStats,
    cancel: Callable[[], None],
    console: Console,
    *,
    show_progress: bool,
) -> bool:
    """Consume ``results`` under a progress bar; on SIGINT/SIGTERM/SIGHUP call ``cancel``.

    Returns whether the run was interrupted. The runner then exits normally: what had
    finished is flushed, and the dialogues in flight are redone by a resumed run.
    """
    interrupted = False
    progress = live_progress(
        "dialogues", lambda: engine_snapshot(stats), console, enabled=show_progress
    )
    async with progress, anyio.create_task_group() as group:

        async def on_signal() -> None:
            nonlocal interrupted
            with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
                async for _ in signals:
                    interrupted = True
                    cancel()
                    return

        group.start_soon(on_signal)
        async for _ in results:
            pass
        group.cancel_scope.cancel()
    return interrupted
