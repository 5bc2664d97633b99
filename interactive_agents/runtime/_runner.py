"""The generic runner under the simulation :class:`~.engine.Engine` and the arena.

A runner plays many dialogues at once into a run directory. What kind of dialogue it
plays (Algorithm 1's session, Algorithm 2's arena dialogue) is its subclass's business;
everything around it is the same for both: the lifecycle, the run store (manifest,
resume, configuration check), the embedded-model fallback, admission with priority for
dialogues admitted earlier, the single recorder, ``submit()``/``results()``/``run()``/
``cancel()`` and the live counters.

A run stops at once, marking no dialogue failed, when an endpoint becomes unusable
(:class:`~interactive_agents.errors.EndpointUnusableError`) or the run directory cannot
be written (:class:`~interactive_agents.errors.RunStorageError`): the error leaves the
``async with`` block, and a re-run on the same directory does what was left.
"""

from __future__ import annotations

import contextlib
import enum
import itertools
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from interactive_agents.errors import (
    EndpointUnusableError,
    EngineError,
    PermanentEndpointError,
    RunStorageError,
    SessionCancelledError,
)
from interactive_agents.llm._endpoint import ChatEndpoint
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Usage
from interactive_agents.llm.local._server import LocalServer, LocalServerOptions
from interactive_agents.method._records import FailureRecord, Turn
from interactive_agents.runtime._actor import Actor, Reply
from interactive_agents.runtime._counters import EngineStats
from interactive_agents.runtime._dialogue_loop import DialogueLoop
from interactive_agents.runtime._roles import RecorderActor
from interactive_agents.runtime._taskgroups import HostedGroup
from interactive_agents.runtime.store._store import RunStore

if TYPE_CHECKING:
    from interactive_agents.runtime.shards._partition import RunnerSpec

W = TypeVar("W")
R = TypeVar("R")
B = TypeVar("B")

RunStopper = EndpointUnusableError | RunStorageError
"""The errors that end a whole run rather than one dialogue."""
RUN_STOPPERS = (EndpointUnusableError, RunStorageError)


def package_version() -> str:
    try:
        return version("interactive-agents")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


class RunnerState(enum.Enum):
    """A runner is entered once: UNOPENED, then OPENED inside ``async with``, then CLOSED."""

    UNOPENED = 1
    OPENED = 2
    CLOSED = 3


class DialogueHandle(Generic[R]):
    """A submitted dialogue: await its result, or cancel it."""

    def __init__(self, card_id: str) -> None:
        self.card_id = card_id
        self._reply: Reply[R] = Reply()
        self._scope = anyio.CancelScope()

    @property
    def done(self) -> bool:
        return self._reply.done

    def cancel(self) -> None:
        self._scope.cancel()

    async def result(self) -> R:
        """The record, once written; raises SessionCancelledError if cancelled (or the
        error that stopped the whole run)."""
        return await self._reply.wait()


