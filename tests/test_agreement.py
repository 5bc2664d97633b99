"""Judge agreement with human labels, and the Wilson score interval."""

from __future__ import annotations

import pytest

from interactive_agents.arena._battles import Battle, Winner
from interactive_agents.ratings._agreement import agreement, selection, wilson_interval


def _b(dialogue: str, turn: int, bot_a: str, bot_b: str, winner: Winner, judge: str) -> Battle:
    return Battle(dialogue, turn, bot_a, bot_b, "ab", winner, judge)


HUMAN = [
    _b("d1", 1, "A", "B", "a", "human"),
    _b("d1", 2, "A", "B", "b", "human"),
    _b("d1", 3, "A", "B", "a", "human"),
    _b("d2", 1, "A", "C", "tie", "human"),
    _b("d2", 2, "A", "C", "b", "human"),
    _b("d2", 3, "A", "C", "unparsable", "human"),
]


def test_wilson_interval_matches_published_values() -> None:
    # 8 of 10 and 0 of 10, 95 %: the textbook values (Newcombe 1998, method 3).
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)


def test_wilson_interval_by_formula_at_another_level() -> None:
    z = 1.6448536269514722  # 90 %
    n, p = 50, 0.6
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    assert wilson_interval(30, 50, level=0.90) == pytest.approx((centre - half, centre + half))


def test_wilson_interval_without_trials_is_uninformative() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_hand_made_case() -> None:
    judge = [
        _b("d1", 1, "A", "B", "a", "g1"),  # agrees
        _b("d1", 2, "A", "B", "a", "g1"),  # disagrees
        _b("d1", 3, "A", "B", "unparsable", "g1"),  # counts as a disagreement
        _b("d2", 1, "A", "C", "tie", "g1"),  # a tie agrees with a tie
        _b("d2", 2, "A", "C", "tie", "g1"),  # a tie against a choice disagrees
        _b("d2", 3, "A", "C", "a", "g1"),  # the human label is unparsable: unmatched
        _b("d3", 1, "A", "B", "a", "g1"),  # no human label at all: unmatched
    ]
    report = agreement(HUMAN, {"guideline 1": judge})
    assert (report.human_labels, report.human_unparsable) == (5, 1)
    (row,) = report.judges
    assert (row.judge, row.matched, row.agreed) == ("guideline 1", 5, 2)
    assert (row.ties, row.unparsable, row.unmatched) == (2, 1, 2)
    assert row.accuracy == pytest.approx(0.4)
    assert (row.lower, row.upper) == pytest.approx(wilson_interval(2, 5))


def test_bots_listed_the_other_way_round_still_match() -> None:
    swapped = [_b("d1", 1, "B", "A", "b", "g"), _b("d1", 2, "B", "A", "b", "g")]
    (row,) = agreement(HUMAN, {"g": swapped}).judges
    assert (row.matched, row.agreed) == (2, 1)  # d1/1: both chose A; d1/2: human chose B


def test_selection_orders_bots_by_name_and_maps_the_choice() -> None:
    assert selection(_b("d", 4, "B", "A", "a", "j")) == (("d", 4, "A", "B"), "b")
    assert selection(_b("d", 4, "B", "A", "tie", "j")) == (("d", 4, "A", "B"), "tie")
    assert selection(_b("d", 4, "A", "B", "a", "j")) == (("d", 4, "A", "B"), "a")


def test_both_presentation_orders_are_two_comparisons() -> None:
    both = [_b("d1", 1, "A", "B", "a", "g"), _b("d1", 1, "A", "B", "b", "g")]
    (row,) = agreement(HUMAN, {"g": both}).judges
    assert (row.matched, row.agreed) == (2, 1)


def test_several_judges_are_reported_in_the_order_given() -> None:
    choices: list[Winner] = ["a", "b", "a"]
    flipped: list[Winner] = ["b", "a", "b"]
    right = [_b("d1", t, "A", "B", w, "x") for t, w in enumerate(choices, start=1)]
    wrong = [_b("d1", t, "A", "B", w, "y") for t, w in enumerate(flipped, start=1)]
    report = agreement(HUMAN, {"right": right, "wrong": wrong})
    assert [(r.judge, r.accuracy) for r in report.judges] == [("right", 1.0), ("wrong", 0.0)]


def test_a_judge_with_nothing_matched_has_no_accuracy() -> None:
    (row,) = agreement(HUMAN, {"g": [_b("d9", 1, "A", "B", "a", "g")]}).judges
    assert (row.matched, row.accuracy, row.unmatched) == (0, None, 1)
    assert (row.lower, row.upper) == (0.0, 1.0)


def test_kappa_corrects_the_hand_made_agreement_for_chance() -> None:
    """Matched labels (judge, human): (A, A), (A, B), (unparsable, A), (tie, tie), (tie, C).
    Observed 2/5; chance (2·2 + 2·1) / 25 = 0.24; kappa = (0.4 - 0.24) / 0.76."""
    judge = [
        _b("d1", 1, "A", "B", "a", "g1"),
        _b("d1", 2, "A", "B", "a", "g1"),
        _b("d1", 3, "A", "B", "unparsable", "g1"),
        _b("d2", 1, "A", "C", "tie", "g1"),
        _b("d2", 2, "A", "C", "tie", "g1"),
    ]
    (row,) = agreement(HUMAN, {"g1": judge}).judges
    assert row.kappa == pytest.approx(0.16 / 0.76)
    from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

    expected = cohen_kappa_score(
        ["A", "A", "unparsable", "tie", "tie"], ["A", "B", "A", "tie", "C"]
    )
    assert row.kappa == pytest.approx(expected)
    assert row.kappa_lower <= row.kappa_upper
    again = agreement(HUMAN, {"g1": judge}).judges[0]
    assert (again.kappa_lower, again.kappa_upper) == (row.kappa_lower, row.kappa_upper)
