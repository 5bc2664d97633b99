"""From the judge's verdicts to a battle outcome and the reply that enters the history.

Position bias is controlled by judging a battle in both presentation orders: when the
two verdicts disagree, the ``disagreement`` policy decides what the battle records (a
tie, or the verdict of the first or second order judged). A verdict that could not be
read is left out; when none could, the battle is ``unparsable``. When the outcome names
no winner (tie, unparsable), the ``undecided`` rule picks the history reply, and the
rule used is recorded with it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Literal, get_args

from interactive_agents.arena._battles import ShownOrder, Winner

Side = Literal["a", "b"]
Label = Literal["A", "B"]
Disagreement = Literal["tie", "first", "second"]
Undecided = Literal["random", "first_shown"]
Rule = Literal["judge", "random", "first_shown"]
DISAGREEMENTS: tuple[str, ...] = get_args(Disagreement)
UNDECIDED: tuple[str, ...] = get_args(Undecided)


def side_of(label: Label, shown_order: ShownOrder) -> Side:
    """Which bot a label means in a presentation order ("ba": A is bot b)."""
    first: Side = "a" if shown_order == "ab" else "b"
    second: Side = "b" if shown_order == "ab" else "a"
    return first if label == "A" else second


def outcome(choices: Sequence[Side | None], disagreement: Disagreement) -> Winner:
    """The battle's winner from the per-order choices, in the order they were shown."""
    readable = [choice for choice in choices if choice is not None]
    if not readable:
        return "unparsable"
    if len(set(readable)) == 1:
        return readable[0]
    if disagreement == "tie":
        return "tie"
    return readable[0] if disagreement == "first" else readable[-1]


def select(
    winner: Winner, first_shown: ShownOrder, undecided: Undecided, rng: random.Random
) -> tuple[Side, Rule]:
    """The reply that enters the history, and the rule that chose it."""
    if winner in ("a", "b"):
        return ("a" if winner == "a" else "b"), "judge"
    if undecided == "first_shown":
        return ("a" if first_shown == "ab" else "b"), "first_shown"
    return rng.choice(("a", "b")), "random"
