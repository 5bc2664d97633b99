"""One simulated dialogue (docs/method.md#simulation-algorithm-1): a counselor turn, refined.

Each counselor candidate passes the refiner (:mod:`.refinement`, as in the arena):
bounded regeneration, every rejection kept, and a configured policy when all attempts
are rejected. The loop itself (greeting,
terminator, client turns, failure records) is :class:`~.dialogue.DialogueLoop`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.method._card_text import card_language, card_text
from interactive_agents.method._cards import RoleCard
from interactive_agents.method._client_guard import ClientGuard
from interactive_agents.method._config import RunConfig
from interactive_agents.method._prompts import PromptSet, clean_reply
from interactive_agents.method._quality import Flagger
from interactive_agents.method._records import DialogueRecord, Termination, Turn
from interactive_agents.method._refiner import RefinerRules
from interactive_agents.method._risk import RiskDetector, risk_document, risk_turns
from interactive_agents.method._seeds import derive_seed
from interactive_agents.runtime._counters import EngineStats
from interactive_agents.runtime._dialogue_loop import DialogueLoop, timings
from interactive_agents.runtime._refinement import refined_reply
from interactive_agents.runtime._roles import (
    ClientActor,
    CounselorActor,
    CounselorTurnRequest,
    RefinerActor,
    TerminatorActor,
)


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
    client_guard: ClientGuard | None = None
    flagger: Flagger | None = None
    risk: RiskDetector | None = None


class Session(DialogueLoop[DialogueRecord]):
    """One simulated dialogue: its transcript, rejections and the turns the refiner gave up."""

    def __init__(self, card: RoleCard, context: SessionContext, priority: int) -> None:
        config = context.config
        super().__init__(
            card,
            dialogue_id=card.id,
            prompts=context.prompts,
            client=context.client,
            max_turns=config.max_turns,
            attempts=config.refiner.max_attempts,
            seed=derive_seed(config.seed, card.id),
            priority=priority,
            client_guard=context.client_guard,
        )
        self.context = context
        self._counselor_stream = f"{self.dialogue_id}/counselor"

    async def ends(self, reply: str) -> Termination | None:
        turn = sum(t.role == "counselor" for t in self.turns)
        if not self.context.config.terminator.applies(turn):
            return None
        return await self.context.terminator.ask(reply)

    def models(self) -> dict[str, str]:
        return self.context.config.models()

    def streams(self) -> Iterator[tuple[ChatBackend, str]]:
        yield from super().streams()
        yield self.context.counselor.backend, self._counselor_stream

    async def counselor_turn(self, turn: int) -> Turn:
        context = self.context
        config = context.config
        stage, source = config.stages.for_turn(turn, config.max_turns), config.stages.source
        labels = context.prompts.counselor.speaker_labels
        reasoning: list[str | None] = []  # per attempt: the model's reasoning, kept apart

        async def candidate(attempt: int) -> str:
            request = CounselorTurnRequest(
                tuple(self.turns),
                stage,
                turn,
                config.max_turns,
                derive_seed(self.seed, "counselor", turn, attempt),
                self.priority,
                stream=self._counselor_stream,
            )
            completion = await context.counselor.ask(request)
            self.usage += completion.usage
            reasoning.append(completion.reasoning)
            return clean_reply(completion.content, labels)

        reply = await refined_reply(
            candidate,
            context.refiner,
            attempts=self.attempts,
            policy=config.refiner.on_exhausted,
            speaker=f"the counselor at turn {turn}",
        )
        context.stats.rejections += len(reply.rejected)
        chosen = reasoning[-1] if reply.gave_up else reasoning[len(reply.rejected)]
        return Turn("counselor", reply.text, stage, reply.rejected, reply.gave_up, source, chosen)

    def record(self, termination: Termination, started: float) -> DialogueRecord:
        refiner = self.context.config.refiner
        # From the transcript, which a resumed session rebuilds from the journal.
        counselor = [turn for turn in self.turns if turn.role == "counselor"]
        card = self.card.to_dict()
        detector = self.context.risk
        turns = tuple(self.turns) if detector is None else risk_turns(self.turns, detector)
        return DialogueRecord(
            id=self.dialogue_id,
            card_id=self.card.id,
            card=card,
            language=self.context.config.language,
            turns=turns,
            termination=termination,
            usage=self.usage,
            models=self.models(),
            seed=self.seed,
            timings=timings(started),
            refiner={
                "rejections": sum(len(turn.rejected) for turn in counselor),
                "gave_up_turns": [n for n, t in enumerate(counselor, 1) if t.refiner_gave_up],
                "policy": refiner.on_exhausted,
                "max_attempts": refiner.max_attempts,
            },
            quality=self._quality(card),
            risk=None
            if detector is None
            else risk_document(turns, self.card.chief_complaint, detector),
        )

    def _quality(self, card: dict[str, object]) -> dict[str, object] | None:
        """The session's quality flags, when the run computes them; counted in the stats.

        The card is rendered as the records' readers render it, so ``evaluate quality``
        and ``export`` find the same flags when they read the record back.
        """
        flagger = self.context.flagger
        if flagger is None:
            return None
        text = card_text(card, card_language(self.context.config.language))
        quality = flagger.assess(self.turns, card_text=text)
        self.context.stats.flags_raised.update(quality.raised)
        return flagger.document(quality, self.turns, card_text=text)
