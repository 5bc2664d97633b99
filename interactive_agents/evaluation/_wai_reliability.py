"""How far a judge agrees with itself: Krippendorff's alpha across its rounds of WAI ratings.

Each round of ``evaluate wai`` is an independent rating of every item of every dialogue,
so the rounds are the "coders" and the (dialogue, item) pairs the units. Alpha is 1 for
perfect agreement and 0 when the rounds agree no more than chance (below 0: worse); it
allows missing ratings (a failed or unparsable call). The WAI ratings are a 1-7 scale,
so the default level is ``interval``; ``ordinal`` treats them as ranks only.

Computed from the coincidence matrix (Krippendorff, *Computing Krippendorff's Alpha-
Reliability*, 2011); ``tests/test_reliability.py`` checks it against the ``krippendorff``
package and hand-computed values. ``evaluate wai`` reports it per corpus
(:func:`~interactive_agents.evaluation._report.wai_report`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from interactive_agents.evaluation._wai import WaiResult

AlphaLevel = Literal["nominal", "ordinal", "interval"]
ALPHA_LEVELS: tuple[AlphaLevel, ...] = ("interval", "ordinal", "nominal")


def _distance(
    values: NDArray[np.float64], totals: NDArray[np.float64], level: AlphaLevel
) -> NDArray[np.float64]:
    """The squared difference δ² between every pair of observed values."""
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "interval":
        squared: NDArray[np.float64] = np.subtract.outer(values, values) ** 2
        return squared
    cumulative = np.concatenate([[0.0], np.cumsum(totals)])
    low = np.minimum.outer(np.arange(len(values)), np.arange(len(values)))
    high = np.maximum.outer(np.arange(len(values)), np.arange(len(values)))
    between = cumulative[high + 1] - cumulative[low]
    ranked: NDArray[np.float64] = (between - (totals[low] + totals[high]) / 2) ** 2
    return ranked


def krippendorff_alpha(
    ratings: Sequence[Sequence[float | None]], level: AlphaLevel = "interval"
) -> float:
    """Alpha of a coders × units table (None or NaN: missing); NaN with no pairable unit.

    Units rated by fewer than two coders carry no information and are left out. When
    every pairable rating is the same value there is no variation to agree on and alpha
    is undefined (0/0): NaN, as the reference ``krippendorff`` package refuses it.
    """
    table = np.array([[np.nan if v is None else v for v in row] for row in ratings], dtype=float)
    if table.ndim != 2 or table.size == 0:
        return math.nan
    values = np.unique(table[~np.isnan(table)])
    index = {value: i for i, value in enumerate(values)}
    coincidence = np.zeros((len(values), len(values)))
    for unit in table.T:
        present = [index[v] for v in unit[~np.isnan(unit)]]
        if len(present) < 2:
            continue
        counts = np.bincount(present, minlength=len(values)).astype(float)
        pairs = np.outer(counts, counts) - np.diag(counts)
        coincidence += pairs / (len(present) - 1)
    totals = coincidence.sum(axis=1)
    n = totals.sum()
    if n <= 1:
        return math.nan
    delta = _distance(values, totals, level)
    observed = (coincidence * delta).sum() / n
    expected = (np.outer(totals, totals) * delta).sum() / (n * (n - 1))
    if expected == 0:
        return math.nan
    return float(1.0 - observed / expected)


@dataclass(frozen=True, slots=True)
class WaiAlpha:
    """Alpha across the judge's rounds: over all items together, and per WAI item.

    ``reason`` says why ``overall`` is NaN (one round only, or no unit rated twice).
    """

    corpus: str
    level: AlphaLevel
    rounds: int
    overall: float
    items: dict[int, float]
    reason: str | None = None


def wai_alpha(result: WaiResult, level: AlphaLevel = "interval") -> WaiAlpha:
    """Alpha of the rounds of one corpus's WAI ratings (units: dialogue × item)."""
    rounds = max((len(s.rounds) for d in result.scores for s in d.items), default=0)

    def table(item: int | None) -> list[list[float | None]]:
        units = [s for d in result.scores for s in d.items if item is None or s.item == item]
        return [[_rating(unit.rounds, r) for unit in units] for r in range(rounds)]

    numbers = sorted({s.item for d in result.scores for s in d.items})
    overall = krippendorff_alpha(table(None), level)
    reason = None
    if not result.scores:
        reason = "no dialogue of this corpus was rated"
    elif rounds < 2:
        reason = (
            f"Krippendorff's alpha needs 2 or more rounds of ratings (--rounds); "
            f"this corpus has {rounds}"
        )
    elif math.isnan(overall) and _constant(table(None)):
        reason = "every rating is the same value: alpha is undefined without variation"
    elif math.isnan(overall):
        reason = "no (dialogue, item) was rated in two rounds with a parsable answer"
    return WaiAlpha(
        corpus=result.corpus,
        level=level,
        rounds=rounds,
        overall=overall,
        items={number: krippendorff_alpha(table(number), level) for number in numbers},
        reason=reason,
    )


def _constant(ratings: list[list[float | None]]) -> bool:
    """Whether the units rated at least twice hold ratings all of one value."""
    paired = [[value for value in unit if value is not None] for unit in zip(*ratings, strict=True)]
    seen = {value for unit in paired if len(unit) >= 2 for value in unit}
    return len(seen) == 1


def _rating(rounds: tuple[int | None, ...], index: int) -> float | None:
    """Round ``index``'s rating, None when that call failed or the round is missing."""
    value = rounds[index] if index < len(rounds) else None
    return None if value is None else float(value)
