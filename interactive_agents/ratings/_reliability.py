"""How far to trust the judges behind a set of battles: what ``elo`` reports beside the ratings.

Read from battle records (:mod:`.battles`), with the statistics of :mod:`.judge_bias`:

* per judge, the **position bias** over its *selections* (judge, dialogue, turn, pair of
  bots) judged in both presentation orders. The orders come from a battle's ``choices``
  (the arena judging both orders, its default) or from two battles of one selection shown
  in opposite orders (hand-made or older files); a tie names no side and, like an
  unparsable choice, is no readable choice;
* per judge, the **length bias** over its battles that carry both reply lengths;
* over every readable battle with lengths, the **length-controlled Bradley-Terry** beside
  the plain fit of the same battles.

A figure that cannot be computed from the battles given (one order only, no lengths
recorded) is NaN with the reason in words, so the report says why instead of failing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from interactive_agents.arena._battles import Battle, ShownOrder
from interactive_agents.arena._selection import Side
from interactive_agents.ratings._judge_bias import (
    JudgedPair,
    LengthBias,
    LengthControlledRatings,
    OrderChoices,
    PositionBias,
    length_bias,
    length_controlled_bt,
    order_bias,
)
from interactive_agents.ratings._systems import BTConfig

_SWAP_ORDER: dict[str, ShownOrder] = {"ab": "ba", "ba": "ab"}
_SWAP_SIDE: dict[str, Side] = {"a": "b", "b": "a"}

NO_BOTH_ORDERS = (
    "no selection was judged in both presentation orders (the arena judges both by "
    "default; --one-order judges one)"
)
NO_READABLE_BOTH = "no selection judged in both orders has a readable choice in both"
NO_LENGTHS = (
    "the battles carry no reply lengths (length_a, length_b): written before the arena "
    "recorded them, by hand or by annotators"
)
NO_UNEQUAL = "no decided battle (winner a or b) between replies of different lengths"


@dataclass(frozen=True, slots=True)
class JudgeBias:
    """One judge's position and length bias; a reason says why a rate is NaN."""

    judge: str
    battles: int
    position: PositionBias
    position_reason: str | None
    with_lengths: int
    length: LengthBias
    length_reason: str | None


@dataclass(frozen=True, slots=True)
class LengthControl:
    """The length-controlled fit over the battles with lengths (None, with a reason, if none)."""

    fit: LengthControlledRatings | None
    reason: str | None
    without_lengths: int


@dataclass(frozen=True, slots=True)
class BattleReliability:
    """Every judge's biases, and the length-controlled ratings of all battles."""

    judges: tuple[JudgeBias, ...]
    length_control: LengthControl


def battle_reliability(
    battles: Iterable[Battle], config: BTConfig | None = None
) -> BattleReliability:
    """Position and length bias per judge, and the length-controlled BT (``config``'s
    scale, penalty and anchor, as the plain ratings)."""
    by_judge: defaultdict[str, list[Battle]] = defaultdict(list)
    for battle in battles:
        by_judge[battle.judge].append(battle)
    judges = tuple(_judge_bias(judge, by_judge[judge]) for judge in sorted(by_judge))
    everything = [b for group in by_judge.values() for b in group]
    return BattleReliability(judges, _length_control(everything, config or BTConfig()))


def _judge_bias(judge: str, battles: Sequence[Battle]) -> JudgeBias:
    selections = _selections(battles)
    position = order_bias(selections)
    position_reason = None
    if position.both_orders == 0:
        both = any({order for order, _ in s} == {"ab", "ba"} for s in selections)
        position_reason = NO_READABLE_BOTH if both else NO_BOTH_ORDERS
    pairs = _length_pairs(battles)
    length = length_bias(pairs)
    length_reason = None
    if length.decided == 0:
        length_reason = NO_UNEQUAL if pairs else NO_LENGTHS
    return JudgeBias(
        judge, len(battles), position, position_reason, len(pairs), length, length_reason
    )


def _selections(battles: Sequence[Battle]) -> list[OrderChoices]:
    """Each selection's judgements, the orders and sides put in the bots' name order."""
    grouped: defaultdict[tuple[str, int, str, str], list[tuple[ShownOrder, Side | None]]]
    grouped = defaultdict(list)
    for battle in battles:
        low, high = sorted((battle.bot_a, battle.bot_b))
        swapped = battle.bot_a != low
        judged = battle.choices or {battle.shown_order: battle.winner}
        for order, winner in judged.items():
            side = cast(Side, winner) if winner in _SWAP_SIDE else None
            if swapped:
                order = _SWAP_ORDER[order]
                side = None if side is None else _SWAP_SIDE[side]
            grouped[(battle.dialogue_id, battle.turn, low, high)].append((order, side))
    return list(grouped.values())


def _length_pairs(battles: Iterable[Battle]) -> list[JudgedPair]:
    """The battles that carry both reply lengths, as the statistics' pairs."""
    return [
        JudgedPair(b.bot_a, b.bot_b, b.length_a, b.length_b, b.winner, ())
        for b in battles
        if b.length_a is not None and b.length_b is not None
    ]


def _length_control(battles: Sequence[Battle], config: BTConfig) -> LengthControl:
    usable = [b for b in battles if b.usable]
    pairs = [p for p in _length_pairs(usable) if p.length_a + p.length_b > 0]
    without = len(usable) - len(pairs)
    if not pairs:
        return LengthControl(None, "no readable battle carries reply lengths", without)
    bots = {p.bot_a for p in pairs} | {p.bot_b for p in pairs}
    if config.anchor is not None and config.anchor not in bots:
        reason = f"the anchor {config.anchor!r} is in no readable battle with reply lengths"
        return LengthControl(None, reason, without)
    return LengthControl(length_controlled_bt(pairs, config), None, without)
