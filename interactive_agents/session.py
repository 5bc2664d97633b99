"""One dialogue following Algorithm 1 (SPEC §5), as a small state machine.

The client opens with the fixed greeting; the counselor replies, each candidate passing
the refiner (bounded regeneration, every rejection kept); the terminator checks every
accepted reply; the client speaks again, until a phrase or the turn cap ends it. The
session only sends messages and awaits answers; it holds the transcript and nothing else.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from .actors import (
    ClientActor,
    ClientTurnRequest,
    CounselorActor,
    CounselorTurnRequest,
    RefinerActor,
    TerminatorActor,
)
from .cards import RoleCard
from .config import RunConfig
from .errors import SessionError
from .messages import (
    ChatMessage,
    DialogueRecord,
    ErrorInfo,
    FailureRecord,
    Rejection,
    Termination,
    Timings,
    Turn,
    Usage,
)
from .prompts import PromptSet, clean_reply
from .refiner import RefinerRules
from .stats import EngineStats


def derive_seed(*parts: object) -> int:
    """A stable 31-bit seed from any parts (same run seed + card → same dialogue seeds)."""
    text = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "big") >> 1


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What every session of one run shares: configuration and the actors."""

    config: RunConfig
    prompts: PromptSet
    rules: RefinerRules
    client: ClientActor
    counselor: CounselorActor
    refiner: RefinerActor
    terminator: TerminatorActor
    stats: EngineStats


class Session:
    """The state of one dialogue: its card, transcript, usage and seed."""

    def __init__(self, card: RoleCard, context: SessionContext, priority: int) -> None:
        self.card = card
        self.context = context
        self.priority = priority
        self.seed = derive_seed(context.config.seed, card.id)
        self.turns: list[Turn] = []
        self.usage = Usage()
        self.gave_up: list[int] = []
        self.rejections = 0
        self._client_system: ChatMessage = context.prompts.client.system_message(
            card, context.config.max_turns
        )

    async def run(self) -> DialogueRecord | FailureRecord:
        """Play the dialogue to its end; an error becomes a failure record, turns kept."""
        started = time.time()
        try:
            termination = await self._converse()
        except Exception as exc:
            return self._failure(exc, started)
        return self._record(termination, started)

    async def _converse(self) -> Termination:
        config = self.context.config
        self.turns.append(Turn("client", self.context.prompts.client.opening))
        turn = 1
        while True:
            reply = await self._counselor_reply(turn)
            self.turns.append(reply)
            ending = await self.context.terminator.ask(reply.content)
            if ending is not None:
                return ending
            if turn >= config.max_turns:
                return Termination("max_turns")
            turn += 1
            self.turns.append(await self._client_utterance(turn))

    async def _client_utterance(self, turn: int) -> Turn:
        labels = self.context.prompts.client.speaker_labels
        for attempt in range(self.context.config.refiner.max_attempts):
            request = ClientTurnRequest(
                self._client_system,
                tuple(self.turns),
                derive_seed(self.seed, "client", turn, attempt),
                self.priority,
            )
            completion = await self.context.client.ask(request)
            self.usage += completion.usage
            text = clean_reply(completion.content, labels)
            if text:
                return Turn("client", text)
        raise SessionError(f"the client produced no text at turn {turn}")

    async def _counselor_reply(self, turn: int) -> Turn:
        context = self.context
        config = context.config
        stage = config.stages.stage(turn, config.max_turns)
        labels = context.prompts.counselor.speaker_labels
        rejected: list[Rejection] = []
        for attempt in range(config.refiner.max_attempts):
            request = CounselorTurnRequest(
                tuple(self.turns),
                stage,
                turn,
                config.max_turns,
                derive_seed(self.seed, "counselor", turn, attempt),
                self.priority,
            )
            completion = await context.counselor.ask(request)
            self.usage += completion.usage
            text = clean_reply(completion.content, labels)
            verdict = await context.refiner.ask(text)
            if verdict.accepted:
                return Turn("counselor", text, stage, tuple(rejected))
            rejected.append(Rejection(text, verdict.reason))
            self.rejections += 1
            context.stats.rejections += 1
        return self._when_exhausted(turn, stage, rejected)

    def _when_exhausted(self, turn: int, stage: str, rejected: list[Rejection]) -> Turn:
        policy = self.context.config.refiner.on_exhausted
        last = rejected[-1]
        if policy == "fail":
            raise SessionError(
                f"the refiner rejected {len(rejected)} candidates at turn {turn} "
                f"(last: {last.reason})"
            )
        text = self.context.rules.repair(last.content) if policy == "repair" else last.content
        if not text:
            raise SessionError(f"no usable counselor reply at turn {turn} ({last.reason})")
        self.gave_up.append(turn)
        return Turn("counselor", text, stage, tuple(rejected), refiner_gave_up=True)  # type: ignore[arg-type]

    def _timings(self, started: float) -> Timings:
        finished = time.time()
        return Timings(started, finished, round(finished - started, 3))

    def _record(self, termination: Termination, started: float) -> DialogueRecord:
        refiner = self.context.config.refiner
        return DialogueRecord(
            id=self.card.id,
            card_id=self.card.id,
            card=self.card.to_dict(),
            language=self.context.config.language,
            turns=tuple(self.turns),
            termination=termination,
            usage=self.usage,
            models=self.context.config.models(),
            seed=self.seed,
            timings=self._timings(started),
            refiner={
                "rejections": self.rejections,
                "gave_up_turns": self.gave_up,
                "policy": refiner.on_exhausted,
                "max_attempts": refiner.max_attempts,
            },
        )

    def _failure(self, exc: Exception, started: float) -> FailureRecord:
        return FailureRecord(
            id=self.card.id,
            card_id=self.card.id,
            error=ErrorInfo(type(exc).__name__, str(exc)),
            turns=tuple(self.turns),
            termination=Termination("error", detail=f"{type(exc).__name__}: {exc}"),
            usage=self.usage,
            models=self.context.config.models(),
            seed=self.seed,
            timings=self._timings(started),
        )
