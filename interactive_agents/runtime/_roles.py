"""The actors of a simulation: client Ω, counselor Ψ, refiner σ, terminator g, recorder.

Each sees only what its message carries. The client and counselor turn the shared
transcript into a chat request *from their own side*: their own utterances become
``assistant`` messages and the other party's ``user`` messages, under their own system
prompt, so each request extends the previous one (a stable prefix for vLLM's cache).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from interactive_agents.errors import RunStorageError
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._messages import ChatMessage, Completion, Sampling
from interactive_agents.method._prompts import CounselorPrompt
from interactive_agents.method._records import RefinerVerdict, Role, Stage, Termination, Turn
from interactive_agents.method._refiner import RefinerRules
from interactive_agents.method._terminator import TerminatorRules
from interactive_agents.runtime._actor import Actor, Reply
from interactive_agents.runtime.store._store import RunStore


def perspective(system: ChatMessage | None, turns: Sequence[Turn], me: Role) -> list[ChatMessage]:
    """The transcript as ``me`` sees it: own turns as assistant, the other's as user,
    under ``me``'s system prompt (none for a bot trained without one)."""
    messages = [] if system is None else [system]
    messages.extend(
        ChatMessage("assistant" if turn.role == me else "user", turn.content) for turn in turns
    )
    return messages


def counselor_request(
    system: ChatMessage | None, turns: Sequence[Turn], cue: ChatMessage | None = None
) -> list[ChatMessage]:
    """The one way a counselor is asked for its next reply, in a simulation, by an arena
    bot and by the load benchmark: its system prompt, the transcript from its side, and
    the stage cue when cues are on."""
    messages = perspective(system, turns, "counselor")
    if cue is not None:
        messages.append(cue)
    return messages


@dataclass(frozen=True, slots=True)
class ClientTurnRequest:
    """Ask the client for its next utterance."""

    system: ChatMessage
    turns: tuple[Turn, ...]
    seed: int
    priority: int
    stream: str | None = None  # routing keeps a stream on one replica (prefix cache)


@dataclass(frozen=True, slots=True)
class CounselorTurnRequest:
    """Ask the counselor for a reply to the last client utterance, in a given stage."""

    turns: tuple[Turn, ...]
    stage: Stage | None
    turn: int
    max_turns: int
    seed: int
    priority: int
    stream: str | None = None


async def _complete(
    backend: ChatBackend,
    sampling: Sampling,
    messages: list[ChatMessage],
    request: ClientTurnRequest | CounselorTurnRequest,
) -> Completion:
    """One model call for a role's turn, carrying its seed, priority and stream."""
    return await backend.complete(
        messages, sampling, seed=request.seed, priority=request.priority, stream=request.stream
    )


class ClientActor(Actor[ClientTurnRequest, Completion]):
    """Ω: plays the help-seeker of a role card."""

    name = "client"

    def __init__(self, backend: ChatBackend, sampling: Sampling, *, workers: int) -> None:
        super().__init__(workers=workers)
        self.backend = backend
        self.sampling = sampling

    async def handle(self, message: ClientTurnRequest) -> Completion:
        messages = perspective(message.system, message.turns, "client")
        return await _complete(self.backend, self.sampling, messages, message)


class CounselorActor(Actor[CounselorTurnRequest, Completion]):
    """Ψ: the counselor, told the stage it is in unless the stage cue is off."""

    name = "counselor"

    def __init__(
        self,
        backend: ChatBackend,
        sampling: Sampling,
        prompt: CounselorPrompt,
        *,
        workers: int,
        stage_cue: bool,
    ) -> None:
        super().__init__(workers=workers)
        self.backend = backend
        self.sampling = sampling
        self.prompt = prompt
        self.system = prompt.system_message()
        self.stage_cue = stage_cue

    async def handle(self, message: CounselorTurnRequest) -> Completion:
        stage = message.stage
        cue = None
        if self.stage_cue and stage is not None:
            cue = self.prompt.cue(stage, message.turn, message.max_turns)
        messages = counselor_request(self.system, message.turns, cue)
        return await _complete(self.backend, self.sampling, messages, message)


class RefinerActor(Actor[str, RefinerVerdict]):
    """σ: accepts or rejects a counselor candidate."""

    name = "refiner"

    def __init__(self, rules: RefinerRules) -> None:
        super().__init__(workers=1, capacity=1024)
        self.rules = rules

    async def handle(self, message: str) -> RefinerVerdict:
        return self.rules.check(message)


class TerminatorActor(Actor[str, Termination | None]):
    """g: says whether an accepted counselor reply ends the session."""

    name = "terminator"

    def __init__(self, rules: TerminatorRules) -> None:
        super().__init__(workers=1, capacity=1024)
        self.rules = rules

    async def handle(self, message: str) -> Termination | None:
        return self.rules.check(message)


class RecorderActor(Actor[Callable[[], None], None]):
    """The single writer of a run directory: performs the writes it is sent in order and
    flushes whenever its mailbox runs empty. A failed write is a RunStorageError.

    :meth:`write_through` waits until its line has been flushed to the system, so what
    a dialogue journals is on disk before it makes its next call; the lines of many
    dialogues still share one flush (group commit).
    """

    name = "recorder"

    def __init__(self, store: RunStore | None) -> None:
        super().__init__(workers=1, capacity=1024)
        self.store = store
        self._unflushed: list[Reply[None]] = []

    async def handle(self, message: Callable[[], None]) -> None:
        try:
            message()
            if self.queued == 0:
                self._settle(lambda store: store.flush())
        except OSError as exc:
            where = self.store.path if self.store is not None else "the run directory"
            raise RunStorageError(f"cannot write {where}: {exc}") from exc

    def _settle(self, finish: Callable[[RunStore], None]) -> None:
        """``finish`` the store (flush or close), then wake the writes waiting for it."""
        waiting, self._unflushed = self._unflushed, []
        try:
            if self.store is not None:
                finish(self.store)
        except BaseException as exc:
            for reply in waiting:
                reply.fail(exc)
            raise
        for reply in waiting:
            reply.set(None)

    async def write_through(self, write: Callable[[], None]) -> None:
        """Perform ``write`` and return once it has been flushed."""
        flushed: Reply[None] = Reply()

        def step() -> None:
            write()
            self._unflushed.append(flushed)

        await self.ask(step)
        await flushed.wait()

    async def on_stop(self) -> None:
        self._settle(lambda store: store.close())  # closing flushes what is buffered
