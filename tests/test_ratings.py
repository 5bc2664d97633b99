"""Ratings on small hand-made battle lists, checked against the formulas by hand."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import log_expit

from interactive_agents.arena._battles import Battle, Winner
from interactive_agents.errors import ConfigError
from interactive_agents.ratings._systems import (
    BTConfig,
    EloConfig,
    Matchups,
    battle_counts,
    battle_upvotes,
    bootstrap_bt,
    bootstrap_elo,
    bradley_terry,
    interval,
    matchups,
    online_elo,
    ranks,
    rate,
    shuffled_elo,
    win_fractions,
)


def _b(bot_a: str, bot_b: str, winner: Winner, timestamp: float = 0.0) -> Battle:
    return Battle("d", 0, bot_a, bot_b, "ab", winner, "judge", timestamp=timestamp)


def _expected(own: float, other: float) -> float:
    """Elo's expected score, written out from the formula."""
    return 1 / (1 + 10 ** ((other - own) / 400))


def _elo(battles: list[Battle], k: float = 4.0) -> dict[str, float]:
    m = matchups(battles)
    return dict(zip(m.models, online_elo(m, EloConfig(k=k)).tolist(), strict=True))


# --- Online Elo ----------------------------------------------------------------------


def test_two_battles_by_hand() -> None:
    # 1: A beats B from 1000 each, expectation 0.5 -> A 1002, B 998.
    # 2: C (1000) beats A (1002).
    e_a = _expected(1002, 1000)
    ratings = _elo([_b("A", "B", "a"), _b("A", "C", "b")])
    assert ratings == pytest.approx({"A": 1002 - 4 * e_a, "B": 998, "C": 1000 + 4 * e_a})


def test_k_is_the_step_size() -> None:
    assert _elo([_b("A", "B", "b")], k=32) == pytest.approx({"A": 984, "B": 1016})


def test_battles_are_replayed_in_time_order_not_file_order() -> None:
    late_first = [_b("A", "C", "b", timestamp=2), _b("A", "B", "a", timestamp=1)]
    assert _elo(late_first) == pytest.approx(_elo([_b("A", "B", "a"), _b("A", "C", "b")]))
    assert _elo(late_first) != pytest.approx(_elo([_b("A", "C", "b"), _b("A", "B", "a")]))


def test_a_tie_scores_half() -> None:
    assert _elo([_b("A", "B", "tie")]) == pytest.approx({"A": 1000, "B": 1000})
    # After A beat B, a tie moves the stronger A down by K·(E_A − 0.5).
    e_a = _expected(1002, 998)
    after = _elo([_b("A", "B", "a"), _b("B", "A", "tie")])
    assert after == pytest.approx({"A": 1002 - 4 * (e_a - 0.5), "B": 998 + 4 * (e_a - 0.5)})


def test_unparsable_battles_are_left_out_and_counted() -> None:
    battles = [_b("A", "B", "a"), _b("A", "C", "unparsable"), _b("B", "A", "unparsable")]
    m = matchups(battles)
    assert (m.models, len(m), m.excluded) == (("A", "B"), 1, 2)
    assert _elo(battles) == pytest.approx({"A": 1002, "B": 998})


def test_shuffled_elo_averages_over_both_orders() -> None:
    battles = [_b("A", "B", "a"), _b("A", "B", "b")]
    a_first = _elo(battles)["A"]  # 1002, then loses
    b_first = _elo(battles[::-1])["A"]  # 998, then wins
    mean = shuffled_elo(matchups(battles), np.random.default_rng(0), runs=2000)
    assert min(a_first, b_first) < mean[0] < max(a_first, b_first)
    assert mean[0] == pytest.approx((a_first + b_first) / 2, abs=0.1 * abs(a_first - b_first))
    assert mean.sum() == pytest.approx(2000)


def test_elo_runs_are_zero_sum_and_seeded() -> None:
    m = matchups([_b("A", "B", "a"), _b("B", "C", "tie"), _b("C", "A", "a"), _b("A", "B", "b")])
    samples = bootstrap_elo(m, np.random.default_rng(5), rounds=50)
    assert samples.shape == (50, 3)
    assert samples.sum(axis=1) == pytest.approx(np.full(50, 3000.0))
    assert np.array_equal(samples, bootstrap_elo(m, np.random.default_rng(5), rounds=50))
    assert not np.array_equal(samples, bootstrap_elo(m, np.random.default_rng(6), rounds=50))


