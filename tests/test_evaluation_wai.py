"""WAI-O-S (docs/method.md#wai-o-s): parsing, reversal, factor scores, failures, cache and report.

The scripted server plays the judge (model ``judge``); it tells dialogue, item and
round apart by the request's seed (worked out with the runner's own
:func:`request_seed`), so every expected score below is computed by hand.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.corpora._readers import Corpus, load_corpus
from interactive_agents.errors import ConfigError
from interactive_agents.evaluation._wai import (
    FACTORS,
    ITEMS,
    WaiJudge,
    compare_wai,
    dialogue_wai,
    factor_scores,
    keyed,
    load_wai_judge,
    score_wai,
)
from interactive_agents.judging._judgements import (
    JudgeCache,
    JudgeProgress,
    JudgeRequest,
    JudgeSettings,
    UnreadCounts,
    judge_endpoint,
    request_seed,
)
from interactive_agents.llm._endpoint import ChatEndpoint
from interactive_agents.testing import Call, FakeServer, Fault

from .support import engine_record, write_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
UNPARSABLE = "It is hard to tell from this session."


def _scores(dialogue: str, item: int, round_number: int) -> int | str:
    """The judge's scripted raw score for one call (a string: an unusable answer)."""
    if dialogue == "d1":
        # Item 4 (reversed) 2, 3, 4 -> keyed 6, 5, 4 -> 5; item 10 (reversed) 7 -> 1;
        # item 3: 7, 6, 5 -> 6; everything else 4.
        return {4: [2, 3, 4], 10: [7, 7, 7], 3: [7, 6, 5]}.get(item, [4, 4, 4])[round_number - 1]
    if dialogue == "d2":
        # Everything 6 (so items 4 and 10 count 2); item 9 round 2 never parses.
        return UNPARSABLE if (item, round_number) == (9, 2) else 6
    # e1, e2 of the second corpus: every item 3 for e1 and 5 for e2 (4, 10 -> 5 and 3).
    return 3 if dialogue == "e1" else 5


# By hand, after reversal (8 - x for items 4 and 10):
#   d1: Goal = (5 + 4 + 1 + 4) / 4 = 3.5; Task = 4; Bond = (6 + 4 + 4 + 4) / 4 = 4.5
#   d2: Goal = (2 + 6 + 2 + 6) / 4 = 4;   Task = 6; Bond = 6 (item 9 from rounds 1, 3)
#   e1: Goal = (5 + 3 + 5 + 3) / 4 = 4;   Task = 3; Bond = 3
#   e2: Goal = (3 + 5 + 3 + 5) / 4 = 4;   Task = 5; Bond = 5
EXPECTED = {
    "d1": {"goal": 3.5, "task": 4.0, "bond": 4.5},
    "d2": {"goal": 4.0, "task": 6.0, "bond": 6.0},
    "e1": {"goal": 4.0, "task": 3.0, "bond": 3.0},
    "e2": {"goal": 4.0, "task": 5.0, "bond": 5.0},
}
DIALOGUES = {"run": ["d1", "d2"], "other": ["e1", "e2"]}
ATTEMPTS = 3
CALLS = 4 * 12 * 3 + (ATTEMPTS - 1)  # the unparsable item is asked twice more


def _answer(score: int | str, language: str = "en") -> str:
    if isinstance(score, str):
        return score
    line = f"最终评分：{score}" if language == "zh" else f"Final score: {score}"
    return f"The client and the counselor talk openly.\n{line}"


def _script(judge: WaiJudge) -> Callable[[Call], str]:
    seeds = {}
    for corpus, ids in DIALOGUES.items():
        for dialogue in ids:
            for item in ITEMS:
                for number in (1, 2, 3):
                    request = JudgeRequest(corpus, dialogue, f"wai-{item}", number, ())
                    for attempt in range(1, ATTEMPTS + 1):
                        seeds[request_seed(0, request, attempt)] = (dialogue, item, number)

    def script(call: Call) -> str:
        assert call.body["model"] == "judge"
        return _answer(_scores(*seeds[call.body["seed"]]), judge.language)

    return script


