"""A live progress bar over an engine's counters, and the end-of-run summary."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable
from types import TracebackType

import anyio
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ..stats import EngineStats


def _details(stats: EngineStats) -> str:
    tokens = stats.prompt_tokens + stats.completion_tokens
    return (
        f"in flight {stats.in_flight} · calls {stats.calls} · tokens {tokens:,} · "
        f"retries {stats.retries} · errors {stats.errors} · failed {stats.failed} · "
        f"{stats.rate():.1f}/min"
    )


class ProgressDisplay:
    """Refreshes a rich progress bar from ``stats`` a few times a second (stderr)."""

    def __init__(self, stats: EngineStats, console: Console, *, enabled: bool = True) -> None:
        self.stats = stats
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]dialogues"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[details]}"),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._scope = anyio.CancelScope()

    def _refresh(self) -> None:
        assert self._task is not None
        stats = self.stats
        todo = max(stats.total - stats.already_done, 0)
        done = stats.finished + stats.failed
        self._progress.update(self._task, total=todo, completed=done, details=_details(stats))

    async def run(self) -> None:
        if not self.enabled:
            return
        with self._scope:
            while True:
                self._refresh()
                await anyio.sleep(0.25)

    def __enter__(self) -> ProgressDisplay:
        if self.enabled:
            self._progress.start()
            self._task = self._progress.add_task("dialogues", total=None, details="starting")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._scope.cancel()
        if self.enabled:
            self._refresh()
            self._progress.stop()


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
    """Consume ``results`` under a progress bar; on SIGINT/SIGTERM call ``cancel``.

    Returns whether the run was interrupted. The runner then exits normally: what had
    finished is flushed, and the dialogues in flight are redone by a resumed run.
    """
    interrupted = False
    with ProgressDisplay(stats, console, enabled=show_progress) as progress:
        async with anyio.create_task_group() as group:
            group.start_soon(progress.run)

            async def on_signal() -> None:
                nonlocal interrupted
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for _ in signals:
                        interrupted = True
                        cancel()
                        return

            group.start_soon(on_signal)
            async for _ in results:
                pass
            group.cancel_scope.cancel()
    return interrupted
