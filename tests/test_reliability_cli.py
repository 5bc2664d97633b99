"""Judge reliability as users see it: ``evaluate wai`` and ``elo`` on hand-made data.

Every figure is worked out by hand next to the data, and checked against a reference
implementation on the same data: the ``krippendorff`` package for alpha, scikit-learn's
unpenalised logistic regression for the length-controlled Bradley-Terry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import orjson
import pytest
from click.testing import CliRunner, Result
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from interactive_agents.arena._battles import Battle, Winner, write_battles
from interactive_agents.cli import main
from interactive_agents.evaluation._wai import ITEMS
from interactive_agents.judging._judgements import JudgeRequest, request_seed
from interactive_agents.testing import Call, FakeServer

from .support import engine_record, write_run

UNPARSABLE = "It is hard to tell from this session."

# -- evaluate wai: Krippendorff's alpha across rounds --------------------------------

# Raw ratings (round 1, round 2); None: the judge never gives a parsable answer.
#   d1: every item (4, 4) but item 1 (3, 5);  d2: every item (6, 6) but item 1 (6, None).
# Pairable units: d1's 12 and d2's items 2..12; each adds its ordered pairs to o:
#   o44 = 22, o66 = 22, o35 = o53 = 1; n3 = n5 = 1, n4 = n6 = 22, n = 46.
#   D_o = (4 + 4) / 46;  D_e = 2 (1·22·1 + 1·1·4 + 1·22·9 + 22·1·1 + 22·22·4 + 1·22·1)
#   / (46·45) = 4408 / 2070;  alpha = 1 - (8/46) / (4408/2070) = 1 - 360/4408 = 506/551.
# Item 1: only d1 (3, 5) is pairable: D_o = 8/2 = D_e = 8/(2·1), alpha = 0.
# Items 2..12: (4, 4) and (6, 6): D_o = 0, alpha = 1.
Ratings = tuple[int | None, int | None]
RATINGS: dict[str, dict[int, Ratings]] = {"d1": {1: (3, 5)}, "d2": {1: (6, None)}}
USUAL: dict[str, Ratings] = {"d1": (4, 4), "d2": (6, 6)}
ALPHA_OVERALL = 506 / 551


def _rating(dialogue: str, item: int, number: int) -> int | None:
    return RATINGS[dialogue].get(item, USUAL[dialogue])[number - 1]


def _wai_script(corpus: str, rounds: int) -> Callable[[Call], str]:
    """The judge, telling dialogue, item and round apart by the runner's seed."""
    seeds = {}
    for dialogue in USUAL:
        for item in ITEMS:
            for number in range(1, rounds + 1):
                request = JudgeRequest(corpus, dialogue, f"wai-{item}", number, ())
                for attempt in (1, 2, 3):
                    seeds[request_seed(0, request, attempt)] = (dialogue, item, number)

    def script(call: Call) -> str:
        score = _rating(*seeds[call.body["seed"]])
        return UNPARSABLE if score is None else f"They work well together.\nFinal score: {score}"

    return script


def _wai(server: FakeServer, tmp_path: Path, *extra: str) -> Result:
    run = write_run(
        tmp_path / "run",
        [
            engine_record("d1", None, ["I feel stuck.", "What keeps you stuck?"]),
            engine_record("d2", None, ["I argue with my mother.", "How does it start?"]),
        ],
    )
    args = [
        "evaluate", "wai", str(run), "--out", str(tmp_path / "report"),
        "--base-url", server.base_url, "--model", "judge", "--language", "en", "--quiet",
        *extra,
    ]  # fmt: skip
    return CliRunner().invoke(main, args)


def _reliability_data(corpus: dict[str, Any]) -> np.ndarray[Any, Any]:
    """Rounds × (dialogue, item) units from the report's raw ratings, NaN for missing."""
    units = [item["rounds"] for d in corpus["scores"] for item in d["items"]]
    return np.array([[np.nan if v is None else v for v in unit] for unit in units]).T