def _runs(tmp_path: Path) -> tuple[Path, Path]:
    run = write_run(
        tmp_path / "run",
        [
            engine_record("d1", None, ["I feel stuck.", "What keeps you stuck?"]),
            engine_record("d2", None, ["I argue with my mother.", "How does it start?"]),
            # No counselor reply: nothing to rate, left out and counted.
            engine_record("d3", None, ["Hello?"]),
        ],
    )
    other = write_run(
        tmp_path / "other",
        [
            engine_record("e1", None, ["Work is too much.", "Tell me about a typical day."]),
            engine_record("e2", None, ["I cannot sleep.", "Since when?"]),
        ],
    )
    return run, other


@pytest.fixture
def corpora(tmp_path: Path) -> list[Corpus]:
    return [load_corpus(path) for path in _runs(tmp_path)]


def _endpoint(server: FakeServer) -> ChatEndpoint:
    config = judge_endpoint([server.base_url], "judge", concurrency=16, timeout=5.0, max_retries=0)
    return ChatEndpoint(config)


def test_items_4_and_10_are_reversed() -> None:
    assert [keyed(4, x) for x in range(1, 8)] == [7, 6, 5, 4, 3, 2, 1]
    assert keyed(10, 2.5) == 5.5
    assert [keyed(item, 2) for item in ITEMS if item not in (4, 10)] == [2] * 10
    assert sorted(n for items in FACTORS.values() for n in items) == list(ITEMS)


def test_factor_scores_by_hand() -> None:
    scores = dialogue_wai(
        "x",
        {
            4: [1, None, 3],  # keyed 7 and 5 -> 6 (the failed round is left out)
            6: [5, 5, 6],  # 16/3
            10: [2, 2, 2],  # keyed 6
            11: [4, 4, 4],
            1: [7, 7, 7],
            2: [None, None, None],  # no score: Task is incomplete
            8: [1, 1, 1],
            12: [1, 1, 1],
            **{item: [5, 5, 5] for item in FACTORS["bond"]},
        },
    )
    assert scores.items[3].rounds == (1, None, 3)
    assert scores.items[3].score == 6.0
    assert scores.goal == pytest.approx((6 + 16 / 3 + 6 + 4) / 4)
    assert scores.task is None
    assert scores.bond == 5.0
    assert factor_scores({n: 4.0 for n in ITEMS}) == {"goal": 4.0, "task": 4.0, "bond": 4.0}


@pytest.mark.parametrize(
    ("language", "answer", "expected"),
    [
        ("en", "Clear agreement.\nFinal score: 5", 5),
        ("en", "**Final score:** 6", 6),
        ("en", "Final Score: 7/7", 7),
        ("en", "Score: 3 seemed low at first.\nFinal score: 4", 4),
        ("en", "final score：７", 7),
        ("en", "Rating = 2.", 2),
        ("en", "6", 6),
        ("en", "Final score: 8", None),
        ("en", "Final score: 10", None),
        ("en", "Final score: 4.5", None),
        ("en", "Somewhere between 4 and 5.", None),
        ("en", "", None),
        ("zh", "双方目标一致。\n最终评分：5", 5),
        ("zh", "**最终评分：** 六", 6),
        ("zh", "最终得分：７分", 7),
        ("zh", "评分为3分", 3),
        ("zh", "最终评分：0", None),
        ("zh", "Final score: 4", 4),
        ("zh", "难以判断", None),
    ],
)
def test_parse_score(language: str, answer: str, expected: int | None) -> None:
    assert load_wai_judge(language).parse(answer).value == expected


def test_judge_prompt_holds_transcript_item_and_anchors(corpora: list[Corpus]) -> None:
    judge = load_wai_judge("en")
    system, user = judge.messages(corpora[0].dialogues[0], 4)
    assert "WAI-O-S" in system.content
    assert "Client: I feel stuck.\nCounselor: What keeps you stuck?" in user.content
    assert "(item 4)" in user.content and "There are doubts" in user.content
    assert "\n1 = Both clearly understand" in user.content
    assert "\n7 = No shared idea" in user.content
    assert user.content.rstrip().endswith("Final score: <score>")
    # The transcript leads, so the 12 items of a dialogue share a prefix.
    other = judge.messages(corpora[0].dialogues[0], 9)[1].content
    assert other[:100] == user.content[:100]
    zh = load_wai_judge("zh")
    assert "来访者: I feel stuck." in zh.messages(corpora[0].dialogues[0], 1)[1].content


