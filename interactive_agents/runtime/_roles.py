"""The actors of a simulation: client Ω, counselor Ψ, refiner σ, terminator g, recorder.

Each sees only what its message carries. The client and counselor turn the shared
transcript into a chat request *from their own side*: their own utterances become
``assistant`` messages and the other party's ``user`` messages, under their own system
prompt, so each request extends the previous one (a stable prefix for vLLM's cache).

The four dialogue roles are inline actors (:attr:`Actor.inline`): a session's ask runs
in the session's own task. The recorder keeps its mailbox: it is the one writer of the
run directory's records, and it flushes whenever that mailbox runs empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio

from interactive_agents.errors import ActorStoppedError, RunStorageError
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._messages import ChatMessage, Completion, Sampling
from interactive_agents.method._prompts import CounselorPrompt
from interactive_agents.method._records import RefinerVerdict, Role, Stage, Termination, Turn
from interactive_agents.method._refiner import RefinerRules
from interactive_agents.method._terminator import TerminatorRules
from interactive_agents.runtime._actor import Actor
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
    inline = True

    def __init__(self, backend: ChatBackend, sampling: Sampling) -> None:
        super().__init__()
        self.backend = backend
        self.sampling = sampling

    async def handle(self, message: ClientTurnRequest) -> Completion:
        messages = perspective(message.system, message.turns, "client")
        return await _complete(self.backend, self.sampling, messages, message)


class CounselorActor(Actor[CounselorTurnRequest, Completion]):
    """Ψ: the counselor, told the stage it is in unless the stage cue is off."""

    name = "counselor"
    inline = True

    def __init__(
        self, backend: ChatBackend, sampling: Sampling, prompt: CounselorPrompt, *, stage_cue: bool
    ) -> None:
        super().__init__()
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
    inline = True

    def __init__(self, rules: RefinerRules) -> None:
        super().__init__()
        self.rules = rules

    async def handle(self, message: str) -> RefinerVerdict:
        return self.rules.check(message)


class TerminatorActor(Actor[str, Termination | None]):
    """g: says whether an accepted counselor reply ends the session."""

    name = "terminator"
    inline = True

    def __init__(self, rules: TerminatorRules) -> None:
        super().__init__()
        self.rules = rules

    async def handle(self, message: str) -> Termination | None:
        return self.rules.check(message)


class RecorderActor(Actor[Callable[[], None], None]):
    """The single writer of a run directory's records: performs the writes it is sent in
    order and flushes whenever its mailbox runs empty. A failed write is a RunStorageError.

    :meth:`write_through` (the journal's turns) returns once its line has been flushed to
    the system, so what a dialogue journals is on disk before it makes its next call; the
    lines of many dialogues still share one flush (group commit).
    """

    name = "recorder"

    def __init__(self, store: RunStore | None) -> None:
        super().__init__(workers=1, capacity=1024)
        self.store = store
        self._unflushed = False

    async def handle(self, message: Callable[[], None]) -> None:
        self._perform(message)
        if self.queued == 0:
            self._flush()

    async def write_through(self, write: Callable[[], None]) -> None:
        """Perform ``write`` now, in the caller's task, and return once it is flushed.

        A write is a buffered append with no await in it, so it never interleaves with
        another. The caller then yields once: every dialogue whose turn completed in the
        same pass of the event loop appends its line meanwhile, and the first of them to
        go on flushes them all. No mailbox, reply or flush event per line: the journal
        costs one checkpoint per turn, and a flush per pass of the loop.
        """
        if self._stopped:
            raise ActorStoppedError(f"the {self.name} actor has stopped")
        self._perform(write)
        self._unflushed = True
        await anyio.lowlevel.checkpoint()
        if self._unflushed:
            self._flush()

    def _perform(self, write: Callable[[], None]) -> None:
        try:
            write()
        except OSError as exc:
            raise self._storage_error(exc) from exc

    def _flush(self) -> None:
        self._unflushed = False
        if self.store is None:
            return
        try:
            self.store.flush()
        except OSError as exc:
            raise self._storage_error(exc) from exc

    def _storage_error(self, exc: OSError) -> RunStorageError:
        where = self.store.path if self.store is not None else "the run directory"
        return RunStorageError(f"cannot write {where}: {exc}")

    async def on_stop(self) -> None:
        if self.store is not None:
            self.store.close()  # closing flushes what is buffered