def test_wai_reports_alpha_across_rounds(server: FakeServer, tmp_path: Path) -> None:
    server.script = _wai_script("run", rounds=2)
    result = _wai(server, tmp_path, "--rounds", "2")
    # d2 item 1 round 2 stayed unparsable: 1 of 48, within the 5 % allowed.
    assert result.exit_code == 0, result.output
    payload = orjson.loads((tmp_path / "report" / "wai.json").read_bytes())
    (corpus,) = payload["corpora"]
    alpha = corpus["alpha"]
    assert (alpha["level"], alpha["rounds"], alpha["reason"]) == ("interval", 2, None)
    assert alpha["overall"] == pytest.approx(ALPHA_OVERALL)
    assert alpha["items"]["1"] == pytest.approx(0.0)
    assert all(alpha["items"][str(i)] == 1.0 for i in ITEMS[1:])

    data = _reliability_data(corpus)
    assert data.shape == (2, 24)
    reference = krippendorff.alpha(reliability_data=data, level_of_measurement="interval")
    assert alpha["overall"] == pytest.approx(reference)
    item_1 = data[:, ::12]  # each dialogue's items 1..12 in order: every 12th is item 1
    assert alpha["items"]["1"] == pytest.approx(krippendorff.alpha(reliability_data=item_1))

    assert "alpha (interval)" in result.stdout and "0.918" in result.stdout
    markdown = (tmp_path / "report" / "wai.md").read_text(encoding="utf-8")
    assert "## Judge reliability: Krippendorff's alpha across rounds" in markdown
    assert "| all | 0.918 |" in markdown and "| 1 | 0.000 |" in markdown

    calls = len(server.calls)
    for level in ("ordinal", "nominal"):
        again = _wai(server, tmp_path, "--rounds", "2", "--alpha-level", level, "--json")
        assert again.exit_code == 0
        figures = orjson.loads(again.stdout)["corpora"][0]["alpha"]
        assert figures["level"] == level
        expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert figures["overall"] == pytest.approx(expected)
    assert len(server.calls) == calls  # the answers came from the cache


def test_one_round_gives_no_alpha_and_says_why(server: FakeServer, tmp_path: Path) -> None:
    server.script = _wai_script("run", rounds=1)
    result = _wai(server, tmp_path, "--rounds", "1")
    assert result.exit_code == 0, result.output
    alpha = orjson.loads((tmp_path / "report" / "wai.json").read_bytes())["corpora"][0]["alpha"]
    assert (alpha["rounds"], alpha["overall"]) == (1, None)
    assert set(alpha["items"].values()) == {None}
    assert alpha["reason"].startswith("Krippendorff's alpha needs 2 or more rounds")
    assert "n/a (needs 2+ rounds)" in result.stdout
    markdown = (tmp_path / "report" / "wai.md").read_text(encoding="utf-8")
    assert "- run: Krippendorff's alpha needs 2 or more rounds of ratings" in markdown


# -- elo: position bias, length bias, length-controlled Bradley-Terry ------------------


def _battle(
    dialogue: str,
    turn: int,
    bots: tuple[str, str],
    winner: Winner,
    *,
    shown: str = "ab",
    choices: dict[str, str] | None = None,
    lengths: tuple[int, int] | None = None,
    judge: str = "qwen@guideline1",
) -> Battle:
    return Battle(
        dialogue,
        turn,
        *bots,
        shown,  # type: ignore[arg-type]
        winner,
        judge,
        timestamp=float(turn),
        rubric="r1" if judge.startswith("qwen") else "",
        choices=choices or {},  # type: ignore[arg-type]
        length_a=None if lengths is None else lengths[0],
        length_b=None if lengths is None else lengths[1],
    )