def test_a_card_missing_anchors_is_named(tmp_path: Path) -> None:
    text = (Path(__file__).parents[1] / "actors" / "wai.en.toml").read_text(encoding="utf-8")
    start = text.index("[items.7]")
    broken = text[:start] + '[items.7]\ntext = "x"\nanchors = ["only one"]\n'
    broken += text[text.index("[items.8]") :]
    (tmp_path / "wai.en.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"field 'items\.7\.anchors': expected 7 non-empty"):
        load_wai_judge("en", actors_dir=tmp_path)


@pytest.mark.anyio
async def test_wai_factors_failures_and_cache(
    server: FakeServer, corpora: list[Corpus], tmp_path: Path
) -> None:
    judge = load_wai_judge("en")
    server.script = _script(judge)
    cache_file = tmp_path / "out" / "wai.cache.jsonl"
    settings = JudgeSettings(max_attempts=ATTEMPTS)
    backend = _endpoint(server)
    try:
        with JudgeCache(cache_file) as cache:
            progress = JudgeProgress()
            run, other = await score_wai(
                corpora, backend, judge, cache=cache, settings=settings, progress=progress
            )
    finally:
        await backend.aclose()

    assert len(server.calls) == CALLS
    assert (progress.total, progress.calls, progress.retries, progress.failed) == (
        4 * 36,
        CALLS,
        2,
        1,
    )
    assert (run.dialogues, run.skipped_empty, other.dialogues) == (2, 1, 2)
    for result in (run, other):
        for scores in result.scores:
            expected = EXPECTED[scores.dialogue_id]
            assert (scores.goal, scores.task, scores.bond) == pytest.approx(
                (expected["goal"], expected["task"], expected["bond"])
            )
    d1 = run.scores[0]
    assert d1.items[3].rounds == (2, 3, 4)  # raw, as the judge gave them
    assert d1.items[3].score == 5.0  # keyed
    assert d1.items[9].score == 1.0

    # Goal over d1, d2: mean 3.75, sample std sqrt(0.25² · 2 / 1).
    goal = run.factors["goal"]
    assert (goal.n, goal.mean) == (2, 3.75)
    assert goal.std == pytest.approx(math.sqrt(0.125))
    assert run.factors["bond"].mean == pytest.approx(5.25)
    assert run.incomplete == {"goal": 0, "task": 0, "bond": 0}
    assert run.items["4"].mean == pytest.approx((5 + 2) / 2)

    # The unparsable answer was retried with a reminder, then recorded as a failure.
    (failure,) = run.failures
    assert (failure.dialogue_id, failure.item, failure.round) == ("d2", "wai-9", 2)
    assert failure.error == "unparsable after 3 attempts: no readable 'Final score' answer"
    assert failure.status == "unparsable"
    assert run.answers["wai-9"] == UnreadCounts(judgements=6, unparsable=1)
    assert run.answers["wai-1"] == UnreadCounts(judgements=6)
    assert failure.answers == (UNPARSABLE,) * 3
    assert run.scores[1].items[8].rounds == (6, None, 6)
    retries = [c for c in server.calls if c.messages[-1]["content"] == judge.reminder()]
    assert len(retries) == 2
    assert [m["role"] for m in retries[0].messages] == ["system", "user", "assistant", "user"]

    # t-tests per factor, by hand (Student's, pooled variance).
    tests = {t.metric: t for t in compare_wai([run, other])}
    assert set(tests) == {"goal", "task", "bond"}
    task_a, task_b = [4.0, 6.0], [3.0, 5.0]
    pooled = (statistics.variance(task_a) + statistics.variance(task_b)) / 2
    t = (statistics.mean(task_a) - statistics.mean(task_b)) / math.sqrt(pooled * (1 / 2 + 1 / 2))
    assert tests["task"].t_statistic == pytest.approx(t)
    assert (tests["task"].a, tests["task"].b, tests["task"].n_a) == ("run", "other", 2)

    # A re-run reads every answer back, the failure's included: no call is made.
    backend = _endpoint(server)
    try:
        with JudgeCache(cache_file) as cache:
            progress = JudgeProgress()
            again, _ = await score_wai(
                corpora, backend, judge, cache=cache, settings=settings, progress=progress
            )
    finally:
        await backend.aclose()
    assert len(server.calls) == CALLS
    assert (progress.calls, progress.cached, progress.failed) == (0, CALLS, 1)
    assert again.scores == run.scores
    assert again.failures == run.failures


@pytest.mark.anyio
async def test_endpoint_failures_are_recorded_and_asked_again(
    server: FakeServer, tmp_path: Path
) -> None:
    corpus = load_corpus(
        write_run(tmp_path / "one", [engine_record("d1", None, ["I feel stuck.", "Go on."])])
    )
    server.script = lambda call: "Final score: 4"
    server.fail_next(Fault(status=500))
    cache = JudgeCache(tmp_path / "cache.jsonl")
    backend = _endpoint(server)
    try:
        (result,) = await score_wai([corpus], backend, load_wai_judge("en"), cache=cache, rounds=1)
        (failure,) = result.failures
        assert failure.error.startswith("ServerError: ")
        assert failure.answers == ()
        assert (
            result.incomplete["goal"] + result.incomplete["task"] + result.incomplete["bond"] == 1
        )
        assert len(server.calls) == 12

        (again,) = await score_wai([corpus], backend, load_wai_judge("en"), cache=cache, rounds=1)
    finally:
        cache.close()
        await backend.aclose()
    assert len(server.calls) == 13  # only the failed call is made again
    assert again.failures == ()
    assert again.factors["goal"].mean == 4.0


def test_cli_wai_report_rerun_and_failures(server: FakeServer, tmp_path: Path) -> None:
    judge = load_wai_judge("en")
    server.script = _script(judge)
    run, other = _runs(tmp_path)
    out = tmp_path / "report"
    args = [
        "evaluate", "wai", str(run), str(other), "--out", str(out),
        "--base-url", server.base_url, "--model", "judge", "--language", "en", "--quiet",
    ]  # fmt: skip

    result = CliRunner().invoke(main, args)

    # One judgement stayed unparsable: 1 of 144 is within the 5 % allowed, so the run is
    # a measurement, and the summary and the report say what was left out.
    assert result.exit_code == 0, result.output
    assert "1 unparsable and 0 refused answers (0.7%, within the 5% allowed)" in result.stderr
    assert "WAI-O-S factors" in result.stdout
    payload = json.loads((out / "wai.json").read_text(encoding="utf-8"))
    markdown = (out / "wai.md").read_text(encoding="utf-8")
    assert (out / "wai.png").read_bytes().startswith(PNG_MAGIC)
    assert len((out / "wai.cache.jsonl").read_bytes().splitlines()) == CALLS
    assert payload["run"]["calls"] == CALLS
    assert payload["settings"]["rounds"] == 3
    first, second = payload["corpora"]
    assert first["factors"]["goal"] == {"n": 2, "mean": 3.75, "std": pytest.approx(0.35355339)}
    assert second["factors"]["task"]["mean"] == 4.0
    assert first["failures"][0]["item"] == "wai-9"
    assert [t["metric"] for t in payload["comparisons"]] == ["goal", "task", "bond"]
    assert "# Counselor evaluation: WAI-O-S (docs/method.md#wai-o-s)" in markdown
    row = "| run | en | 2 | 3.75 ± 0.35 (n=2) | 5.00 ± 1.41 (n=2) | 5.25 ± 1.06 (n=2) | 0/0/0 |"
    assert row in markdown
    assert "| 4 | goal | yes |" in markdown
    assert (
        "- run, dialogue d2, wai-9, round 2: unparsable after 3 attempts: no readable "
        "'Final score' answer"
    ) in markdown
    assert "| run | wai-9 | 6 | 1 | 0 | 0 | 16.7% |" in markdown
    assert "1 judgements could not be read (0.7%), within the 5% allowed" in markdown
    assert payload["run"]["unparsable"] == 1 and payload["run"]["failure"] is None
    assert "![WAI-O-S factors](wai.png)" in markdown

    # Allowing no unreadable answer makes the same run a failure, said and exited with 1.
    again = CliRunner().invoke(main, [*args, "--json", "--max-unparsable", "0"])
    assert again.exit_code == 1
    assert "not a measurement: 1 of 144 judgements (0.7%) could not be read" in again.stderr
    assert len(server.calls) == CALLS
    rerun = json.loads(again.stdout)
    assert (rerun["run"]["calls"], rerun["run"]["cached"]) == (0, CALLS)
    for before, after in zip(payload["corpora"], rerun["corpora"], strict=True):
        assert (after["calls"], after["cached"]) == (0, before["calls"])
        for key in ("factors", "items", "scores", "failures", "incomplete"):
            assert after[key] == before[key]
