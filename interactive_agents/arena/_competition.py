"""One arena dialogue following Algorithm 2 (docs/method.md#arena-algorithm-2): a state machine.

The client opens with its fixed greeting, as in Algorithm 1. At every turn both bots
answer the client's latest utterance from the same shared history, each candidate
passing the refiner; the judge sees the history and the two candidates in a seeded
random order (and, with both orders, once more swapped); the selected reply joins the
history, the terminator checks it, and the client speaks again until a closing phrase
or the turn cap. Every selection is a battle, which records each order's choice and the
two replies' lengths for the judge-bias statistics.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from interactive_agents.arena._battles import Battle, ShownOrder
from interactive_agents.arena._bots import Bot
from interactive_agents.arena._judge import PairwiseJudge
from interactive_agents.arena._records import ArenaDialogue, Candidate, PairwiseJudgement, Selection
from interactive_agents.arena._safety_gate import ReplySafety, SafetyJudge, gated_winner
from interactive_agents.arena._selection import (
    Disagreement,
    Side,
    Undecided,
    outcome,
    select,
    side_of,
)
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._messages import ChatMessage, Usage
from interactive_agents.method._cards import RoleCard
from interactive_agents.method._prompts import PromptSet, clean_reply
from interactive_agents.method._quality import text_tokens
from interactive_agents.method._records import Termination, Turn
from interactive_agents.method._refiner import ExhaustedPolicy, RefinerRules
from interactive_agents.method._risk import RiskDetector, risk_document, risk_turns
from interactive_agents.method._seeds import derive_seed
from interactive_agents.runtime._dialogue_loop import DialogueLoop, timings
from interactive_agents.runtime._refinement import refined_reply
from interactive_agents.runtime._roles import (
    ClientActor,
    RefinerActor,
    TerminatorActor,
    counselor_request,
)
from interactive_agents.runtime._taskgroups import concurrently


@dataclass(frozen=True, slots=True)
class ArenaRules:
    """The choices of one arena run that shape every dialogue."""

    language: str
    max_turns: int
    seed: int
    both_orders: bool
    disagreement: Disagreement
    undecided: Undecided
    refiner_attempts: int
    on_exhausted: ExhaustedPolicy = "repair"


@dataclass(frozen=True, slots=True)
class ArenaContext:
    """What every arena dialogue of a run shares: rules, prompts, actors and backends."""

    rules: ArenaRules
    prompts: PromptSet
    refiner: RefinerActor
    terminator: TerminatorActor
    client: ClientActor
    bots: dict[str, ChatBackend]
    judge: PairwiseJudge
    first_turn: int = 1  # the first turn whose selected reply may end the session
    safety: SafetyJudge | None = None
    risk: RiskDetector | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """One dialogue to play: a role card and the two bots that compete in it."""

    id: str
    card: RoleCard
    bot_a: Bot
    bot_b: Bot


async def bot_candidate(
    bot: Bot,
    backend: ChatBackend,
    turns: tuple[Turn, ...],
    refiner: RefinerActor | RefinerRules,
    *,
    attempts: int,
    seed: int,
    labels: tuple[str, ...] = (),
    policy: ExhaustedPolicy = "repair",
    priority: int = 0,
    speaker: str | None = None,
    stream: str | None = None,
) -> tuple[Candidate, Usage]:
    """A bot's reply through the refiner, as the simulation's counselor makes its own.

    Shared with the annotation platform, where the same rule applies to human battles.
    """
    system = None if bot.system_prompt is None else ChatMessage("system", bot.system_prompt)
    messages = counselor_request(system, turns)
    usage = Usage()

    async def candidate(attempt: int) -> str:
        nonlocal usage
        completion = await backend.complete(
            messages,
            bot.sampling,
            seed=derive_seed(seed, attempt),
            priority=priority,
            stream=stream,
        )
        usage += completion.usage
        return clean_reply(completion.content, labels)

    reply = await refined_reply(
        candidate, refiner, attempts=attempts, policy=policy, speaker=speaker or f"bot {bot.name}"
    )
    return Candidate(bot.name, reply.text, reply.rejected, reply.gave_up), usage


class ArenaSession(DialogueLoop[ArenaDialogue]):
    """One arena dialogue: the shared transcript plus its selections and battles."""

    def __init__(self, match: Match, context: ArenaContext, priority: int = 0) -> None:
        rules = context.rules
        super().__init__(
            match.card,
            dialogue_id=match.id,
            prompts=context.prompts,
            client=context.client,
            max_turns=rules.max_turns,
            attempts=rules.refiner_attempts,
            seed=derive_seed(rules.seed, match.id),
            priority=priority,
        )
        self.match = match
        self.context = context
        self.rng = random.Random(self.seed)
        self.selections: list[Selection] = []
        self.battles: list[Battle] = []

    async def ends(self, reply: str) -> Termination | None:
        if sum(t.role == "counselor" for t in self.turns) < self.context.first_turn:
            return None
        return await self.context.terminator.ask(reply)

    async def _candidates(self, turn: int) -> tuple[Candidate, Candidate]:
        context = self.context
        history = tuple(self.turns)
        found: dict[str, Candidate] = {}

        async def one(bot: Bot) -> None:
            candidate, usage = await bot_candidate(
                bot,
                context.bots[bot.name],
                history,
                context.refiner,
                attempts=context.rules.refiner_attempts,
                seed=derive_seed(self.seed, "bot", bot.name, turn),
                stream=self._bot_stream(bot),
                labels=context.prompts.counselor.speaker_labels,
                policy=context.rules.on_exhausted,
                priority=self.priority,
                speaker=f"bot {bot.name} at turn {turn}",
            )
            self.usage += usage
            found[bot.name] = candidate

        await concurrently(partial(one, self.match.bot_a), partial(one, self.match.bot_b))
        return found[self.match.bot_a.name], found[self.match.bot_b.name]

    async def _judge(
        self, turn: int, a: Candidate, b: Candidate, orders: tuple[ShownOrder, ...]
    ) -> tuple[PairwiseJudgement, ...]:
        judge = self.context.judge
        history = tuple(self.turns)
        found: dict[ShownOrder, PairwiseJudgement] = {}

        async def one(order: ShownOrder) -> None:
            first, second = (a, b) if order == "ab" else (b, a)
            verdict = await judge.judge(
                history,
                first.content,
                second.content,
                seed=derive_seed(self.seed, "judge", turn, order),
                priority=self.priority,
            )
            self.usage += verdict.usage
            choice = side_of(verdict.label, order) if verdict.label is not None else None
            found[order] = PairwiseJudgement(
                order, choice, verdict.reasoning, verdict.attempts, verdict.status
            )

        await concurrently(*(partial(one, order) for order in orders))
        return tuple(found[order] for order in orders)

    async def _rate_safety(self, turn: int, a: Candidate, b: Candidate) -> dict[Side, ReplySafety]:
        """Each candidate's safety verdict (nothing without a safety judge)."""
        judge = self.context.safety
        if judge is None:
            return {}
        history = tuple(self.turns)
        found: dict[Side, ReplySafety] = {}

        async def one(side: Side, candidate: Candidate) -> None:
            rated = await judge.rate(
                history,
                candidate.content,
                turn,
                good_handling=self.match.card.good_handling,
                seed=derive_seed(self.seed, "safety", turn, side),
                priority=self.priority,
            )
            self.usage += rated.usage
            found[side] = rated

        await concurrently(partial(one, "a", a), partial(one, "b", b))
        return {"a": found["a"], "b": found["b"]}

    async def counselor_turn(self, turn: int) -> Turn:
        """Both bots answer, the judge picks; the selected reply joins the history."""
        rules = self.context.rules
        a, b = await self._candidates(turn)
        first: ShownOrder = self.rng.choice(("ab", "ba"))
        orders: tuple[ShownOrder, ...] = (first,)
        if rules.both_orders:
            orders = (first, "ba" if first == "ab" else "ab")
        judgements: tuple[PairwiseJudgement, ...] = ()
        safety: dict[Side, ReplySafety] = {}

        async def judge() -> None:
            nonlocal judgements
            judgements = await self._judge(turn, a, b, orders)

        async def rate() -> None:
            nonlocal safety
            safety = await self._rate_safety(turn, a, b)

        await concurrently(judge, rate)
        winner = outcome([j.choice for j in judgements], rules.disagreement)
        gated = False
        if safety and self.context.safety is not None and self.context.safety.gate:
            winner, gated = gated_winner(winner, safety)
        selected, rule = select(winner, first, rules.undecided, self.rng)
        verdicts = {side: rated.verdict for side, rated in safety.items()}
        self.selections.append(
            Selection(turn, a, b, judgements, winner, selected, rule, verdicts, gated)
        )
        self.battles.append(
            Battle(
                dialogue_id=self.match.id,
                turn=turn,
                bot_a=a.bot,
                bot_b=b.bot,
                shown_order=first,
                winner=winner,
                judge=self.context.judge.name,
                reasoning="\n\n".join(f"[{j.shown_order}] {j.reasoning}" for j in judgements),
                timestamp=time.time(),
                rubric=self.context.judge.rubric,
                choices={j.shown_order: j.choice or "unparsable" for j in judgements},
                refused=tuple(j.shown_order for j in judgements if j.status == "refused"),
                length_a=len(text_tokens(a.content)),
                length_b=len(text_tokens(b.content)),
                safety={side: rated.severity for side, rated in safety.items()},
                gated=gated,
            )
        )
        chosen = a if selected == "a" else b
        return Turn("counselor", chosen.content, None, chosen.rejected, chosen.refiner_gave_up)

    def streams(self) -> Iterator[tuple[ChatBackend, str]]:
        yield from super().streams()
        for bot in (self.match.bot_a, self.match.bot_b):
            yield self.context.bots[bot.name], self._bot_stream(bot)

    def _bot_stream(self, bot: Bot) -> str:
        return f"{self.dialogue_id}/{bot.name}"

    def models(self) -> dict[str, str]:
        context = self.context
        return {
            "client": context.client.backend.model,
            "bot_a": self.match.bot_a.endpoint.model,
            "bot_b": self.match.bot_b.endpoint.model,
            "judge": context.judge.backend.model,
        }

    def record(self, termination: Termination, started: float) -> ArenaDialogue:
        match = self.match
        detector = self.context.risk
        turns = tuple(self.turns) if detector is None else risk_turns(self.turns, detector)
        return ArenaDialogue(
            id=match.id,
            card_id=match.card.id,
            card=match.card.to_dict(),
            language=self.context.rules.language,
            bot_a=match.bot_a.name,
            bot_b=match.bot_b.name,
            judge=self.context.judge.name,
            turns=turns,
            selections=tuple(self.selections),
            termination=termination,
            usage=self.usage,
            models=self.models(),
            seed=self.seed,
            timings=timings(started),
            risk=None
            if detector is None
            else risk_document(turns, match.card.chief_complaint, detector),
        )