LONG_SHORT = ("long", "short")
SHORT_LONG = ("short", "long")
# The arena's records: both orders judged, lengths known.
JUDGE_BATTLES = [
    # Same bot (long) both times; decided, long is longer: the longer won.
    _battle("d1", 1, LONG_SHORT, "a", choices={"ab": "a", "ba": "a"}, lengths=(30, 10)),
    # The slot shown first won both times: changed; a tie, not in the length bias.
    _battle("d1", 2, LONG_SHORT, "tie", choices={"ab": "a", "ba": "b"}, lengths=(20, 10)),
    # Bots listed the other way round; long both times, and longer: the longer won.
    _battle("d2", 1, SHORT_LONG, "b", choices={"ab": "b", "ba": "b"}, lengths=(10, 40)),
    # One order unreadable: not in the rate; equal lengths: not in the length bias.
    _battle("d2", 2, SHORT_LONG, "a", choices={"ab": "a", "ba": "unparsable"}, lengths=(15, 15)),
    # Short both times, and shorter: the shorter won.
    _battle("d3", 1, LONG_SHORT, "b", choices={"ab": "b", "ba": "b"}, lengths=(25, 5)),
]
# Position bias: 4 selections readable in both orders, 1 changed: 0.25. First shown,
# over the 9 readable judgements: d1/1 ab→a yes, ba→a no; d1/2 yes, yes; d2/1 ab→b no,
# ba→b yes; d2/2 ab→a yes; d3/1 ab→b no, ba→b yes: 6 of 9.
# Length bias: d1/1, d2/1, d3/1 decided between unequal lengths, 2 won by the longer:
# 2/3, two-sided binomial p = P(X >= 2) + P(X <= 1) = 1.
#
# Annotators' records: one battle per order, no lengths. The same selection judged in
# both orders by listing the bots both ways round; the first-shown reply won each time.
HUMAN_BATTLES = [
    _battle("h1", 1, LONG_SHORT, "a", shown="ab", judge="human:ann"),
    _battle("h1", 1, SHORT_LONG, "a", shown="ab", judge="human:ann"),
]


def _elo(*files: Path, extra: tuple[str, ...] = ()) -> Result:
    args = ["elo", *map(str, files), "--bootstrap", "20", "--shuffles", "2", *extra]
    return CliRunner().invoke(main, args)


def _write(path: Path, battles: list[Battle]) -> Path:
    write_battles(path, battles)
    return path


def _judges(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["judge"]: row for row in payload["judge_reliability"]["judges"]}


def test_elo_reports_position_and_length_bias(tmp_path: Path) -> None:
    judge = _write(tmp_path / "judge.jsonl", JUDGE_BATTLES)
    human = _write(tmp_path / "human.jsonl", HUMAN_BATTLES)
    result = _elo(judge, human, extra=("--json",))
    assert result.exit_code == 0, result.output
    rows = _judges(orjson.loads(result.stdout))

    position = rows["qwen@guideline1"]["position_bias"]
    assert (position["both_orders"], position["changed"], position["rate"]) == (4, 1, 0.25)
    assert (position["judgements"], position["first_shown"]) == (9, 6)
    assert position["first_shown_rate"] == pytest.approx(6 / 9)
    assert position["reason"] is None
    length = rows["qwen@guideline1"]["length_bias"]
    assert (length["with_lengths"], length["decided"], length["longer_won"]) == (5, 3, 2)
    assert length["rate"] == pytest.approx(2 / 3) and length["p_value"] == pytest.approx(1.0)

    human_position = rows["human:ann"]["position_bias"]
    assert (human_position["both_orders"], human_position["changed"]) == (1, 1)
    assert human_position["rate"] == 1.0 and human_position["first_shown_rate"] == 1.0
    assert rows["human:ann"]["length_bias"]["rate"] is None
    assert "no reply lengths" in rows["human:ann"]["length_bias"]["reason"]

    table = _elo(judge, human, extra=("--out", str(tmp_path / "elo")))
    assert table.exit_code == 0, table.output
    for text in (table.stdout, (tmp_path / "elo" / "report.md").read_text(encoding="utf-8")):
        assert "Position bias" in text and "25.0%" in text and "66.7% (p = 1)" in text
        assert "Length bias of human:ann: the battles carry no reply lengths" in text
    saved = orjson.loads((tmp_path / "elo" / "ratings.json").read_bytes())
    assert _judges(saved) == rows


def _style_battles(count: int) -> list[Battle]:
    """Seeded battles of three bots whose judge also likes longer replies."""
    rng = np.random.default_rng(11)
    strength = {"A": 0.6, "B": 0.0, "C": -0.4}
    verbosity = {"A": 1.0, "B": 2.0, "C": 1.0}
    battles = []
    for number in range(count):
        a, b = rng.choice(list(strength), size=2, replace=False)
        la = int(rng.integers(5, 40) * verbosity[a])
        lb = int(rng.integers(5, 40) * verbosity[b])
        x = (la - lb) / (la + lb)
        p = 1 / (1 + math.exp(-(strength[a] - strength[b] + 2.0 * x)))
        draw = rng.random()
        winner: Winner = "tie" if abs(draw - p) < 0.05 else ("a" if draw < p else "b")
        battles.append(_battle(f"s{number}", 1, (a, b), winner, lengths=(la, lb)))
    return battles


