"""Summaries and comparisons of per-dialogue scores: n, mean, std, t-tests.

Every evaluation reports the same statistics: a group's size, mean and sample standard
deviation (``ddof=1``), and two-tailed t-tests between groups. The paper reports
Student's test (``scipy.stats.ttest_ind``, equal variances, ``test="student"``); groups
that pair the same sessions (mapping and random) may use the paired test instead
(``scipy.stats.ttest_rel``, ``test="paired"``). :func:`t_test` is the one place both are
computed.

Every test also says whether its sample is big enough for it (:func:`sample_note`): the
smallest effect it detects, as Cohen's d (standardised mean difference; for the paired
test, of the differences), with 80 % power at the two-sided 5 % level, from the
noncentral t distribution. A test that detects only effects larger than a "large" one
(d = 0.8; Cohen 1988) is too small to be read as evidence either way (a p above 0.05
says nothing, one below it comes with a grossly exaggerated effect); with fewer than two
values per group no test is run at all. The note is shown beside the test.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import optimize, stats

TestKind = Literal["student", "paired"]
TEST_KINDS: tuple[TestKind, ...] = ("student", "paired")

POWER = 0.8
ALPHA = 0.05
LARGE_EFFECT = 0.8
"""Cohen's d of a "large" effect: a test that cannot detect it is too small."""


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """Size, mean and sample standard deviation of one group's scores."""

    n: int
    mean: float
    std: float


@dataclass(frozen=True, slots=True)
class TTest:
    """A two-tailed Student's t-test of ``metric`` between corpora ``a`` and ``b``;
    ``sample`` says whether the groups are big enough for it (:func:`sample_note`)."""

    metric: str
    a: str
    b: str
    n_a: int
    n_b: int
    t_statistic: float
    p_value: float
    sample: str = ""


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
    n_a, n_b = len(values_a), len(values_b)
    note = sample_note(n_a, n_b, "student")
    return TTest(metric, a, b, n_a, n_b, t_statistic, p_value, note)


def _power(effect: float, n_a: int, n_b: int, kind: TestKind) -> float:
    """Power of the two-sided test at ALPHA against a true effect of ``effect`` (d)."""
    if kind == "paired":
        df, shift = n_a - 1, effect * math.sqrt(n_a)
    else:
        df, shift = n_a + n_b - 2, effect * math.sqrt(n_a * n_b / (n_a + n_b))
    critical = stats.t.ppf(1 - ALPHA / 2, df)
    return float(stats.nct.sf(critical, df, shift) + stats.nct.cdf(-critical, df, shift))


def detectable_effect(n_a: int, n_b: int, kind: TestKind) -> float:
    """The smallest Cohen's d the test detects with POWER at ALPHA (inf: none below 64,
    NaN: fewer than two values in a group)."""
    if n_a < 2 or n_b < 2:
        return math.nan
    high = 0.5
    while not _power(high, n_a, n_b, kind) >= POWER:  # also stops on NaN
        high *= 2
        if high > 64 or math.isnan(_power(high, n_a, n_b, kind)):
            return math.inf
    return float(optimize.brentq(lambda d: _power(d, n_a, n_b, kind) - POWER, 1e-9, high))


def sample_note(n_a: int, n_b: int, kind: TestKind) -> str:
    """Whether groups of these sizes are big enough for the test, in words."""
    if n_a < 2 or n_b < 2:
        return "not run: fewer than 2 values in a group"
    effect = detectable_effect(n_a, n_b, kind)
    shown = "no effect below d = 64" if math.isinf(effect) else f"only d >= {effect:.2f}"
    if not effect <= LARGE_EFFECT:
        return f"too small: detects {shown} with 80% power"
    return f"ok: detects d >= {effect:.2f} with 80% power"


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
