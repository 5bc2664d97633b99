"""Summaries and comparisons of per-dialogue scores: n, mean, std, t-tests.

Every evaluation reports the same statistics: a group's size, mean and sample standard
deviation (``ddof=1``), and two-tailed t-tests between groups. The paper reports
Student's test (``scipy.stats.ttest_ind``, equal variances, ``test="student"``); groups
that pair the same sessions (mapping and random) may use the paired test instead
(``scipy.stats.ttest_rel``, ``test="paired"``). :func:`t_test` is the one place both are
computed.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

TestKind = Literal["student", "paired"]
TEST_KINDS: tuple[TestKind, ...] = ("student", "paired")


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
    t_statistic, p_value = t_test(values_a, values_b, "student")
    return TTest(metric, a, b, len(values_a), len(values_b), t_statistic, p_value)


def t_test(
    values_a: Sequence[float] | npt.NDArray[np.float64],
    values_b: Sequence[float] | npt.NDArray[np.float64],
    kind: TestKind,
) -> tuple[float, float]:
    """Two-tailed t statistic and p-value; ``paired`` needs equal lengths (same sessions).

    NaN when a group has fewer than two values or the test is undefined (constant data).
    """
    a = np.asarray(values_a, dtype=np.float64)
    b = np.asarray(values_b, dtype=np.float64)
    if a.size < 2 or b.size < 2:
        return math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        test = stats.ttest_rel(a, b) if kind == "paired" else stats.ttest_ind(a, b)
    return float(test.statistic), float(test.pvalue)


def pairs(names: Sequence[str]) -> list[tuple[int, int]]:
    """Every pair of corpora (i < j), in command-line order."""
    return [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
