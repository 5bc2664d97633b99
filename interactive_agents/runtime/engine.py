"""The public async API: an engine that runs many sessions at once and records them.

::

    async with Engine(config, run_dir="runs/a") as engine:
        async for result in engine.run(cards):
            print(result.id, result.termination.reason)

The engine owns no event loop and no global state; everything it starts (actors,
sessions, the local model server) lives in task groups inside ``async with`` and is
stopped on exit. Admission control bounds the sessions in flight; sessions admitted
earlier get LLM slots first, so memory stays flat and finished dialogues stream out
early. On an error or cancellation inside the block, sessions in flight and their
LLM calls are cancelled, what was finished is flushed, and unfinished dialogues are
simply redone by the next run on the same directory.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import Literal

import anyio
from anyio.abc import TaskStatus
from anyio.streams.memory import MemoryObjectSendStream

from interactive_agents.errors import EngineError, SessionCancelledError
from interactive_agents.llm.endpoint import ChatBackend, ChatEndpoint
from interactive_agents.llm.local import LocalServer, LocalServerOptions
from interactive_agents.method.cards import RoleCard
from interactive_agents.method.config import EndpointConfig, RunConfig
from interactive_agents.method.prompts import load_prompts
from interactive_agents.method.records import DialogueRecord, FailureRecord
from interactive_agents.method.terminator import TerminatorRules
from interactive_agents.runtime.actor import Reply
from interactive_agents.runtime.counters import EngineStats
from interactive_agents.runtime.roles import (
    ClientActor,
    CounselorActor,
    RecorderActor,
    RefinerActor,
    TerminatorActor,
)
from interactive_agents.runtime.run_store import RunStore, new_manifest
from interactive_agents.runtime.simulation import Session, SessionContext
from interactive_agents.runtime.taskgroups import HostedGroup

Result = DialogueRecord | FailureRecord
RoleName = Literal["client", "counselor"]


def package_version() -> str:
    try:
        return version("interactive-agents")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


class DialogueHandle:
    """A submitted dialogue: await its result, or cancel it."""

    def __init__(self, card_id: str) -> None:
        self.card_id = card_id
        self._reply: Reply[Result] = Reply()
        self._scope = anyio.CancelScope()

    @property
    def done(self) -> bool:
        return self._reply.done

    def cancel(self) -> None:
        self._scope.cancel()

    async def result(self) -> Result:
        """The record, once written; raises SessionCancelledError if cancelled."""
        return await self._reply.wait()


class Engine:
    """Runs sessions for role cards against the configured endpoints."""

    def __init__(
        self,
        config: RunConfig,
        *,
        run_dir: str | Path | None = None,
        backends: Mapping[RoleName, ChatBackend] | None = None,
        force: bool = False,
        retry_failed: bool = False,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.stats = EngineStats()
        self.local_server: LocalServer | None = None
        self._given_backends = dict(backends or {})
        self._force = force
        self._retry_failed = retry_failed
        self._store = RunStore(self.run_dir) if self.run_dir is not None else None
        self._done: set[str] = set()
        self._order = itertools.count()
        self._admission = anyio.Semaphore(config.max_in_flight)
        self._stack: AsyncExitStack | None = None
        self._actor_group = HostedGroup()
        self._sessions = HostedGroup()
        self._running = False
        self._context: SessionContext | None = None
        self._actors: list[ClientActor | CounselorActor | RefinerActor | TerminatorActor] = []
        self._recorder: RecorderActor | None = None
        self.manifest: dict[str, object] = {}

    # -- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> Engine:
        stack = AsyncExitStack()
        await stack.__aenter__()
        try:
            await self._start(stack)
        except BaseException as exc:
            await stack.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        self._stack = stack
        return self

    async def _start(self, stack: AsyncExitStack) -> None:
        config = await self._resolve_endpoints(stack)
        self.config = config
        prompts = load_prompts(config.language, config.actors_dir)
        rules = config.refiner.rules(config.language)
        self.manifest = new_manifest(
            fingerprint=config.fingerprint(prompts.fingerprint),
            config=config.public_dict(),
            models=config.models(),
            seed=config.seed,
            version=package_version(),
            prompts=prompts.fingerprint,
        )
        if self._store is not None:
            self._done = self._store.open(
                self.manifest, force=self._force, retry_failed=self._retry_failed
            )
        backends = self._backends(config)
        for backend in {id(b): b for b in backends.values()}.values():
            stack.push_async_callback(backend.aclose)

        # Exit runs in reverse: sessions finish, then the actors drain and stop, then
        # the recorder flushes and closes the files, then backends and the local server.
        root = await stack.enter_async_context(anyio.create_task_group())
        recorder_group = HostedGroup()
        await root.start(recorder_group.host)
        self._recorder = RecorderActor(self._store)
        await recorder_group.start(self._recorder.run)
        stack.push_async_callback(recorder_group.aclose)
        stack.callback(self._recorder.stop)

        workers = config.max_in_flight
        phrases = config.terminator.phrases or prompts.terminator_phrases
        client = ClientActor(backends["client"], config.client.sampling, workers=workers)
        counselor = CounselorActor(
            backends["counselor"],
            config.counselor.sampling,
            prompts.counselor,
            workers=workers,
            stage_cue=config.stages.cue == "system",
        )
        refiner = RefinerActor(rules)
        terminator = TerminatorActor(TerminatorRules(tuple(phrases), config.terminator.mode))
        self._actors = [client, counselor, refiner, terminator]
        await root.start(self._actor_group.host)
        for actor in self._actors:
            await self._actor_group.start(actor.run)
        stack.push_async_callback(self._actor_group.aclose)
        stack.callback(self._stop_actors)

        self._context = SessionContext(
            config,
            prompts,
            rules,
            client,
            counselor,
            refiner,
            terminator,
            self.stats,
            config.client_guard.guard(prompts, config.actors_dir),
        )
        await root.start(self._sessions.host)
        stack.push_async_callback(self._sessions.aclose)
        self._running = True

    async def _resolve_endpoints(self, stack: AsyncExitStack) -> RunConfig:
        """Start the embedded server if a role without a given backend needs it."""
        config = self.config
        needs_local = [
            role
            for role in ("client", "counselor")
            if role not in self._given_backends and getattr(config, role).endpoint.is_local
        ]
        if not needs_local:
            return config
        server = LocalServer(LocalServerOptions(model_path=config.local_model))
        self.local_server = await stack.enter_async_context(server)

        def local(endpoint: EndpointConfig) -> EndpointConfig:
            if not endpoint.is_local:
                return endpoint
            return EndpointConfig(
                base_urls=(server.base_url,),
                model=server.model,
                concurrency=endpoint.max_concurrency,
                timeout=endpoint.timeout,
                max_retries=endpoint.max_retries,
            )

        client, counselor = config.client.endpoint, config.counselor.endpoint
        return config.with_endpoints(local(client), local(counselor))

    def _backends(self, config: RunConfig) -> dict[RoleName, ChatBackend]:
        """One backend per distinct endpoint: roles on the same endpoint share its limits."""
        backends: dict[RoleName, ChatBackend] = dict(self._given_backends)
        shared: dict[object, ChatBackend] = {}
        for role in ("client", "counselor"):
            if role in backends:
                continue
            endpoint = getattr(config, role).endpoint
            key = endpoint.key()
            if key not in shared:
                shared[key] = ChatEndpoint(endpoint, stats=self.stats)
            backends[role] = shared[key]
        return backends

    def _stop_actors(self) -> None:
        for actor in self._actors:
            actor.stop()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        assert self._stack is not None
        stack, self._stack = self._stack, None
        self._running = False
        if exc is not None:
            # The block failed or was cancelled: stop sessions and their LLM calls, let
            # the recorder flush, and re-raise the original error.
            self.cancel()
        await stack.__aexit__(None, None, None)
        return None

    def cancel(self) -> None:
        """Stop admitting dialogues and cancel those in flight (nothing partial is kept).

        Finished dialogues are already recorded; the block then exits normally and
        the recorder flushes. Cancelled dialogues are redone by a resumed run.
        """
        self._sessions.cancel()
        self._actor_group.cancel()

    # -- submitting work -----------------------------------------------------------

    def is_done(self, card_id: str) -> bool:
        """Whether the run directory already holds a record for this card."""
        return card_id in self._done

    async def submit(
        self, card: RoleCard, *, notify: MemoryObjectSendStream[Result] | None = None
    ) -> DialogueHandle:
        """Start a dialogue once admission allows; returns at once after admission.

        ``notify`` (optional) receives the result and is closed afterwards.
        """
        if not self._running or self._context is None:
            raise EngineError("the engine is not running: use it in 'async with'")
        try:
            await self._admission.acquire()
        except BaseException:
            if notify is not None:
                notify.close()
            raise
        handle = DialogueHandle(card.id)
        self.stats.submitted += 1
        self.stats.in_flight += 1
        run_one = partial(self._run_one, card, handle, next(self._order), notify)
        try:
            # start(), not start_soon(): a task cancelled before its first step never
            # runs its finally clause, and the bookkeeping there must always happen.
            await self._sessions.start(run_one)
        except BaseException:
            if not handle.done:
                self._finish(card, handle, notify)
            raise
        return handle

    async def _run_one(
        self,
        card: RoleCard,
        handle: DialogueHandle,
        priority: int,
        notify: MemoryObjectSendStream[Result] | None,
        *,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        assert self._context is not None and self._recorder is not None
        try:
            task_status.started()
            with handle._scope:
                result = await Session(card, self._context, priority).run()
                await self._recorder.ask(result)
                self._done.add(result.id)
                if isinstance(result, DialogueRecord):
                    self.stats.finished += 1
                else:
                    self.stats.failed += 1
                handle._reply.set(result)
                if notify is not None:
                    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
                        await notify.send(result)
        finally:
            self._finish(card, handle, notify)

    def _finish(
        self,
        card: RoleCard,
        handle: DialogueHandle,
        notify: MemoryObjectSendStream[Result] | None,
    ) -> None:
        """Release what a session held; a session without a result was cancelled."""
        if not handle.done:
            self.stats.cancelled += 1
            handle._reply.fail(SessionCancelledError(f"dialogue {card.id} was cancelled"))
        self.stats.in_flight -= 1
        self._admission.release()
        if notify is not None:
            notify.close()

    async def run(self, cards: Iterable[RoleCard]) -> AsyncIterator[Result]:
        """Submit every card not already done and yield results as they finish."""
        cards = list(cards)
        self.stats.total += len(cards)
        send, receive = anyio.create_memory_object_stream[Result](self.config.max_in_flight)
        feeding = anyio.CancelScope()

        async def feed() -> None:
            with feeding, send:
                for card in cards:
                    if self.is_done(card.id):
                        self.stats.already_done += 1
                        continue
                    await self.submit(card, notify=send.clone())

        self._sessions.start_soon(feed)
        try:
            async with receive:
                async for result in receive:
                    yield result
        finally:
            feeding.cancel()
