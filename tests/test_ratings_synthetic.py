"""Ratings on arenas simulated from known strengths under the Bradley-Terry model."""

from __future__ import annotations

import numpy as np
import pytest

from interactive_agents.arena._battles import Battle
from interactive_agents.ratings._systems import (
    bootstrap_bt,
    bradley_terry,
    interval,
    matchups,
    online_elo,
    rate,
    shuffled_elo,
)

STRENGTHS = {"strong": 1200.0, "good": 1100.0, "fair": 1000.0, "weak": 850.0}


def simulate(strengths: dict[str, float], battles: int, rng: np.random.Generator) -> list[Battle]:
    """Two bots drawn at random per battle; bot a wins with the BT probability."""
    names = list(strengths)
    result = []
    for turn in range(battles):
        i, j = rng.choice(len(names), size=2, replace=False)
        a, b = names[i], names[j]
        p_a = 1 / (1 + 10 ** ((strengths[b] - strengths[a]) / 400))
        result.append(
            Battle(
                dialogue_id=f"d{turn // 10}",
                turn=turn % 10,
                bot_a=a,
                bot_b=b,
                shown_order="ab" if rng.random() < 0.5 else "ba",
                winner="a" if rng.random() < p_a else "b",
                judge="simulated",
                timestamp=float(turn),
            )
        )
    return result


def _centred_truth(models: tuple[str, ...]) -> list[float]:
    truth = [STRENGTHS[model] for model in models]
    return [value - sum(truth) / len(truth) + 1000 for value in truth]


@pytest.fixture(scope="module")
def arena() -> list[Battle]:
    return simulate(STRENGTHS, 4000, np.random.default_rng(20240601))


def test_the_known_order_is_recovered(arena: list[Battle]) -> None:
    report = rate(arena, np.random.default_rng(0), shuffles=20, rounds=200)
    assert [row.model for row in report.rows] == list(STRENGTHS)
    assert [row.rank for row in report.rows] == [1, 2, 3, 4]
    by_elo = sorted(report.rows, key=lambda row: -row.elo)
    assert [row.model for row in by_elo] == list(STRENGTHS)


def test_online_elo_in_time_order_puts_the_strongest_first(arena: list[Battle]) -> None:
    m = matchups(arena)
    for ratings in (online_elo(m), shuffled_elo(m, np.random.default_rng(1), runs=20)):
        assert m.models[int(np.argmax(ratings))] == "strong"
        assert m.models[int(np.argmin(ratings))] == "weak"


def test_bt_estimates_are_close_to_the_truth(arena: list[Battle]) -> None:
    m = matchups(arena)
    assert bradley_terry(m) == pytest.approx(_centred_truth(m.models), abs=30)


def test_bootstrap_interval_covers_the_true_strength_gap(arena: list[Battle]) -> None:
    """One gap: six 95 % intervals at once would all cover only about 3 times in 4."""
    m = matchups(arena)
    samples = bootstrap_bt(m, np.random.default_rng(3), rounds=500)
    strong, weak = m.models.index("strong"), m.models.index("weak")
    lower, upper = interval(samples[:, [strong]] - samples[:, [weak]])
    assert lower[0] <= STRENGTHS["strong"] - STRENGTHS["weak"] <= upper[0]
    assert upper[0] - lower[0] < 120  # informative, not merely wide


def test_bt_intervals_cover_the_gap_about_95_percent_of_the_time() -> None:
    """Calibration over many small arenas, not one lucky seed."""
    strengths = {"x": 1100.0, "y": 1000.0, "z": 950.0}
    rng = np.random.default_rng(7)
    covered = 0
    arenas = 40
    for _ in range(arenas):
        m = matchups(simulate(strengths, 300, rng))
        samples = bootstrap_bt(m, rng, rounds=300)
        top, bottom = m.models.index("x"), m.models.index("z")
        lower, upper = interval(samples[:, [top]] - samples[:, [bottom]])
        covered += bool(lower[0] <= 150.0 <= upper[0])
    # Binomial(40, 0.95) falls below 34 with probability < 1 %.
    assert covered >= 34
