"""Algorithm 1's loop, shared by the simulation session and the arena (Algorithm 2).

The client opens with the fixed greeting; a counselor turn follows (one counselor with
the refiner in a simulation, two bots and a judge in the arena); the terminator checks
the accepted reply; the client speaks again; until a phrase or the turn cap. Subclasses
say how a counselor turn is made, how termination is checked and what record a finished
dialogue becomes; the loop, the client's turns and failure records are the same.

Every completed turn goes to the optional ``journal`` hook before the loop goes on, and
a dialogue given a :class:`~.run_store.ResumePoint` continues after its last journaled
turn: turn numbers, and so seeds, stages and the terminator's view, come from the
transcript, so the continued dialogue is the one an uninterrupted run would play.

However it ends (a record, a failure, a stopped run), a dialogue releases its streams
(:meth:`DialogueLoop.streams`) on their backends, so routing's table of which replica
holds which dialogue role stays as small as the set of dialogues in flight.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeVar

from interactive_agents.errors import EndpointUnusableError, RunStorageError, SessionError
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._messages import Usage
from interactive_agents.method._cards import RoleCard
from interactive_agents.method._client_guard import ClientGuard
from interactive_agents.method._prompts import PromptSet, clean_reply
from interactive_agents.method._records import (
    ErrorInfo,
    FailureRecord,
    Rejection,
    Termination,
    Timings,
    Turn,
)
from interactive_agents.method._seeds import derive_seed
from interactive_agents.runtime._roles import ClientActor, ClientTurnRequest
from interactive_agents.runtime.store._store import ResumePoint

R = TypeVar("R")

TurnJournal = Callable[[str, int, Turn, Usage], Awaitable[None]]
"""Takes a completed turn: dialogue id, transcript index, the turn, the usage so far."""


def timings(started: float) -> Timings:
    finished = time.time()
    return Timings(started, finished, round(finished - started, 3))


class DialogueLoop(ABC, Generic[R]):
    """The transcript, usage and seed of one dialogue, and the loop that grows them."""

    def __init__(
        self,
        card: RoleCard,
        *,
        dialogue_id: str,
        prompts: PromptSet,
        client: ClientActor,
        max_turns: int,
        attempts: int,
        seed: int,
        priority: int,
        client_guard: ClientGuard | None = None,
    ) -> None:
        self.card = card
        self.dialogue_id = dialogue_id
        self.prompts = prompts
        self.client = client
        self.max_turns = max_turns
        self.attempts = attempts
        self.seed = seed
        self.priority = priority
        self.client_guard = client_guard
        self.turns: list[Turn] = []
        self.usage = Usage()
        self.journal: TurnJournal | None = None
        self._client_system = prompts.client.system_message(card, max_turns)
        self._client_stream = f"{dialogue_id}/client"

    @abstractmethod
    async def counselor_turn(self, turn: int) -> Turn:
        """The accepted counselor reply of ``turn``."""

    @abstractmethod
    async def ends(self, reply: str) -> Termination | None:
        """The termination this reply causes, if any."""

    @abstractmethod
    def record(self, termination: Termination, started: float) -> R:
        """The record of a dialogue that ended normally."""

    @abstractmethod
    def models(self) -> dict[str, str]:
        """The models that took part, by role."""

    def streams(self) -> Iterator[tuple[ChatBackend, str]]:
        """Each stream this dialogue calls (one per role), with the backend it goes to."""
        yield self.client.backend, self._client_stream

    def resume(self, point: ResumePoint) -> None:
        """Continue from a journaled point instead of the first turn."""
        self.turns = [Turn("client", self.prompts.client.opening), *point.turns]
        self.usage = point.usage

    async def run(self) -> R | FailureRecord:
        """Play the dialogue to its end; an error becomes a failure record, turns kept."""
        started = time.time()
        try:
            termination = await self.converse()
        except (EndpointUnusableError, RunStorageError):
            raise  # the whole run stops; this dialogue stays unfinished, not failed
        except Exception as exc:
            return self.failure(exc, started)
        finally:
            for backend, stream in self.streams():
                backend.release(stream)
        return self.record(termination, started)

    async def converse(self) -> Termination:
        if not self.turns:
            self.turns.append(Turn("client", self.prompts.client.opening))
        last = self.turns[-1]
        turn = sum(t.role == "counselor" for t in self.turns) + (last.role == "client")
        while True:
            if self.turns[-1].role == "client":
                await self._completed(await self.counselor_turn(turn))
            ending = await self.ends(self.turns[-1].content)
            if ending is not None:
                return ending
            if turn >= self.max_turns:
                return Termination("max_turns")
            turn += 1
            await self._completed(await self.client_utterance(turn))

    async def _completed(self, turn: Turn) -> None:
        self.turns.append(turn)
        if self.journal is not None:
            await self.journal(self.dialogue_id, len(self.turns) - 1, turn, self.usage)

    async def client_utterance(self, turn: int) -> Turn:
        """The client's next line; an empty answer is asked again, up to ``attempts``.

        With a client guard, a rejected line is kept in ``rejected`` and asked again.
        """
        labels = self.prompts.client.speaker_labels
        guard, rejected = self.client_guard, list[Rejection]()
        for attempt in range(guard.max_attempts if guard else self.attempts):
            request = ClientTurnRequest(
                self._client_system,
                tuple(self.turns),
                derive_seed(self.seed, "client", turn, attempt),
                self.priority,
                stream=self._client_stream,
            )
            completion = await self.client.ask(request)
            self.usage += completion.usage
            text = clean_reply(completion.content, labels)
            verdict = guard.check(text, self.turns) if guard and text else None
            if text and (verdict is None or verdict.accepted):
                return Turn(
                    "client", text, rejected=tuple(rejected), reasoning=completion.reasoning
                )
            if verdict is not None:
                rejected.append(Rejection(text, verdict.reason))
        if rejected:  # the guard gave up: keep the last line, flagged, with every rejection
            return Turn(
                "client", rejected[-1].content, rejected=tuple(rejected), refiner_gave_up=True
            )
        raise SessionError(f"the client produced no text at turn {turn}")

    def failure(self, exc: Exception, started: float) -> FailureRecord:
        return FailureRecord(
            id=self.dialogue_id,
            card_id=self.card.id,
            error=ErrorInfo(type(exc).__name__, str(exc)),
            turns=tuple(self.turns),
            termination=Termination("error", detail=f"{type(exc).__name__}: {exc}"),
            usage=self.usage,
            models=self.models(),
            seed=self.seed,
            timings=timings(started),
        )