@pytest.mark.parametrize("function", [shuffled_elo, bootstrap_elo, bootstrap_bt])
def test_at_least_one_run_is_required(
    function: Callable[[Matchups, np.random.Generator, int], object],
) -> None:
    m = matchups([_b("A", "B", "a")])
    with pytest.raises(ValueError, match="at least 1"):
        function(m, np.random.default_rng(0), 0)


# --- Bradley-Terry -------------------------------------------------------------------

HALF_GAP_3_TO_1 = 200 * math.log10(3)  # P = 3/4 -> R_A − R_B = 400·log10(3)


def test_bt_three_wins_in_four_by_hand() -> None:
    m = matchups([_b("A", "B", "a")] * 3 + [_b("B", "A", "a")])
    assert bradley_terry(m) == pytest.approx([1000 + HALF_GAP_3_TO_1, 1000 - HALF_GAP_3_TO_1])


def test_bt_counts_a_tie_as_half_a_win_and_half_a_loss() -> None:
    m = matchups([_b("A", "B", "a"), _b("B", "A", "b"), _b("A", "B", "tie"), _b("B", "A", "tie")])
    assert bradley_terry(m) == pytest.approx([1000 + HALF_GAP_3_TO_1, 1000 - HALF_GAP_3_TO_1])


def test_bt_anchor_pins_one_model() -> None:
    m = matchups([_b("A", "B", "a")] * 3 + [_b("B", "A", "a")])
    assert bradley_terry(m, BTConfig(anchor="B")) == pytest.approx(
        [1000 + 2 * HALF_GAP_3_TO_1, 1000]
    )
    with pytest.raises(ConfigError, match="'Z' is not among the rated bots"):
        bradley_terry(m, BTConfig(anchor="Z"))


def test_bt_matches_a_generic_optimiser_on_the_same_likelihood() -> None:
    rng = np.random.default_rng(11)
    names = ["A", "B", "C", "D"]
    outcomes: list[Winner] = ["a", "b", "tie"]
    battles = []
    for _ in range(200):
        i, j = rng.choice(4, size=2, replace=False)
        battles.append(_b(names[i], names[j], outcomes[rng.choice(3, p=[0.5, 0.3, 0.2])]))
    m = matchups(battles)

    def negative_log_likelihood(r: np.ndarray) -> float:
        logits = math.log(10) * (r[m.a] - r[m.b])
        return float(-np.sum(m.score * log_expit(logits) + (1 - m.score) * log_expit(-logits)))

    reference = minimize(
        negative_log_likelihood,
        np.zeros(4),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000},
    ).x
    expected = 400 * (reference - reference.mean()) + 1000
    assert bradley_terry(m) == pytest.approx(expected, abs=1e-3)


def test_l2_shrinks_the_gap_and_keeps_an_unbeaten_bot_finite() -> None:
    m = matchups([_b("A", "B", "a")] * 3 + [_b("B", "A", "a")])
    gap = np.diff(bradley_terry(m, BTConfig(l2=1.0)))[0]
    assert -2 * HALF_GAP_3_TO_1 < gap < 0
    unbeaten = matchups([_b("A", "B", "a")] * 5)
    plain, penalised = bradley_terry(unbeaten), bradley_terry(unbeaten, BTConfig(l2=0.1))
    assert plain[0] - plain[1] > 2000  # the likelihood keeps rising: no finite maximum
    assert 0 < penalised[0] - penalised[1] < 1000


def test_bt_bootstrap_is_seeded_and_centred() -> None:
    m = matchups([_b("A", "B", "a")] * 6 + [_b("B", "A", "a")] * 3 + [_b("A", "C", "tie")] * 3)
    samples = bootstrap_bt(m, np.random.default_rng(2), rounds=200)
    assert samples.shape == (200, 3)
    assert samples.mean(axis=1) == pytest.approx(np.full(200, 1000.0))
    assert np.array_equal(samples, bootstrap_bt(m, np.random.default_rng(2), rounds=200))


# --- Intervals and ranks -------------------------------------------------------------


def test_interval_takes_the_2_5_and_97_5_percent_quantiles() -> None:
    samples = np.column_stack([np.arange(1.0, 1002.0), -np.arange(1.0, 1002.0)])
    lower, upper = interval(samples)
    assert lower.tolist() == pytest.approx([26.0, -976.0])
    assert upper.tolist() == pytest.approx([976.0, -26.0])


def test_rank_counts_models_clearly_above() -> None:
    lower = np.array([10.0, 5.0, 0.0, 16.0, 20.0])
    upper = np.array([20.0, 15.0, 4.0, 30.0, 25.0])
    # B (5-15) lies below D and E, C (0-4) below all; E touching A's bound is not above it.
    assert ranks(lower, upper).tolist() == [1, 3, 5, 1, 1]


