"""The actors of a simulation: client Ω, counselor Ψ, refiner σ, terminator g, recorder.

Each sees only what its message carries. The client and counselor turn the shared
transcript into a chat request *from their own side*: their own utterances become
``assistant`` messages and the other party's ``user`` messages, under their own system
prompt, so each request extends the previous one (a stable prefix for vLLM's cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from interactive_agents.llm.endpoint import ChatBackend
from interactive_agents.method.prompts import CounselorPrompt
from interactive_agents.method.records import (
    ChatMessage,
    Completion,
    DialogueRecord,
    FailureRecord,
    RefinerVerdict,
    Role,
    Sampling,
    Stage,
    Termination,
    Turn,
)
from interactive_agents.method.refiner import RefinerRules
from interactive_agents.method.terminator import TerminatorRules
from interactive_agents.runtime.actor import Actor
from interactive_agents.runtime.run_store import RunStore


def perspective(system: ChatMessage, turns: Sequence[Turn], me: Role) -> list[ChatMessage]:
    """The transcript as ``me`` sees it: own turns as assistant, the other's as user."""
    messages = [system]
    messages.extend(
        ChatMessage("assistant" if turn.role == me else "user", turn.content) for turn in turns
    )
    return messages


@dataclass(frozen=True, slots=True)
class ClientTurnRequest:
    """Ask the client for its next utterance."""

    system: ChatMessage
    turns: tuple[Turn, ...]
    seed: int
    priority: int


@dataclass(frozen=True, slots=True)
class CounselorTurnRequest:
    """Ask the counselor for a reply to the last client utterance, in a given stage."""

    turns: tuple[Turn, ...]
    stage: Stage | None
    turn: int
    max_turns: int
    seed: int
    priority: int


class ClientActor(Actor[ClientTurnRequest, Completion]):
    """Ω: plays the help-seeker of a role card."""

    name = "client"

    def __init__(self, backend: ChatBackend, sampling: Sampling, *, workers: int) -> None:
        super().__init__(workers=workers)
        self.backend = backend
        self.sampling = sampling

    async def handle(self, message: ClientTurnRequest) -> Completion:
        messages = perspective(message.system, message.turns, "client")
        return await self.backend.complete(
            messages, self.sampling, seed=message.seed, priority=message.priority
        )


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
        messages = perspective(self.system, message.turns, "counselor")
        if self.stage_cue and message.stage is not None:
            messages.append(self.prompt.cue(message.stage, message.turn, message.max_turns))
        return await self.backend.complete(
            messages, self.sampling, seed=message.seed, priority=message.priority
        )


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


class RecorderActor(Actor[DialogueRecord | FailureRecord, None]):
    """The single writer of results; flushes whenever its mailbox runs empty."""

    name = "recorder"

    def __init__(self, store: RunStore | None) -> None:
        super().__init__(workers=1, capacity=1024)
        self.store = store

    async def handle(self, message: DialogueRecord | FailureRecord) -> None:
        if self.store is None:
            return
        self.store.write(message)
        if self.queued == 0:
            self.store.flush()

    async def on_stop(self) -> None:
        if self.store is not None:
            self.store.close()
