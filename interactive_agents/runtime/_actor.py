"""A minimal actor: a bounded mailbox, a pool of workers, typed messages.

``ask`` sends an :class:`Envelope` carrying a one-shot :class:`Reply` and awaits it;
``tell`` sends without expecting an answer. The mailbox is an anyio memory object
stream with a fixed capacity, so a flood of requests waits at ``send`` (backpressure)
instead of piling up. Closing the mailbox lets the workers drain it and stop; if the
actor is cancelled instead, every pending ask fails with ``ActorStoppedError`` rather
than hanging. An actor holds no per-dialogue state: everything a request needs is in
its message.

An actor whose asks need no queue (``inline``) answers them in the asking task: the
caller waits for the answer anyway, and for the dialogue roles the mailbox bounded
nothing that admission and the endpoint's gate do not bound already, while each hop
cost two task switches, a reply event and, for the LLM roles, a worker task per
dialogue in flight (``docs/performance.md``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio
from anyio.abc import TaskStatus

from interactive_agents.errors import ActorStoppedError

M = TypeVar("M")
R = TypeVar("R")

log = logging.getLogger(__name__)


class Reply(Generic[R]):
    """A one-shot answer slot."""

    __slots__ = ("_error", "_event", "_value")

    def __init__(self) -> None:
        self._event = anyio.Event()
        self._value: R | None = None
        self._error: BaseException | None = None

    def set(self, value: R) -> None:
        self._value = value
        self._event.set()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._event.set()

    @property
    def done(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> R:
        await self._event.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Envelope(Generic[M, R]):
    """A message and where its answer goes (None for ``tell``)."""

    message: M
    reply_to: Reply[R] | None


class Actor(Generic[M, R]):
    """Subclasses implement :meth:`handle`; the engine runs :meth:`run` in a task group."""

    name = "actor"
    inline = False
    """True: :meth:`ask` runs :meth:`handle` in the asking task, without the mailbox (an
    ask after :meth:`stop` still fails); ``tell`` goes through the mailbox as always."""

    def __init__(self, *, workers: int = 1, capacity: int | None = None) -> None:
        self.workers = workers
        self._stopped = False
        self._send, self._receive = anyio.create_memory_object_stream[Envelope[M, R]](
            capacity if capacity is not None else max(1, workers)
        )

    async def handle(self, message: M) -> R:
        raise NotImplementedError

    async def on_stop(self) -> None:
        """Called once after the last worker has finished (also on cancellation)."""

    async def ask(self, message: M) -> R:
        if self.inline:
            if self._stopped:
                raise ActorStoppedError(f"the {self.name} actor has stopped")
            return await self.handle(message)
        reply: Reply[R] = Reply()
        await self._deliver(Envelope(message, reply))
        return await reply.wait()

    async def tell(self, message: M) -> None:
        await self._deliver(Envelope(message, None))

    async def _deliver(self, envelope: Envelope[M, R]) -> None:
        try:
            await self._send.send(envelope)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise ActorStoppedError(f"the {self.name} actor has stopped") from exc

    def stop(self) -> None:
        """Stop accepting messages; workers finish what is queued, then exit."""
        self._stopped = True
        self._send.close()

    def close(self) -> None:
        """Release the mailbox of an actor that may never have run (idempotent)."""
        self._stopped = True
        self._send.close()
        self._receive.close()

    @property
    def queued(self) -> int:
        return self._receive.statistics().current_buffer_used

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        try:
            async with anyio.create_task_group() as group:
                for _ in range(self.workers):
                    group.start_soon(self._work)
                task_status.started()
        finally:
            self._fail_pending()
            with anyio.CancelScope(shield=True):
                await self.on_stop()

    async def _work(self) -> None:
        async for envelope in self._receive:
            try:
                result = await self.handle(envelope.message)
            except Exception as exc:
                if envelope.reply_to is not None:
                    envelope.reply_to.fail(exc)
                else:
                    log.exception("%s actor failed on a told message", self.name)
                continue
            except BaseException:
                if envelope.reply_to is not None:
                    envelope.reply_to.fail(ActorStoppedError(f"the {self.name} actor stopped"))
                raise
            if envelope.reply_to is not None:
                envelope.reply_to.set(result)

    def _fail_pending(self) -> None:
        self._stopped = True
        self._send.close()
        while True:
            try:
                envelope = self._receive.receive_nowait()
            except (anyio.WouldBlock, anyio.EndOfStream, anyio.ClosedResourceError):
                break
            if envelope.reply_to is not None:
                envelope.reply_to.fail(ActorStoppedError(f"the {self.name} actor stopped"))
        self._receive.close()