def _reference_fit(battles: list[Battle]) -> tuple[dict[str, float], float]:
    """The same model as an unpenalised logistic regression (ties: half a win, half a loss)."""
    models = sorted({b.bot_a for b in battles} | {b.bot_b for b in battles})
    x = np.array([(b.length_a - b.length_b) / (b.length_a + b.length_b) for b in battles])  # type: ignore[operator]
    x = x / x.std()
    rows, targets, weights = [], [], []
    for battle, covariate in zip(battles, x, strict=True):
        row = np.zeros(len(models) + 1)
        row[models.index(battle.bot_a)] += math.log(10)
        row[models.index(battle.bot_b)] -= math.log(10)
        row[-1] = covariate
        score = {"a": 1.0, "b": 0.0, "tie": 0.5}[battle.winner]
        for target, weight in ((1, score), (0, 1 - score)):
            if weight:
                rows.append(row[1:])  # the first bot's rating is the reference, r = 0
                targets.append(target)
                weights.append(weight)
    fit = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10, max_iter=10_000)
    fit.fit(np.array(rows), targets, sample_weight=weights)
    r = np.concatenate([[0.0], fit.coef_[0][:-1]])
    ratings = 400 * (r - r.mean()) + 1000
    return dict(zip(models, ratings.tolist(), strict=True)), float(fit.coef_[0][-1])


def test_length_controlled_bt_matches_a_logistic_regression(tmp_path: Path) -> None:
    battles = _style_battles(400)
    result = _elo(_write(tmp_path / "b.jsonl", battles), extra=("--json",))
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    control = payload["judge_reliability"]["length_controlled_bt"]
    assert (control["battles"], control["without_lengths"], control["reason"]) == (400, 0, None)
    ratings, gamma = _reference_fit(battles)
    assert control["length_coefficient"] == pytest.approx(gamma, abs=1e-4)
    assert control["odds_ratio"] == pytest.approx(math.exp(gamma), abs=1e-4)
    assert gamma > 0.3 and "times the odds of winning" in control["meaning"]
    plain = {row["model"]: row["bt"] for row in payload["models"]}
    for row in control["models"]:
        assert row["bt_length_controlled"] == pytest.approx(ratings[row["model"]], abs=0.05)
        assert row["bt"] == pytest.approx(plain[row["model"]], abs=0.05)  # the plain fit
    # B writes twice as long: the length preference had lifted its plain rating.
    change = {row["model"]: row["change"] for row in control["models"]}
    assert change["B"] < -20


def test_one_order_and_no_lengths_give_nulls_with_reasons(tmp_path: Path) -> None:
    old = [
        _battle("d1", 1, LONG_SHORT, "a"),
        _battle("d1", 2, LONG_SHORT, "b", shown="ba"),
        _battle("d2", 1, SHORT_LONG, "tie"),
    ]
    path = _write(tmp_path / "old.jsonl", old)
    result = _elo(path, extra=("--json",))
    assert result.exit_code == 0, result.output
    reliability = orjson.loads(result.stdout)["judge_reliability"]
    (row,) = reliability["judges"]
    assert row["position_bias"]["rate"] is None
    assert row["position_bias"]["reason"].startswith("no selection was judged in both")
    assert row["length_bias"]["rate"] is None and row["length_bias"]["p_value"] is None
    control = reliability["length_controlled_bt"]
    assert control["models"] == [] and control["length_coefficient"] is None
    assert control["reason"] == "no readable battle carries reply lengths"

    both_unreadable = _battle(
        "d3", 1, LONG_SHORT, "a", choices={"ab": "a", "ba": "unparsable"}, lengths=(4, 4)
    )
    path = _write(tmp_path / "unreadable.jsonl", [both_unreadable])
    row = orjson.loads(_elo(path, extra=("--json",)).stdout)["judge_reliability"]
    position, length = row["judges"][0]["position_bias"], row["judges"][0]["length_bias"]
    assert "readable choice in both" in position["reason"]
    assert length["reason"].startswith("no decided battle") and length["with_lengths"] == 1

    out = tmp_path / "elo"
    printed = _elo(tmp_path / "old.jsonl", extra=("--out", str(out)))
    assert "Length-controlled Bradley-Terry: not fitted" in printed.stdout
    assert "Not fitted: no readable battle carries reply lengths." in (out / "report.md").read_text(
        encoding="utf-8"
    )
