"""Judge reliability statistics against hand-computed values and reference implementations."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score  # type: ignore[import-untyped]

from interactive_agents.errors import InputError
from interactive_agents.evaluation._wai import DialogueWai, ItemScore, WaiResult
from interactive_agents.evaluation._wai_reliability import AlphaLevel, krippendorff_alpha, wai_alpha
from interactive_agents.ratings._judge_bias import (
    JudgedPair,
    cohen_kappa,
    judged_pairs,
    kappa_interval,
    length_bias,
    length_controlled_bt,
    position_bias,
)


def test_alpha_by_hand() -> None:
    # Units (1,1), (2,2), (1,2): o11 = o22 = 2, o12 = o21 = 1, n1 = n2 = 3, n = 6.
    # D_o = 2/6, D_e = 2·3·3 / (6·5) = 0.6, alpha = 1 - (1/3)/0.6 = 4/9.
    table = [[1, 2, 1], [1, 2, 2]]
    for level in ("nominal", "ordinal", "interval"):
        assert krippendorff_alpha(table, level) == pytest.approx(4 / 9)
    assert krippendorff_alpha([[3, 5, 7], [3, 5, 7]]) == 1.0
    assert math.isnan(krippendorff_alpha([[1, None], [None, 2]]))


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_matches_the_krippendorff_package(level: AlphaLevel, seed: int) -> None:
    rng = np.random.default_rng(seed)
    data = rng.integers(1, 8, size=(4, 60)).astype(float)
    data[1:, :30] = data[0, :30] + rng.integers(-1, 2, size=(3, 30))  # partial agreement
    data[rng.random(data.shape) < 0.15] = np.nan
    ours = krippendorff_alpha([[None if np.isnan(v) else v for v in row] for row in data], level)
    assert ours == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    )


def _wai(rounds_by_item: dict[int, list[tuple[int | None, ...]]]) -> WaiResult:
    dialogues = len(next(iter(rounds_by_item.values())))
    scores = tuple(
        DialogueWai(
            f"d{i}",
            tuple(ItemScore(item, rows[i], None) for item, rows in rounds_by_item.items()),
            None,
            None,
            None,
        )
        for i in range(dialogues)
    )
    return WaiResult("c", "en", dialogues, 0, {}, {}, {}, scores, (), 0, 0)


def test_wai_alpha_takes_rounds_as_coders_and_dialogue_items_as_units() -> None:
    result = _wai({1: [(1, 1), (2, 2)], 2: [(1, 2), (5, None)]})
    alpha = wai_alpha(result, "nominal")
    assert alpha.rounds == 2 and alpha.items[1] == 1.0
    assert alpha.items[2] == 0.0  # one pairable unit (1, 2): D_o = D_e = 1
    # Pairable units over both items: (1,1), (2,2), (1,2); (5, None) has one rating only.
    assert alpha.overall == pytest.approx(4 / 9) and alpha.reason is None
    single = wai_alpha(_wai({1: [(3,), (4,)]}))
    assert single.rounds == 1 and math.isnan(single.overall)
    assert single.reason is not None and "needs 2 or more rounds" in single.reason


def test_kappa_by_hand_and_against_scikit_learn() -> None:
    # p_o = 3/4, p_e = .5·.25 + .5·.75 = .5, kappa = (.75 - .5) / .5 = .5
    assert cohen_kappa(list("xxyy"), list("xyyy")) == pytest.approx(0.5)
    assert math.isnan(cohen_kappa(list("aaa"), list("aaa")))
    rng = np.random.default_rng(3)
    a = rng.choice(["a", "b", "tie"], size=200)
    b = np.where(rng.random(200) < 0.7, a, rng.choice(["a", "b", "tie"], size=200))
    assert cohen_kappa(list(a), list(b)) == pytest.approx(cohen_kappa_score(a, b))


def test_kappa_interval_is_seeded_and_covers_the_estimate() -> None:
    rng = np.random.default_rng(4)
    a = list(rng.choice(["a", "b"], size=150))
    b = [x if rng.random() < 0.8 else ("a" if x == "b" else "b") for x in a]
    first = kappa_interval(a, b, np.random.default_rng(7), rounds=500)
    assert first == kappa_interval(a, b, np.random.default_rng(7), rounds=500)
    assert first != kappa_interval(a, b, np.random.default_rng(8), rounds=500)
    assert first[0] < cohen_kappa(a, b) < first[1]
    assert first[1] - first[0] < 0.4


def _pair(winner: str, ab: str | None, ba: str | None, la: int = 5, lb: int = 5) -> JudgedPair:
    return JudgedPair("x", "y", la, lb, winner, (("ab", ab), ("ba", ba)))  # type: ignore[arg-type]


def test_position_bias_counts_choices_that_change_with_the_order() -> None:
    pairs = [
        _pair("a", "a", "a"),  # same bot both times
        _pair("tie", "a", "b"),  # first shown both times: changed
        _pair("tie", "b", "a"),  # second shown both times: changed
        _pair("a", "a", None),  # one order unreadable: not in the rate
    ]
    bias = position_bias(pairs)
    assert (bias.both_orders, bias.changed) == (3, 2) and bias.rate == pytest.approx(2 / 3)
    # first shown: ab→a, ba→b; readable: 7 judgements; a/ab, a/ab, b/ba, a/ab are first.
    assert (bias.judgements, bias.first_shown) == (7, 4)


def test_length_bias_is_the_win_share_of_the_longer_reply() -> None:
    pairs = [_pair("a", "a", "a", 10, 5)] * 9 + [_pair("b", "b", "b", 10, 5)]
    pairs += [_pair("a", "a", "a", 5, 5), _pair("tie", "a", "b", 1, 9)]
    bias = length_bias(pairs)
    assert (bias.decided, bias.longer_won, bias.rate) == (10, 9, 0.9)
    assert bias.p_value == pytest.approx(22 / 1024)  # two-sided: 2·(C(10,9)+C(10,10))/2^10


def test_length_control_removes_a_pure_length_preference() -> None:
    rng = np.random.default_rng(5)
    pairs = []
    for _ in range(3000):
        la, lb = int(rng.integers(5, 60)), int(rng.integers(5, 60))
        verbose = rng.random() < 0.5  # bot "long" writes 3x longer replies
        la, lb = (la * 3, lb) if verbose else (la, lb * 3)
        bots = ("long", "short") if verbose else ("short", "long")
        x = (la - lb) / (la + lb)
        winner = "a" if rng.random() < 1 / (1 + math.exp(-3 * x)) else "b"
        pairs.append(JudgedPair(bots[0], bots[1], la, lb, winner, ()))  # type: ignore[arg-type]
    fit = length_controlled_bt(pairs)
    assert fit.plain["long"] - fit.plain["short"] > 100
    assert abs(fit.controlled["long"] - fit.controlled["short"]) < 30
    assert fit.length_coefficient > 0.5 and fit.battles == 3000


def test_with_equal_lengths_the_controlled_fit_is_plain_bradley_terry() -> None:
    pairs = [_pair("a", None, None)] * 30 + [_pair("b", None, None)] * 10
    pairs += [JudgedPair("y", "z", 5, 5, "a", ())] * 20 + [
        JudgedPair("y", "z", 5, 5, "tie", ())
    ] * 4
    fit = length_controlled_bt(pairs)
    for model in fit.models:
        assert fit.controlled[model] == pytest.approx(fit.plain[model], abs=0.5)
    assert fit.length_coefficient == pytest.approx(0.0, abs=1e-6)


def test_judged_pairs_reads_arena_records() -> None:
    selection = {
        "turn": 1,
        "candidate_a": {"bot": "p", "content": "你好吗"},
        "candidate_b": {"bot": "q", "content": "How are you today?"},
        "judgements": [{"shown_order": "ab", "choice": "a"}, {"shown_order": "ba", "choice": "b"}],
        "winner": "tie",
    }
    (pair,) = judged_pairs([{"selections": [selection]}])
    assert (pair.length_a, pair.length_b, pair.winner) == (3, 4, "tie")
    assert dict(pair.choices) == {"ab": "a", "ba": "b"}
    with pytest.raises(InputError, match="record 1"):
        judged_pairs([{"turns": []}], file="run/dialogues.jsonl")


def test_alpha_is_undefined_when_every_rating_is_the_same() -> None:
    # No variation: the reference refuses to compute it, and so does ours (NaN), while
    # one differing rating among units rated once does not make it defined.
    same: list[list[float | None]] = [[4.0, 4.0, 4.0], [4.0, 4.0, None]]
    assert math.isnan(krippendorff_alpha(same))
    with pytest.raises(ValueError):
        krippendorff.alpha(reliability_data=np.array(same, dtype=float))
    once_differing: list[list[float | None]] = [[4.0, 4.0, 2.0], [4.0, 4.0, None]]
    assert math.isnan(krippendorff_alpha(once_differing))