# --- Tables --------------------------------------------------------------------------

TABLE_BATTLES = [
    _b("A", "B", "a"),
    _b("B", "A", "a"),
    _b("A", "B", "tie"),
    _b("A", "C", "a"),
    _b("C", "A", "unparsable"),
]


def test_battle_counts_are_symmetric_per_pair_without_unparsable() -> None:
    assert battle_counts(matchups(TABLE_BATTLES)).tolist() == [[0, 3, 1], [3, 0, 0], [1, 0, 0]]


def test_win_fractions_count_ties_half_and_leave_unmet_pairs_empty() -> None:
    fractions = win_fractions(matchups(TABLE_BATTLES))
    assert fractions[0, 1] == pytest.approx(1.5 / 3)  # win, loss, tie
    assert fractions[1, 0] == pytest.approx(1.5 / 3)
    assert (fractions[0, 2], fractions[2, 0]) == (1.0, 0.0)
    assert np.isnan(fractions[1, 2])
    assert np.isnan(fractions[1, 1])


def test_battle_upvotes_count_choices_and_battles_fought() -> None:
    chosen, seen = battle_upvotes(matchups(TABLE_BATTLES))
    assert chosen.tolist() == [2, 1, 0]  # the tie chooses neither
    assert seen.tolist() == [4, 3, 1]


def test_rate_builds_the_leaderboard() -> None:
    battles = [_b("A", "B", "a")] * 30 + [_b("B", "A", "a")] * 10 + [_b("C", "B", "unparsable")]
    report = rate(battles, np.random.default_rng(0), shuffles=10, rounds=100)
    assert [row.model for row in report.rows] == ["A", "B"]
    top = report.rows[0]
    assert (top.rank, top.battle_upvotes, top.battles) == (1, 30, 40)
    assert top.battle_upvote_rate == pytest.approx(0.75)
    # All 40 battles are one selection (dialogue d, turn 0) that disagrees: no upvote.
    assert (top.upvotes, top.occurrences, top.average_upvotes) == (0, 1, 0.0)
    assert top.bt == pytest.approx(1000 + 200 * math.log10(3))
    assert top.bt is not None and top.bt_lower is not None and top.bt_upper is not None
    assert top.bt_lower < top.bt < top.bt_upper
    assert top.elo_lower is not None and top.elo_upper is not None
    assert top.elo_lower < top.elo < top.elo_upper
    assert (report.battles, report.excluded, report.models) == (40, 1, ("A", "B"))
    assert report.rows[1].rank == 2


def test_rate_says_why_when_nothing_is_usable() -> None:
    report = rate([_b("A", "B", "unparsable")], np.random.default_rng(0))
    assert report.rows == () and not report.sufficient
    assert report.unusable == (
        "no usable battles to rate: 1 read, 1 unparsable (0 of them refused by the judge)"
    )


def test_one_battle_gives_no_interval_no_bt_and_no_rank() -> None:
    """One human battle: the bootstrap can only resample it, and A never lost."""
    report = rate([_b("A", "B", "a")], np.random.default_rng(0), shuffles=5, rounds=50)
    top, bottom = report.rows
    assert (top.model, top.rank, top.bt, top.bt_lower, top.elo_lower) == (
        "A",
        None,
        None,
        None,
        None,
    )
    assert top.elo == pytest.approx(1002.0) and not top.sufficient
    assert bottom.elo_upper is None and bottom.bt is None
    assert not report.sufficient
    assert any("A never lost; B never won" in w for w in report.warnings)
    assert any("A (1), B (1)" in w for w in report.warnings)
    assert any("A-B (1)" in w for w in report.warnings)
    assert any("degenerate" in w for w in report.warnings)
    # A penalty makes the fit finite: BT is reported again, the ranking still insufficient.
    penalised = rate(
        [_b("A", "B", "a")], np.random.default_rng(0), shuffles=5, rounds=50, bt=BTConfig(l2=0.1)
    )
    assert penalised.rows[0].bt is not None and penalised.rows[0].bt > 1000
    assert penalised.rows[0].bt_lower is None  # still one battle: a degenerate bootstrap
    assert not penalised.sufficient


def test_enough_battles_make_a_sufficient_ranking() -> None:
    battles = [_b("A", "B", "a")] * 15 + [_b("A", "B", "b")] * 10
    report = rate(battles, np.random.default_rng(0), shuffles=5, rounds=200)
    assert report.sufficient and report.warnings == ()
    assert all(row.sufficient and row.rank is not None for row in report.rows)
    assert all(row.bt_lower is not None and row.elo_lower is not None for row in report.rows)
