"""The statistics of agreement between raters, for values on a known scale.

Values are given as their index in the item's scale (0 .. K-1), so ordinal labels such
as safety severities compare by rank and nominal ones by identity.

* **Krippendorff's alpha** (:func:`alpha`) of a raters × units table with gaps, at the
  ``ordinal`` or ``nominal`` level, from the coincidence matrix (Krippendorff,
  *Computing Krippendorff's Alpha-Reliability*, 2011) computed from each unit's counts
  of values (:func:`value_counts`, :func:`alpha_of_counts`) in a few matrix products, so
  a thousand bootstrap resamples of a thousand units take a moment;
* **Cohen's kappa** of two raters over the same units (:func:`weighted_kappa`), with
  quadratic weights for ordinal scales (disagreeing by two steps costs four times as much
  as by one) and none for nominal ones; with K categories,
  κ = 1 − Σ w_ij o_ij / Σ w_ij e_ij, w_ij = (i − j)² or [i ≠ j];
* **raw agreement**: the share of pairs of ratings that are equal (and, on ordinal
  scales, that differ by at most one step), with Wilson intervals;
* **confusion matrices** of pairs of ratings;
* **percentile bootstrap** intervals that resample *units* (sessions, selections) with
  replacement, so ratings of one unit stay together; resamples in which a statistic is
  undefined are dropped and counted, never filled in.

``tests/test_calibration.py`` checks alpha against the ``krippendorff`` package and
kappa against scikit-learn's ``cohen_kappa_score``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

Metric = Literal["ordinal", "nominal"]
Table = Sequence[Sequence[int | None]]  # raters × units, scale indexes, None: not rated


def value_counts(units: Sequence[Sequence[int]], categories: int) -> NDArray[np.float64]:
    """A units × categories matrix: how often each value was given to each unit."""
    counts = np.zeros((len(units), categories))
    for row, values in enumerate(units):
        np.add.at(counts[row], np.asarray(values, dtype=np.int64), 1.0)
    return counts


def alpha_of_counts(counts: NDArray[np.float64], metric: Metric) -> float:
    """Krippendorff's alpha from per-unit value counts; units with fewer than two values
    pair nothing and are left out. NaN without a pairable value, or without variation
    (every pairable value the same: 0/0)."""
    given = counts.sum(axis=1)
    pairable = given >= 2
    counts, given = counts[pairable], given[pairable]
    if not len(counts):
        return math.nan
    weights = 1.0 / (given - 1)
    coincidence = (counts * weights[:, None]).T @ counts - np.diag(weights @ counts)
    totals = coincidence.sum(axis=1)
    n = totals.sum()
    delta = _squared_distance(totals, metric)
    expected = (np.outer(totals, totals) * delta).sum() / (n * (n - 1))
    if expected == 0:
        return math.nan
    return float(1.0 - (coincidence * delta).sum() / n / expected)


def _squared_distance(totals: NDArray[np.float64], metric: Metric) -> NDArray[np.float64]:
    """δ² between categories: 0/1 (nominal), or the squared sum of the margins between
    them less half their own (ordinal: ranks, not values, matter)."""
    k = len(totals)
    if metric == "nominal":
        return 1.0 - np.eye(k)
    cumulative = np.concatenate([[0.0], np.cumsum(totals)])
    index = np.arange(k)
    low, high = np.minimum.outer(index, index), np.maximum.outer(index, index)
    between = cumulative[high + 1] - cumulative[low]
    squared: NDArray[np.float64] = (between - (totals[low] + totals[high]) / 2) ** 2
    return squared


def alpha(table: Table, metric: Metric, categories: int) -> float:
    """Krippendorff's alpha of a raters × units ``table`` of scale indexes (None: gap)."""
    if not table or not table[0]:
        return math.nan
    units = [[row[u] for row in table if row[u] is not None] for u in range(len(table[0]))]
    return alpha_of_counts(value_counts(units, categories), metric)  # type: ignore[arg-type]


def weighted_kappa(
    first: Sequence[int], second: Sequence[int], categories: int, metric: Metric
) -> float:
    """Cohen's kappa of two equally long label sequences (scale indexes); NaN when there is
    no pair, or when chance alone would explain every pair (no variation)."""
    if not first:
        return math.nan
    observed = np.zeros((categories, categories))
    np.add.at(observed, (np.asarray(first), np.asarray(second)), 1.0)
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    index = np.arange(categories)
    if metric == "ordinal":
        weights = np.subtract.outer(index, index).astype(float) ** 2
    else:
        weights = 1.0 - np.eye(categories)
    chance = float((weights * expected).sum())
    if chance == 0:
        return math.nan
    return 1.0 - float((weights * observed).sum()) / chance


def confusion(first: Sequence[int], second: Sequence[int], categories: int) -> list[list[int]]:
    """Counts of (row: first, column: second) label pairs."""
    matrix = np.zeros((categories, categories), dtype=np.int64)
    np.add.at(matrix, (np.asarray(first, dtype=np.int64), np.asarray(second, dtype=np.int64)), 1)
    return [[int(x) for x in row] for row in matrix]


@dataclass(frozen=True, slots=True)
class Interval:
    """A percentile bootstrap interval; ``dropped`` resamples had no value."""

    lower: float
    upper: float
    rounds: int
    dropped: int
    values: NDArray[np.float64]

    def share_below(self, threshold: float) -> float:
        """The share of the resamples below ``threshold`` (NaN without any)."""
        return float((self.values < threshold).mean()) if len(self.values) else math.nan


NO_INTERVAL = Interval(math.nan, math.nan, 0, 0, np.zeros(0))


def bootstrap(
    units: int,
    statistic: Callable[[NDArray[np.int64]], float],
    rng: np.random.Generator,
    rounds: int,
    level: float = 0.95,
) -> Interval:
    """``statistic`` of ``rounds`` resamples of the unit indexes 0 .. units-1."""
    if units < 2 or rounds < 1:
        return NO_INTERVAL
    values = np.array(
        [statistic(rng.integers(0, units, size=units)) for _ in range(rounds)], dtype=float
    )
    kept = values[~np.isnan(values)]
    if not len(kept):
        return Interval(math.nan, math.nan, rounds, rounds, kept)
    tail = (1 - level) / 2 * 100
    lower, upper = np.percentile(kept, [tail, 100 - tail])
    return Interval(float(lower), float(upper), rounds, rounds - len(kept), kept)
