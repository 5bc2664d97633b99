"""One arena dialogue following Algorithm 2 (SPEC §10), as a small state machine.

The client opens with its fixed greeting, as in Algorithm 1. At every turn both bots
answer the client's latest utterance from the same shared history, each candidate
passing the refiner; the judge sees the history and the two candidates in a seeded
random order (and, with both orders, once more swapped); the selected reply joins the
history, the terminator checks it, and the client speaks again until a closing phrase
or the turn cap. Every selection is a battle.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import anyio

from ..actors import ClientActor, ClientTurnRequest, perspective
from ..backends import ChatBackend
from ..battles import Battle, ShownOrder
from ..cards import RoleCard
from ..errors import SessionError
from ..messages import (
    ChatMessage,
    ErrorInfo,
    FailureRecord,
    Rejection,
    Termination,
    Timings,
    Turn,
    Usage,
)
from ..prompts import PromptSet, clean_reply
from ..refiner import RefinerRules
from ..session import derive_seed
from ..terminator import TerminatorRules
from .bots import Bot
from .judge import PairwiseJudge
from .records import ArenaDialogue, Candidate, Judgement, Selection
from .selection import Disagreement, Undecided, outcome, select, side_of


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


@dataclass(frozen=True, slots=True)
class ArenaContext:
    """What every arena dialogue of a run shares: rules, prompts, actors and backends."""

    rules: ArenaRules
    prompts: PromptSet
    refiner: RefinerRules
    terminator: TerminatorRules
    client: ClientActor
    bots: dict[str, ChatBackend]
    judge: PairwiseJudge


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
    refiner: RefinerRules,
    *,
    attempts: int,
    seed: int,
    labels: tuple[str, ...] = (),
) -> tuple[Candidate, Usage]:
    """A bot's reply that passes the refiner; after ``attempts`` the last one, repaired.

    Shared with the annotation platform, where the same rule applies to human battles.
    """
    history = perspective(ChatMessage("system", ""), turns, "counselor")[1:]
    rejected: list[Rejection] = []
    usage = Usage()
    for attempt in range(attempts):
        completion = await backend.complete(
            bot.messages(history), bot.sampling, seed=derive_seed(seed, attempt)
        )
        usage += completion.usage
        text = clean_reply(completion.content, labels)
        verdict = refiner.check(text)
        if verdict.accepted:
            return Candidate(bot.name, text, tuple(rejected)), usage
        rejected.append(Rejection(text, verdict.reason))
    repaired = refiner.repair(rejected[-1].content)
    if not repaired:
        raise SessionError(f"bot {bot.name} gave no usable reply ({rejected[-1].reason})")
    return Candidate(bot.name, repaired, tuple(rejected), refiner_gave_up=True), usage


class ArenaSession:
    """The state of one arena dialogue: transcript, selections, battles and usage."""

    def __init__(self, match: Match, context: ArenaContext) -> None:
        self.match = match
        self.context = context
        self.seed = derive_seed(context.rules.seed, match.id)
        self.rng = random.Random(self.seed)
        self.turns: list[Turn] = []
        self.selections: list[Selection] = []
        self.battles: list[Battle] = []
        self.usage = Usage()
        self._client_system = context.prompts.client.system_message(
            match.card, context.rules.max_turns
        )

    async def run(self) -> ArenaDialogue | FailureRecord:
        """Play the dialogue to its end; an error becomes a failure record, battles kept."""
        started = time.time()
        try:
            termination = await self._converse()
        except Exception as exc:
            return self._failure(exc, started)
        return self._record(termination, started)

    async def _converse(self) -> Termination:
        rules = self.context.rules
        self.turns.append(Turn("client", self.context.prompts.client.opening))
        turn = 1
        while True:
            reply = await self._battle(turn)
            self.turns.append(reply)
            ending = self.context.terminator.check(reply.content)
            if ending is not None:
                return ending
            if turn >= rules.max_turns:
                return Termination("max_turns")
            turn += 1
            self.turns.append(await self._client_utterance(turn))

    async def _client_utterance(self, turn: int) -> Turn:
        labels = self.context.prompts.client.speaker_labels
        for attempt in range(self.context.rules.refiner_attempts):
            seed = derive_seed(self.seed, "client", turn, attempt)
            request = ClientTurnRequest(self._client_system, tuple(self.turns), seed, 0)
            completion = await self.context.client.ask(request)
            self.usage += completion.usage
            text = clean_reply(completion.content, labels)
            if text:
                return Turn("client", text)
        raise SessionError(f"the client produced no text at turn {turn}")

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
                labels=context.prompts.counselor.speaker_labels,
            )
            self.usage += usage
            found[bot.name] = candidate

        async with anyio.create_task_group() as group:
            group.start_soon(one, self.match.bot_a)
            group.start_soon(one, self.match.bot_b)
        return found[self.match.bot_a.name], found[self.match.bot_b.name]

    async def _judge(
        self, turn: int, a: Candidate, b: Candidate, orders: tuple[ShownOrder, ...]
    ) -> tuple[Judgement, ...]:
        judge = self.context.judge
        history = tuple(self.turns)
        found: dict[ShownOrder, Judgement] = {}

        async def one(order: ShownOrder) -> None:
            first, second = (a, b) if order == "ab" else (b, a)
            verdict = await judge.judge(
                history,
                first.content,
                second.content,
                seed=derive_seed(self.seed, "judge", turn, order),
            )
            self.usage += verdict.usage
            choice = side_of(verdict.label, order) if verdict.label is not None else None
            found[order] = Judgement(order, choice, verdict.reasoning, verdict.attempts)

        async with anyio.create_task_group() as group:
            for order in orders:
                group.start_soon(one, order)
        return tuple(found[order] for order in orders)

    async def _battle(self, turn: int) -> Turn:
        rules = self.context.rules
        a, b = await self._candidates(turn)
        first: ShownOrder = self.rng.choice(("ab", "ba"))
        orders: tuple[ShownOrder, ...] = (first,)
        if rules.both_orders:
            orders = (first, "ba" if first == "ab" else "ab")
        judgements = await self._judge(turn, a, b, orders)
        winner = outcome([j.choice for j in judgements], rules.disagreement)
        selected, rule = select(winner, first, rules.undecided, self.rng)
        self.selections.append(Selection(turn, a, b, judgements, winner, selected, rule))
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
            )
        )
        chosen = a if selected == "a" else b
        return Turn("counselor", chosen.content, None, chosen.rejected, chosen.refiner_gave_up)

    def _models(self) -> dict[str, str]:
        context = self.context
        return {
            "client": context.client.backend.model,
            "bot_a": self.match.bot_a.endpoint.model,
            "bot_b": self.match.bot_b.endpoint.model,
            "judge": context.judge.backend.model,
        }

    @staticmethod
    def _timings(started: float) -> Timings:
        finished = time.time()
        return Timings(started, finished, round(finished - started, 3))

    def _record(self, termination: Termination, started: float) -> ArenaDialogue:
        match = self.match
        return ArenaDialogue(
            id=match.id,
            card_id=match.card.id,
            card=match.card.to_dict(),
            language=self.context.rules.language,
            bot_a=match.bot_a.name,
            bot_b=match.bot_b.name,
            judge=self.context.judge.name,
            turns=tuple(self.turns),
            selections=tuple(self.selections),
            termination=termination,
            usage=self.usage,
            models=self._models(),
            seed=self.seed,
            timings=self._timings(started),
        )

    def _failure(self, exc: Exception, started: float) -> FailureRecord:
        return FailureRecord(
            id=self.match.id,
            card_id=self.match.card.id,
            error=ErrorInfo(type(exc).__name__, str(exc)),
            turns=tuple(self.turns),
            termination=Termination("error", detail=f"{type(exc).__name__}: {exc}"),
            usage=self.usage,
            models=self._models(),
            seed=self.seed,
            timings=self._timings(started),
        )
