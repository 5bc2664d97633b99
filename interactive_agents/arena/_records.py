"""What an arena dialogue records: per turn, both candidates, every judgement, the winner.

``turns`` is the shared history (the selected replies), in the same layout as the
dialogues of ``simulate``, so the corpus tools read it unchanged; ``selections`` holds
one entry per counselor turn with what was not selected and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interactive_agents.arena._battles import ShownOrder, Winner
from interactive_agents.arena._selection import Rule, Side
from interactive_agents.judging._answers import AnswerStatus
from interactive_agents.judging._safety_rubric import SafetyVerdict
from interactive_agents.llm._messages import Usage
from interactive_agents.method._records import Rejection, Termination, Timings, Turn


@dataclass(frozen=True, slots=True)
class Candidate:
    """One bot's reply to the client's latest utterance, after the refiner."""

    bot: str
    content: str
    rejected: tuple[Rejection, ...] = ()
    refiner_gave_up: bool = False


@dataclass(frozen=True, slots=True)
class PairwiseJudgement:
    """The judge's answer for one presentation order; ``choice`` None: the answer could
    not be read, ``status`` says why (``unparsable`` or ``refused``)."""

    shown_order: ShownOrder
    choice: Side | None
    reasoning: str
    attempts: int
    status: AnswerStatus = "parsed"


@dataclass(frozen=True, slots=True)
class Selection:
    """One battle: the candidates of bots a and b, the judgements, and the outcome.

    ``winner`` is what the battle records; ``selected`` is the reply that entered the
    history, decided by ``rule`` ("judge", or the undecided policy on a tie or an
    unparsable judgement). ``safety`` is each side's safety verdict when the arena rated
    the replies (None: unparsable), and ``gated`` says the safety gate set ``winner``.
    """

    turn: int
    candidate_a: Candidate
    candidate_b: Candidate
    judgements: tuple[PairwiseJudgement, ...]
    winner: Winner
    selected: Side
    rule: Rule
    safety: dict[Side, SafetyVerdict | None] = field(default_factory=dict)
    gated: bool = False


@dataclass(frozen=True, slots=True)
class ArenaDialogue:
    """One finished arena dialogue: a line of ``dialogues.jsonl``; ``risk`` as in a
    simulation's record (which risks the client disclosed, and where)."""

    id: str
    card_id: str
    card: dict[str, object]
    language: str
    bot_a: str
    bot_b: str
    judge: str
    turns: tuple[Turn, ...]
    selections: tuple[Selection, ...]
    termination: Termination
    usage: Usage
    models: dict[str, str]
    seed: int
    timings: Timings
    risk: dict[str, object] | None = None