class Runner(ABC, Generic[W, R]):
    """Plays dialogues of work items ``W`` (cards, matches) into records ``R``.

    A kind of run whose dialogue is all in its transcript sets ``journals_turns``: each
    completed turn is journaled in the run directory before the dialogue goes on, and a
    resumed run continues an unfinished dialogue after its last journaled turn (others
    restart unfinished dialogues from their first turn).
    """

    journals_turns = False

    def __init__(
        self,
        *,
        run_dir: str | Path | None,
        max_in_flight: int,
        force: bool,
        retry_failed: bool,
        local_model: str | None = None,
    ) -> None:
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.stats = EngineStats()
        self.local_server: LocalServer | None = None
        self.manifest: dict[str, object] = {}
        self.notes: list[str] = []
        self.state = RunnerState.UNOPENED
        self._max_in_flight = max_in_flight
        self._local_model = local_model
        self._force = force
        self._retry_failed = retry_failed
        self._store = self._new_store(self.run_dir) if self.run_dir is not None else None
        self._done: set[str] = set()
        self._handles: dict[str, DialogueHandle[R]] = {}
        self._order = itertools.count()
        self._admission = anyio.Semaphore(max_in_flight)
        self._stack: AsyncExitStack | None = None
        self._actor_group = HostedGroup()
        self._sessions = HostedGroup()
        self._recorder: RecorderActor | None = None
        self._stopped_by: RunStopper | None = None
        self._streams: dict[MemoryObjectReceiveStream[R], anyio.CancelScope] = {}
        self._checked: list[ChatEndpoint] = []

    # -- what a kind of run defines -------------------------------------------------

    def _new_store(self, path: Path) -> RunStore:
        return RunStore(path)

    @abstractmethod
    def _endpoints(self) -> Sequence[EndpointConfig]:
        """The endpoints the run will call (those naming no URL need the local model)."""

    @abstractmethod
    async def _prepare(
        self, stack: AsyncExitStack, local: Callable[[EndpointConfig], EndpointConfig]
    ) -> dict[str, Any]:
        """Build backends and context (``local`` maps an endpoint onto the embedded
        server); return the manifest. Nothing may be written yet: configuration errors
        must come out of here before the run directory is touched."""

    @abstractmethod
    def _actors(self) -> Sequence[Actor[Any, Any]]:
        """The actors the dialogues talk to (built by :meth:`_prepare`)."""

    @abstractmethod
    def item_id(self, item: W) -> str:
        """The id of the record an item becomes (a card id, a match id)."""

    @abstractmethod
    def _dialogue(self, item: W, priority: int) -> DialogueLoop[Any]:
        """The dialogue that plays ``item``."""

    @property
    def base_urls(self) -> list[str]:
        """The base URLs of the runner's endpoints (once it is open): the servers whose
        own metrics a command reads beside the run's counts."""
        urls = (replica.base_url for endpoint in self._checked for replica in endpoint.replicas)
        return list(dict.fromkeys(urls))

    def _new_endpoint(self, config: EndpointConfig) -> ChatEndpoint:
        """A backend this runner builds: probed before the run admits a dialogue
        (:meth:`ChatEndpoint.probe`), its server's metrics read (:attr:`base_urls`)."""
        return self._check(ChatEndpoint(config, stats=self.stats))

    def _check(self, backend: B) -> B:
        """Probe ``backend`` before the run too, if it is a :class:`ChatEndpoint` (a
        backend of the caller's of another kind is the caller's to check)."""
        if isinstance(backend, ChatEndpoint):
            self._checked.append(backend)
        return backend

    def spec(self) -> RunnerSpec:
        """A picklable description of this runner (endpoints resolved once it is open),
        from which the shards of a sharded run build theirs."""
        raise EngineError(f"a {type(self).__name__} cannot be split into shards")

    def _write(self, store: RunStore, result: R, dialogue: DialogueLoop[Any]) -> None:
        """Append a finished dialogue's record (and whatever goes with it) to the store."""
        store.write(result)  # type: ignore[arg-type]

    @property
    def store(self) -> RunStore | None:
        """The run directory's store (None without a run directory)."""
        return self._store

    @property
    def forced(self) -> bool:
        """Whether the run directory is resumed whatever its configuration."""
        return self._force

    async def write_store(self, write: Callable[[RunStore], None]) -> None:
        """Have the single recorder perform ``write`` on the store (as the parent of a
        sharded run merges records), in order with every other write."""
        if self.state is not RunnerState.OPENED or self._recorder is None:
            raise EngineError(f"the {type(self).__name__} is not running: use it in 'async with'")
        if self._store is not None:
            await self._recorder.ask(partial(write, self._store))

    # -- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self.state is not RunnerState.UNOPENED:
            raise EngineError(
                f"this {type(self).__name__} was already used (it is "
                f"{self.state.name.lower()}): create a new one for another run"
            )
        self.state = RunnerState.OPENED
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            await self._start(stack)
        except BaseException as exc:
            self.state = RunnerState.CLOSED
            await stack.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        self._stack = stack
        return self

    async def _start(self, stack: AsyncExitStack) -> None:
        if any(endpoint.is_local for endpoint in self._endpoints()):
            server = LocalServer(LocalServerOptions(model=self._local_model, metrics=True))
            self.local_server = await stack.enter_async_context(server)
            self.manifest = await self._prepare(stack, server.endpoint_for)
            self.notes += server.notes
        else:
            self.manifest = await self._prepare(stack, lambda endpoint: endpoint)
        for actor in self._actors():
            stack.callback(actor.close)
        await self._probe()
        if self._store is not None:
            self._done = self._store.open(
                self.manifest, force=self._force, retry_failed=self._retry_failed
            )
            # The recorder closes the store when it stops; this also releases the run's
            # lock when start-up fails after the store opened (close is idempotent).
            stack.callback(self._store.close)

        # Exit runs in reverse: sessions finish, then the actors drain and stop, then
        # the recorder flushes and closes the files, then backends and the local server.
        root = await stack.enter_async_context(anyio.create_task_group())
        recorder_group = HostedGroup()
        await root.start(recorder_group.host)
        self._recorder = RecorderActor(self._store)
        await recorder_group.start(self._recorder.run)
        stack.push_async_callback(recorder_group.aclose)
        stack.callback(self._recorder.stop)

        await root.start(self._actor_group.host)
        stack.push_async_callback(self._actor_group.aclose)
        for actor in self._actors():
            await self._actor_group.start(actor.run)
            stack.callback(actor.stop)  # runs before the group closes: they drain
        await root.start(self._sessions.host)
        stack.push_async_callback(self._sessions.aclose)

    async def _probe(self) -> None:
        """Every endpoint of the run answers and serves its model, or the run stops
        here, in seconds and before anything is written, naming each URL."""
        refusals: list[PermanentEndpointError] = []

        async def probe(endpoint: ChatEndpoint) -> None:
            try:
                self.notes += await endpoint.probe()
            except PermanentEndpointError as refused:
                refusals.append(refused)

        async with anyio.create_task_group() as group:
            for endpoint in {id(e): e for e in self._checked}.values():
                group.start_soon(probe, endpoint)
        if len(refusals) == 1:
            raise refusals[0]
        if refusals:
            message = "; ".join(str(refused) for refused in refusals)
            raise PermanentEndpointError(message, url=refusals[0].url)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._stack is not None
        stack, self._stack = self._stack, None
        self.state = RunnerState.CLOSED
        if exc is not None:
            # The block failed or was cancelled: stop sessions and their LLM calls, let
            # the recorder flush, and re-raise the original error.
            self.cancel()
        for stream, feeding in self._streams.items():  # a run() left early, not closed yet
            feeding.cancel()  # sessions in flight finish and are recorded
            stream.close()
        await stack.__aexit__(None, None, None)
        if exc is None and self._stopped_by is not None:
            raise self._stopped_by

    def cancel(self) -> None:
        """Stop admitting dialogues and cancel those in flight (no partial record is written).

        Finished dialogues are already recorded; the block then exits normally and
        the recorder flushes. Cancelled dialogues are continued by a resumed run
        (from their last journaled turn where the run journals turns, else from the first).
        """
        self._sessions.cancel()
        self._actor_group.cancel()

    def _stop_run(self, error: RunStopper) -> None:
        if self._stopped_by is None:
            self._stopped_by = error
        self.cancel()

    # -- submitting work -----------------------------------------------------------

    def is_done(self, item_id: str) -> bool:
        """Whether the run directory already holds a record for this id."""
        return item_id in self._done

    async def submit(
        self, item: W, *, notify: MemoryObjectSendStream[R] | None = None
    ) -> DialogueHandle[R]:
        """Start a dialogue once admission allows; returns at once after admission.

        An item whose id is in flight or was played by this runner returns the handle
        it already has (its record is written once). An item the run directory already
        holds from an earlier run raises :class:`EngineError`: check :meth:`is_done`
        first (``run()``/``results()`` skip such items). ``notify`` (optional)
        receives the result and is closed afterwards.
        """
        try:
            handle = await self._admit(item)
        except BaseException:
            if notify is not None:
                notify.close()
            raise
        if handle is not None:
            if notify is not None:
                notify.close()
            return handle
        handle = DialogueHandle[R](self.item_id(item))
        self._handles[handle.card_id] = handle
        self.stats.submitted += 1
        self.stats.in_flight += 1
        run_one = partial(self._run_one, item, handle, next(self._order), notify)
        try:
            # start(), not start_soon(): a task cancelled before its first step never
            # runs its finally clause, and the bookkeeping there must always happen.
            await self._sessions.start(run_one)
        except BaseException:
            if not handle.done:
                self._finish(handle, notify)
            raise
        return handle

    async def _admit(self, item: W) -> DialogueHandle[R] | None:
        """Wait for a slot; the existing handle instead if the item is already here."""
        if self.state is not RunnerState.OPENED:
            raise EngineError(f"the {type(self).__name__} is not running: use it in 'async with'")
        if self._stopped_by is not None:
            raise self._stopped_by
        item_id = self.item_id(item)
        existing = self._handles.get(item_id)
        if existing is not None:
            return existing
        if item_id in self._done:
            raise EngineError(f"{item_id} is already recorded in {self.run_dir}")
        await self._admission.acquire()
        existing = self._handles.get(item_id)
        if existing is not None:  # submitted meanwhile by another task
            self._admission.release()
            return existing
        return None

    async def _run_one(
        self,
        item: W,
        handle: DialogueHandle[R],
        priority: int,
        notify: MemoryObjectSendStream[R] | None,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        assert self._recorder is not None
        try:
            task_status.started()
            with handle._scope:
                dialogue = self._dialogue(item, priority)
                if self._store is not None and self.journals_turns:
                    point = self._store.resume_points.pop(dialogue.dialogue_id, None)
                    if point is not None:
                        dialogue.resume(point)
                    dialogue.journal = self._journal_turn
                try:
                    result = cast(R, await dialogue.run())
                    if self._store is not None:
                        # Shielded: a record is written and counted together, even when
                        # its dialogue is cancelled while the write waits its turn.
                        with anyio.CancelScope(shield=True):
                            await self._recorder.ask(
                                partial(self._write, self._store, result, dialogue)
                            )
                except RUN_STOPPERS as exc:
                    self._stop_run(exc)
                    return
                self._done.add(handle.card_id)
                if isinstance(result, FailureRecord):
                    self.stats.failed += 1
                else:
                    self.stats.finished += 1
                handle._reply.set(result)
                if notify is not None:
                    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                        await notify.send(result)
        finally:
            self._finish(handle, notify)

    async def _journal_turn(self, dialogue_id: str, index: int, turn: Turn, usage: Usage) -> None:
        """Journal a completed turn; returns once the line is flushed (group commit)."""
        assert self._recorder is not None and self._store is not None
        write = partial(self._store.journal, dialogue_id, index, turn, usage)
        await self._recorder.write_through(write)

    def _finish(self, handle: DialogueHandle[R], notify: MemoryObjectSendStream[R] | None) -> None:
        """Release what a session held; a session without a result was cancelled."""
        if not handle.done:
            self.stats.cancelled += 1
            self._handles.pop(handle.card_id, None)
            handle._reply.fail(
                self._stopped_by
                or SessionCancelledError(f"dialogue {handle.card_id} was cancelled")
            )
        self.stats.in_flight -= 1
        self._admission.release()
        if notify is not None:
            notify.close()

    @asynccontextmanager
    async def results(self, items: Iterable[W]) -> AsyncIterator[AsyncIterator[R]]:
        """Submit every item not already done; the stream yields records as they finish.

        ::

            async with engine.results(cards) as stream:
                async for result in stream:
                    ...

        Leaving the block early (``break``, an exception, cancellation) stops feeding
        and leaves the dialogues in flight running until the runner's own block ends
        (or :meth:`cancel`); every record finished is written either way. If the run
        was stopped (an unusable endpoint, a storage failure), the stream raises that
        error once the records finished so far have been yielded.
        """
        if self.state is not RunnerState.OPENED:
            raise EngineError(f"the {type(self).__name__} is not running: use it in 'async with'")
        items = list(items)
        self.stats.total += len(items)
        send, receive = anyio.create_memory_object_stream[R](self._max_in_flight)
        feeding = anyio.CancelScope()

        async def feed(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
            task_status.started()
            with feeding, send:
                for item in items:
                    if self.is_done(self.item_id(item)):
                        self.stats.already_done += 1
                        continue
                    try:
                        await self.submit(item, notify=send.clone())
                    except RUN_STOPPERS:
                        return

        async def stream() -> AsyncIterator[R]:
            async for result in receive:
                yield result
            if self._stopped_by is not None:
                raise self._stopped_by

        self._streams[receive] = feeding
        await self._sessions.start(feed)
        with receive:
            try:
                yield stream()
            finally:
                feeding.cancel()
                self._streams.pop(receive, None)

    async def run(self, items: Iterable[W]) -> AsyncIterator[R]:
        """``results()`` as a plain async iterator: ``async for r in runner.run(items)``.

        It owns no task: leaving the loop early is safe (feeding stops when the
        iterator is closed, at the latest when the runner's block ends).
        """
        async with self.results(items) as stream:
            async for result in stream:
                yield result
