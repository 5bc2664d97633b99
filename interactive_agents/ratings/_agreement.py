"""Battles as ratings, so a pairwise judge is calibrated against people like any other
(docs/method.md#judge-reliability), and the Wilson interval of raw agreement.

A battle is a rating of its *selection* (same ``dialogue_id``, ``turn`` and pair of bots,
in either order) on the item ``preference``, with the values ``a`` and ``b`` (the bot
first and second in name order, so a judge that listed the bots the other way round still
lines up) and ``tie``. Rules, stated once:

* the selection's dialogue is its cluster: the bootstrap resamples whole dialogues;
* a person's "both bad" is a tie here (the arena's judge has no such answer);
* an ``unparsable`` verdict is no value: a person's is left out and counted, a judge's is
  the judge's *missing* answer on that selection, counted beside its agreement;
* several verdicts of one rater on one selection (both presentation orders written as two
  battles) are one value: the choice they share, or a tie when they differ.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from statistics import NormalDist

from interactive_agents.arena._battles import Battle
from interactive_agents.ratings._rating_records import Rating

Key = tuple[str, int, str, str]
PREFERENCE = ("a", "b", "tie")
_SWAPPED = {"a": "b", "b": "a"}


def selection(battle: Battle) -> tuple[Key, str]:
    """The selection a battle judged, with bots in name order, and its choice in that order."""
    if battle.bot_a <= battle.bot_b:
        return (battle.dialogue_id, battle.turn, battle.bot_a, battle.bot_b), battle.winner
    key = (battle.dialogue_id, battle.turn, battle.bot_b, battle.bot_a)
    return key, _SWAPPED.get(battle.winner, battle.winner)


def battle_ratings(battles: Iterable[Battle], rater: str | None = None) -> tuple[list[Rating], int]:
    """Each rater's value per selection (``rater`` names them all, else each battle's
    ``judge``), and how many unparsable verdicts there were."""
    verdicts: defaultdict[tuple[str, Key], list[str]] = defaultdict(list)
    unparsable = 0
    for battle in battles:
        key, choice = selection(battle)
        unparsable += choice == "unparsable"
        verdicts[(rater or battle.judge, key)].append(choice)
    ratings = []
    for (name, (dialogue, turn, low, high)), choices in verdicts.items():
        readable = {c for c in choices if c != "unparsable"}
        value = None if not readable else readable.pop() if len(readable) == 1 else "tie"
        ratings.append(
            Rating(
                corpus=dialogue,
                dialogue_id=f"turn {turn}: {low} / {high}",
                rater=name,
                rubric="arena",
                item="preference",
                level="nominal",
                scale=PREFERENCE,
                value=value,
            )
        )
    return ratings, unparsable


def wilson_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when there is no trial at all."""
    if trials == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
