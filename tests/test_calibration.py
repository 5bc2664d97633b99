"""Calibration statistics: alpha, kappa and the judge-people comparison, against reference
implementations (the ``krippendorff`` package, scikit-learn) and answers known by design."""

from __future__ import annotations

import math
from collections.abc import Mapping

import krippendorff
import numpy as np
import pytest
from numpy.typing import NDArray
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

from interactive_agents.ratings import AgreementConfig, Rating, calibrate
from interactive_agents.ratings._agreement_statistics import (
    Metric,
    alpha,
    bootstrap,
    weighted_kappa,
)

WAI = tuple(range(1, 8))
FAST = AgreementConfig(bootstrap=200)
TOPICS = ("anxiety", "sleep", "work-stress", "grief")


def _table(
    rng: np.random.Generator, raters: int, units: int, k: int, gaps: float
) -> list[list[int | None]]:
    truth = rng.integers(0, k, size=units)
    noisy = np.clip(truth + rng.integers(-1, 2, size=(raters, units)), 0, k - 1)
    hidden = rng.random((raters, units)) < gaps
    return [
        [None if hidden[r, u] else int(noisy[r, u]) for u in range(units)] for r in range(raters)
    ]


@pytest.mark.parametrize("metric", ["ordinal", "nominal"])
@pytest.mark.parametrize("seed", range(5))
def test_alpha_equals_the_krippendorff_package(metric: Metric, seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = _table(rng, raters=int(rng.integers(2, 6)), units=40, k=7, gaps=0.3)
    expected = krippendorff.alpha(
        reliability_data=np.array([[np.nan if v is None else v for v in row] for row in table]),
        level_of_measurement=metric,
        value_domain=list(range(7)),
    )
    assert alpha(table, metric, 7) == pytest.approx(expected, abs=1e-12)


def test_alpha_by_hand_and_when_undefined() -> None:
    # Units (1, 1), (2, 2), (1, 2): D_o = 2/6, D_e = 18/30 (nominal): alpha = 4/9.
    assert alpha([[0, 1, 0], [0, 1, 1]], "nominal", 2) == pytest.approx(4 / 9)
    assert math.isnan(alpha([[3, 3], [3, 3]], "ordinal", 7))  # no variation
    assert math.isnan(alpha([[1, None], [None, 2]], "ordinal", 7))  # nothing pairable


@pytest.mark.parametrize("seed", range(5))
def test_kappa_equals_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    first = [int(x) for x in rng.integers(0, 7, size=60)]
    second = [int(np.clip(x + rng.integers(-2, 3), 0, 6)) for x in first]
    cases: list[tuple[Metric, str | None]] = [("ordinal", "quadratic"), ("nominal", None)]
    for metric, weights in cases:
        expected = cohen_kappa_score(first, second, labels=list(range(7)), weights=weights)
        assert weighted_kappa(first, second, 7, metric) == pytest.approx(expected, abs=1e-12)


def test_bootstrap_drops_undefined_resamples_and_counts_them() -> None:
    values = np.array([0.0, 0.0, 1.0])

    def mean_unless_constant(chosen: NDArray[np.int64]) -> float:
        picked = values[chosen]
        return math.nan if picked.min() == picked.max() else float(picked.mean())

    interval = bootstrap(3, mean_unless_constant, np.random.default_rng(0), 400)
    assert interval.dropped > 0 and len(interval.values) == 400 - interval.dropped
    assert 0 < interval.lower <= interval.upper < 1


# -- a judge against people, on data whose answer is known ------------------------------------


def _ratings(rater: str, values: Mapping[tuple[str, int], int | None]) -> list[Rating]:
    return [
        Rating("corpus", session, rater, "wai", f"wai-{item}", "ordinal", WAI, value)
        for (session, item), value in values.items()
    ]


def _design(seed: int = 3) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
    """ana's and bob's scores of 30 sessions × 2 items; bob is ana ± 1 on a third of them."""
    rng = np.random.default_rng(seed)
    ana = {(f"s{s}", i): int(rng.integers(1, 8)) for s in range(30) for i in (1, 2)}
    bob = {
        key: int(np.clip(v + (rng.choice([-1, 1]) if n % 3 == 0 else 0), 1, 7))
        for n, (key, v) in enumerate(ana.items())
    }
    return ana, bob


def _package_alpha(*coders: list[int]) -> float:
    table = np.array(coders, dtype=float)
    return float(
        krippendorff.alpha(
            reliability_data=table, level_of_measurement="ordinal", value_domain=list(WAI)
        )
    )


def test_a_judge_that_copies_one_annotator_is_measured_as_designed() -> None:
    ana, bob = _design()
    people = _ratings("human:ana", ana) + _ratings("human:bob", bob)
    judge = _ratings("judge", ana)
    calibration = calibrate(people, {"judge": judge}, FAST)
    rows = {row.spec.item: row for row in calibration.people}
    judged = {row.spec.item: row for row in calibration.judges[0].items}
    for item in (1, 2):
        keys = [k for k in ana if k[1] == item]
        a, b = [ana[k] for k in keys], [bob[k] for k in keys]
        people_row, judge_row = rows[f"wai-{item}"].agreement, judged[f"wai-{item}"].agreement
        assert people_row.alpha == pytest.approx(_package_alpha(a, b), abs=1e-12)
        # The judge is paired with ana (always equal) and with bob: 2 × 30 pairs.
        assert judge_row.alpha == pytest.approx(_package_alpha(a + a, a + b), abs=1e-12)
        assert judge_row.pairs == 60 and judge_row.units == 30
        equal = sum(x == y for x, y in zip(a, b, strict=True))
        assert judge_row.agreement == pytest.approx((30 + equal) / 60)
        assert people_row.agreement == pytest.approx(equal / 30)
        assert people_row.kappa == pytest.approx(
            cohen_kappa_score(a, b, labels=list(WAI), weights="quadratic")
        )
    pooled = rows["wai (all items)"].agreement
    assert pooled.alpha == pytest.approx(_package_alpha(list(ana.values()), list(bob.values())))
    assert pooled.units == 60
    assert calibration.judges[0].items[0].meets is True


def test_offset_length_bias_missing_unmatched_and_the_threshold() -> None:
    ana, bob = _design()
    lengths = {f"s{s}": 100 + 10 * s for s in range(30)}
    people = [
        Rating("corpus", s, rater, "wai", f"wai-{i}", "ordinal", WAI, v, length=lengths[s])
        for rater, values in (("human:ana", ana), ("human:bob", bob))
        for (s, i), v in values.items()
    ]
    # The judge rates one step above ana on the long sessions (s15..), as ana below;
    # it gives no readable score on s0 and never sees s1.
    judge_values: dict[tuple[str, int], int | None] = {
        (s, i): min(v + (int(s[1:]) >= 15), 7) for (s, i), v in ana.items() if s != "s1"
    }
    judge_values.update({("s0", 1): None, ("s0", 2): None})
    calibration = calibrate(people, {"judge": _ratings("judge", judge_values)}, FAST)
    item = next(r for r in calibration.judges[0].items if r.spec.item == "wai-1")
    assert (item.missing, item.unmatched, item.agreement.units) == (1, 1, 28)
    assert item.offset is not None
    assert 0.3 < item.offset.mean < 0.6 and item.offset.length_rho > 0.5
    assert item.offset.length_p < 0.01 and item.offset.length_units == 28
    strict = calibrate(people, {"judge": _ratings("judge", judge_values)},
                       AgreementConfig(threshold=0.99, bootstrap=50))  # fmt: skip
    assert {row.meets for row in strict.judges[0].items} == {False}


def test_what_cannot_be_measured_says_why() -> None:
    people = _ratings("human:ana", {("s0", 1): 4, ("s1", 1): 4}) + _ratings(
        "human:bob", {("s0", 1): 4, ("s1", 1): 4}
    )
    judge = _ratings("judge", {("s0", 1): 4, ("s1", 1): 4})
    calibration = calibrate(people, {"judge": judge}, FAST)
    (row,) = calibration.people
    assert math.isnan(row.agreement.alpha) and "same value" in (row.agreement.reason or "")
    (judged,) = calibration.judges[0].items
    assert judged.meets is None and judged.agreement.agreement == 1.0
    lone = calibrate(_ratings("human:ana", {("s0", 1): 4}), {"judge": judge}, FAST)
    assert "fewer than two units" in (lone.people[0].agreement.reason or "")
    elsewhere = _ratings("judge", {("s9", 1): 4})
    blind = calibrate(people, {"judge": elsewhere}, FAST).judges[0].items[0]
    assert (blind.unmatched, blind.agreement.units) == (2, 0) and blind.meets is None


def _topics(rater: str, chosen: Mapping[str, tuple[str, ...] | None]) -> list[Rating]:
    return [
        Rating("corpus", s, rater, "topics", "topics", "set", TOPICS, value)
        for s, value in chosen.items()
    ]


def test_topic_sets_are_compared_per_topic_and_as_whole_sets() -> None:
    rng = np.random.default_rng(5)
    ana = {
        f"s{s}": tuple(sorted(str(t) for t in rng.choice(TOPICS, size=2, replace=False)))
        for s in range(24)
    }
    bob = {s: (v if n % 4 else v[:1]) for n, (s, v) in enumerate(ana.items())}
    judge_sets: dict[str, tuple[str, ...] | None] = {**ana, "s0": None}
    calibration = calibrate(
        _topics("human:ana", ana) + _topics("human:bob", bob),
        {"judge": _topics("judge", judge_sets)},
        FAST,
    )
    people = {row.spec.item: row.agreement for row in calibration.people}
    pooled = people["topics"]
    assert pooled.agreement == pytest.approx(18 / 24)  # equal sets: bob dropped a topic on 6
    assert pooled.jaccard == pytest.approx((18 + 6 * 0.5) / 24)
    for topic in TOPICS:
        a = [int(topic in ana[s]) for s in ana]
        b = [int(topic in bob[s]) for s in ana]
        assert people[f"topics={topic}"].alpha == pytest.approx(
            krippendorff.alpha(reliability_data=np.array([a, b]), level_of_measurement="nominal"),
            abs=1e-12,
        )
    judge = {row.spec.item: row for row in calibration.judges[0].items}
    assert judge["topics"].missing == 1 and judge["topics"].agreement.jaccard is not None
    assert judge["topics=anxiety"].missing == 1
