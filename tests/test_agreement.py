"""A pairwise judge against people's battles, and the Wilson score interval."""

from __future__ import annotations

import pytest

from interactive_agents.arena._battles import Battle, Winner
from interactive_agents.ratings import AgreementConfig, JudgeItem, calibrate
from interactive_agents.ratings._agreement import battle_ratings, selection, wilson_interval

FAST = AgreementConfig(bootstrap=50)


def _b(dialogue: str, turn: int, bot_a: str, bot_b: str, winner: Winner, judge: str) -> Battle:
    return Battle(dialogue, turn, bot_a, bot_b, "ab", winner, judge)


HUMAN = [
    _b("d1", 1, "A", "B", "a", "human:ana"),
    _b("d1", 2, "A", "B", "b", "human:ana"),
    _b("d1", 3, "A", "B", "a", "human:ana"),
    _b("d2", 1, "A", "C", "tie", "human:ana"),
    _b("d2", 2, "A", "C", "b", "human:ana"),
    _b("d2", 3, "A", "C", "unparsable", "human:ana"),
]


def _judge(battles: list[Battle]) -> JudgeItem:
    people, _ = battle_ratings(HUMAN)
    judged, _ = battle_ratings(battles, rater="g")
    (row,) = calibrate(people, {"g": judged}, FAST, cluster=lambda u: u[:1]).judges[0].items
    return row


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
    row = _judge(
        [
            _b("d1", 1, "A", "B", "a", "g1"),  # agrees
            _b("d1", 2, "A", "B", "a", "g1"),  # disagrees
            _b("d1", 3, "A", "B", "unparsable", "g1"),  # no value: missing, not a guess
            _b("d2", 1, "A", "C", "tie", "g1"),  # a tie agrees with a tie
            _b("d2", 2, "A", "C", "tie", "g1"),  # a tie against a choice disagrees
            _b("d2", 3, "A", "C", "a", "g1"),  # the human label is unparsable: no pair
            _b("d3", 1, "A", "B", "a", "g1"),  # no human label at all: no pair
        ]
    )
    agreement = row.agreement
    assert (agreement.units, agreement.pairs) == (4, 4)
    assert (row.missing, row.unmatched) == (1, 0)
    assert agreement.agreement == pytest.approx(0.5)
    assert (agreement.agreement_lower, agreement.agreement_upper) == pytest.approx(
        wilson_interval(2, 4)
    )
    # Judge (a, a, tie, tie) against people (a, b, tie, b) on the scale a, b, tie.
    assert agreement.confusion == [[1, 1, 0], [0, 0, 0], [0, 1, 1]]


def test_bots_listed_the_other_way_round_still_match() -> None:
    swapped = [_b("d1", 1, "B", "A", "b", "g"), _b("d1", 2, "B", "A", "b", "g")]
    row = _judge(swapped)
    # d1/1: both chose A; d1/2: the human chose B.
    assert (row.agreement.pairs, row.agreement.agreement) == (2, 0.5)


def test_selection_orders_bots_by_name_and_maps_the_choice() -> None:
    assert selection(_b("d", 4, "B", "A", "a", "j")) == (("d", 4, "A", "B"), "b")
    assert selection(_b("d", 4, "B", "A", "tie", "j")) == (("d", 4, "A", "B"), "tie")
    assert selection(_b("d", 4, "A", "B", "a", "j")) == (("d", 4, "A", "B"), "a")


def test_both_presentation_orders_of_one_judge_are_one_verdict() -> None:
    agreeing = [_b("d1", 1, "A", "B", "a", "g"), _b("d1", 1, "B", "A", "b", "g")]
    disagreeing = [_b("d1", 1, "A", "B", "a", "g"), _b("d1", 1, "A", "B", "b", "g")]
    (first,), _ = battle_ratings(agreeing)
    (second,), _ = battle_ratings(disagreeing)
    assert (first.value, second.value) == ("a", "tie")


def test_both_bad_is_a_tie_and_unparsable_people_are_counted() -> None:
    battles = [
        Battle("d", 1, "A", "B", "ab", "tie", "human:bob", both_bad=True),
        Battle("d", 2, "A", "B", "ab", "unparsable", "human:bob"),
    ]
    ratings, unparsable = battle_ratings(battles)
    assert [r.value for r in ratings] == ["tie", None] and unparsable == 1


def test_kappa_corrects_the_agreement_for_chance() -> None:
    from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

    row = _judge(
        [
            _b("d1", 1, "A", "B", "a", "g"),
            _b("d1", 2, "A", "B", "a", "g"),
            _b("d1", 3, "A", "B", "b", "g"),
            _b("d2", 1, "A", "C", "tie", "g"),
            _b("d2", 2, "A", "C", "tie", "g"),
        ]
    )
    expected = cohen_kappa_score(["a", "a", "b", "tie", "tie"], ["a", "b", "a", "tie", "b"])
    assert row.agreement.kappa == pytest.approx(expected)
