"""Summaries and comparisons of per-dialogue scores: n, mean, std, Student's t-tests.

Every evaluation reports the same statistics: a group's size, mean and sample standard
deviation (``ddof=1``), and two-tailed Student's t-tests (``scipy.stats.ttest_ind``,
equal variances) between groups, as the paper reports them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """Size, mean and sample standard deviation of one group's scores."""

    n: int
    mean: float
    std: float


@dataclass(frozen=True, slots=True)
class TTest:
    """A two-tailed Student's t-test of ``metric`` between corpora ``a`` and ``b``."""

    metric: str
    a: str
    b: str
    n_a: int
    n_b: int
    t_statistic: float
    p_value: float


def describe(values: Sequence[float] | npt.NDArray[np.float64]) -> GroupSummary:
    """n, mean and sample standard deviation (``ddof=1``); NaN where undefined."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return GroupSummary(0, math.nan, math.nan)
    std = float(np.std(array, ddof=1)) if array.size > 1 else math.nan
    return GroupSummary(int(array.size), float(np.mean(array)), std)


def student_t(
    metric: str, a: str, values_a: Sequence[float], b: str, values_b: Sequence[float]
) -> TTest:
    """Two-tailed Student's t-test (``scipy.stats.ttest_ind``, equal variances).

    NaN when a group has fewer than two values or both groups are constant.
    """
    t_statistic = p_value = math.nan
    if len(values_a) >= 2 and len(values_b) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            test = stats.ttest_ind(
                np.asarray(values_a, dtype=np.float64), np.asarray(values_b, dtype=np.float64)
            )
        t_statistic, p_value = float(test.statistic), float(test.pvalue)
    return TTest(metric, a, b, len(values_a), len(values_b), t_statistic, p_value)


def pairs(names: Sequence[str]) -> list[tuple[int, int]]:
    """Every pair of corpora (i < j), in command-line order."""
    return [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
