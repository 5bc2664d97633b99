"""Judge reliability (docs/method.md#judge-reliability): how often a judge chose as the human did.

A judge's battle is matched with the human labels of the same selection: same
``dialogue_id``, ``turn`` and pair of bots. The pair is matched in either order, and the
choice compared by the bot it names, so a judge that listed the bots the other way round
still lines up. Rules, stated once:

* a human label that is ``unparsable`` is no label: it is dropped and counted;
* a tie is a choice like any other: it agrees only with a tie;
* an ``unparsable`` judge verdict on a labelled selection counts as a disagreement
  (a judge that cannot answer is not reliable) and is counted separately;
* a judge battle with no human label is left out and counted as unmatched;
* when one selection has several human labels or several judge verdicts (for example
  both presentation orders), every human-judge pair is one comparison.

Accuracy comes with a Wilson score interval, which stays inside [0, 1] and behaves at
small samples and near 0 or 1, unlike the normal approximation.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from interactive_agents.arena._battles import Battle
from interactive_agents.ratings._judge_bias import cohen_kappa, kappa_interval

Key = tuple[str, int, str, str]
_SWAPPED = {"a": "b", "b": "a"}


def selection(battle: Battle) -> tuple[Key, str]:
    """The selection a battle judged, with bots in name order, and its choice in that order."""
    if battle.bot_a <= battle.bot_b:
        return (battle.dialogue_id, battle.turn, battle.bot_a, battle.bot_b), battle.winner
    key = (battle.dialogue_id, battle.turn, battle.bot_b, battle.bot_a)
    return key, _SWAPPED.get(battle.winner, battle.winner)


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


@dataclass(frozen=True, slots=True)
class JudgeAgreement:
    """One judge against the human labels; ``accuracy`` is None when nothing matched."""

    judge: str
    matched: int
    agreed: int
    accuracy: float | None
    lower: float
    upper: float
    ties: int
    unparsable: int
    unmatched: int
    kappa: float = math.nan  # Cohen's kappa on the matched labels: chance-corrected
    kappa_lower: float = math.nan  # seeded percentile bootstrap interval of kappa
    kappa_upper: float = math.nan


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Every judge's agreement, plus how many human labels were usable."""

    human_labels: int
    human_unparsable: int
    judges: tuple[JudgeAgreement, ...]


def agreement(
    human: Iterable[Battle],
    judges: Mapping[str, Iterable[Battle]],
    level: float = 0.95,
    rng: np.random.Generator | None = None,
) -> AgreementReport:
    """Agreement of each judge (by label) with the human battles, with its interval, and
    Cohen's kappa with a bootstrap interval (``rng`` seeds it; default seed 0)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    labels: defaultdict[Key, list[str]] = defaultdict(list)
    human_unparsable = 0
    for battle in human:
        if not battle.usable:
            human_unparsable += 1
            continue
        key, choice = selection(battle)
        labels[key].append(choice)
    return AgreementReport(
        human_labels=sum(map(len, labels.values())),
        human_unparsable=human_unparsable,
        judges=tuple(_judge(name, battles, labels, level, rng) for name, battles in judges.items()),
    )


def _judge(
    name: str,
    battles: Iterable[Battle],
    labels: Mapping[Key, list[str]],
    level: float,
    rng: np.random.Generator,
) -> JudgeAgreement:
    matched = agreed = ties = unparsable = unmatched = 0
    judged: list[str] = []
    humans: list[str] = []
    for battle in battles:
        key, choice = selection(battle)
        human_choices = labels.get(key, [])
        if not human_choices:
            unmatched += 1
            continue
        matched += len(human_choices)
        judged.extend([choice] * len(human_choices))
        humans.extend(human_choices)
        agreed += sum(choice == human for human in human_choices)
        ties += len(human_choices) * (choice == "tie")
        unparsable += len(human_choices) * (choice == "unparsable")
    lower, upper = wilson_interval(agreed, matched, level)
    kappa = cohen_kappa(judged, humans)
    k_lower, k_upper = (
        kappa_interval(judged, humans, rng, level=level) if judged else (math.nan, math.nan)
    )
    return JudgeAgreement(
        judge=name,
        matched=matched,
        agreed=agreed,
        accuracy=agreed / matched if matched else None,
        lower=lower,
        upper=upper,
        ties=ties,
        unparsable=unparsable,
        unmatched=unmatched,
        kappa=kappa,
        kappa_lower=k_lower,
        kappa_upper=k_upper,
    )
