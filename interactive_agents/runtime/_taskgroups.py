"""A task group hosted by a task of its own, so that cancelling it spares the caller.

A task group entered in ``__aenter__`` wraps the body of the caller's ``async with``:
cancelling it (to stop the sessions on Ctrl-C, say) would cancel the caller too. A
:class:`HostedGroup` lives in a child task instead; ``aclose`` lets its tasks finish,
``cancel`` stops them, and neither touches the code that owns it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import anyio
from anyio.abc import TaskGroup, TaskStatus

from interactive_agents.errors import EndpointUnusableError


class HostedGroup:
    """Start with ``await parent.start(group.host)``; close with ``await group.aclose()``."""

    def __init__(self) -> None:
        self._group: TaskGroup | None = None
        self._closing = anyio.Event()
        self._done = anyio.Event()

    async def host(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            async with anyio.create_task_group() as group:
                self._group = group
                task_status.started()
                await self._closing.wait()
        finally:
            self._done.set()

    @property
    def group(self) -> TaskGroup:
        if self._group is None:
            raise RuntimeError("the hosted group has not started")
        return self._group

    def start_soon(self, function: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        self.group.start_soon(function, *args)

    async def start(self, function: Callable[..., Coroutine[Any, Any, Any]]) -> Any:
        return await self.group.start(function)

    def cancel(self) -> None:
        """Cancel every task of the group (the host then finishes on its own)."""
        if self._group is not None:
            self._group.cancel_scope.cancel()

    async def aclose(self) -> None:
        """Let the tasks finish, then wait for the group to end."""
        self._closing.set()
        await self._done.wait()


async def concurrently(*steps: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``steps`` at once; if one fails, the others are cancelled and its error is
    raised as itself (a run-stopping EndpointUnusableError first), not as a group, so
    that a dialogue's failure record names the real cause."""
    try:
        async with anyio.create_task_group() as group:
            for step in steps:
                group.start_soon(step)
    except BaseExceptionGroup as errors:
        leaves = list(_leaves(errors))
        stopping = [e for e in leaves if isinstance(e, EndpointUnusableError)]
        raise (stopping or leaves)[0] from None


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error
