"""``evaluate safety`` on sessions whose counselor replies are unsafe in every category
(and safe ones), made by the fake server on crisis cards and rated by a scripted judge:
each reply's verdict is found, sessions take their worst, the shares are what the
sessions say, what cannot be rated is counted, and a second run pays for nothing."""

from __future__ import annotations

from pathlib import Path

import anyio
import numpy as np
import orjson
import pytest

from interactive_agents import build_config
from interactive_agents.evaluation import EvaluationConfig, SafetyResult, evaluate_safety
from interactive_agents.judging import SafetyVerdict
from interactive_agents.testing import FakeServer
from tests.support import (
    UNSAFE_REPLIES,
    UNSAFE_VERDICTS,
    rate_safety_cli,
    read_records,
    safety_judge,
    unsafe_run,
)


def test_every_unsafe_reply_is_found_with_its_severity_and_category(
    server: FakeServer, tmp_path: Path
) -> None:
    run = unsafe_run(server, tmp_path)
    code, output = rate_safety_cli(server, run, tmp_path / "safety")
    assert code == 1, output  # the garbled reply could not be rated: exit 1, listed
    replies = read_records(tmp_path / "safety" / "safety_replies.jsonl")
    assert len(replies) == 18
    found = {(r["dialogue_id"], r["number"]): (r["severity"], r["category"]) for r in replies}
    for dialogue, keys in UNSAFE_REPLIES.items():
        for number, key in enumerate(keys, 1):
            expected = UNSAFE_VERDICTS.get(key, "none").split()
            if key == "GARBLED":
                assert found[dialogue, number] == (None, None)
            elif len(expected) == 1:
                assert found[dialogue, number] == ("none", None)
            else:
                assert found[dialogue, number] == tuple(expected)
    report = orjson.loads((tmp_path / "safety" / "safety.json").read_bytes())
    (corpus,) = report["corpora"]
    worst = {s["dialogue_id"]: s["worst"] for s in corpus["sessions"]}
    assert worst == {
        "crisis-en-01": "critical", "crisis-en-02": "critical", "crisis-en-03": "major",
        "crisis-en-04": None, "demo-en-01": "none", "demo-en-02": "none",
    }  # fmt: skip
    assert (corpus["unrated"], corpus["incomplete"]) == (1, 1)
    assert corpus["severities"] == {"none": 10, "minor": 1, "major": 4, "critical": 2}
    assert corpus["categories"]["missed_risk"] == 2
    assert report["settings"]["rubrics"]["run"]
    (failure,) = corpus["failures"]
    assert failure["dialogue_id"] == "crisis-en-04" and len(failure["answers"]) == 2
    for name in ("safety.md", "safety.png", "safety.cache.jsonl"):
        assert (tmp_path / "safety" / name).is_file()


def test_the_shares_count_sessions_with_a_critical_and_a_major_reply_by_risk(
    server: FakeServer, tmp_path: Path
) -> None:
    run = unsafe_run(server, tmp_path)
    rate_safety_cli(server, run, tmp_path / "safety")
    (corpus,) = orjson.loads((tmp_path / "safety" / "safety.json").read_bytes())["corpora"]
    shares = corpus["shares"]
    # Five complete sessions: crisis 1-3 (risk in their cards) and the two demo cards.
    assert (shares["all"]["critical"]["count"], shares["all"]["critical"]["sessions"]) == (2, 5)
    assert shares["all"]["major"]["count"] == 3
    assert shares["all"]["critical"]["interval"] == "bootstrap"
    lower, upper = shares["all"]["critical"]["lower"], shares["all"]["critical"]["upper"]
    assert 0 <= lower < 0.4 < upper <= 1
    with_risk, without = shares["with_risk"], shares["without_risk"]
    assert (with_risk["major"]["count"], with_risk["major"]["sessions"]) == (3, 3)
    assert with_risk["major"]["interval"] == "clopper-pearson" and with_risk["major"]["upper"] == 1
    assert (without["critical"]["count"], without["critical"]["sessions"]) == (0, 2)
    assert without["critical"]["lower"] == 0 and without["critical"]["upper"] > 0.5


def test_a_second_run_reads_every_answer_from_the_cache(server: FakeServer, tmp_path: Path) -> None:
    run = unsafe_run(server, tmp_path)
    rate_safety_cli(server, run, tmp_path / "safety")
    first = orjson.loads((tmp_path / "safety" / "safety.json").read_bytes())
    calls = len(server.calls)
    rate_safety_cli(server, run, tmp_path / "safety")
    second = orjson.loads((tmp_path / "safety" / "safety.json").read_bytes())
    assert len(server.calls) == calls
    assert second["run"]["calls"] == 0 and second["run"]["cached"] == first["run"]["calls"]
    assert second["corpora"][0]["shares"] == first["corpora"][0]["shares"]


def test_evaluate_safety_from_python_returns_the_typed_result(
    server: FakeServer, tmp_path: Path
) -> None:
    run = unsafe_run(server, tmp_path)
    server.script = safety_judge
    config = build_config(
        None,
        {
            "endpoint.base_urls": [server.base_url],
            "endpoint.model": "judge",
            "rounds": 2,
            "safety.bootstrap": 200,
        },
        kind=EvaluationConfig,
    )
    done = anyio.run(evaluate_safety, [run], config, tmp_path / "safety")
    (result,) = done.results
    assert isinstance(result, SafetyResult)
    assert result.shares["all"]["critical"].count == 2
    session = next(s for s in result.sessions if s.dialogue_id == "crisis-en-01")
    reply = session.replies[1]
    assert reply.rounds == (SafetyVerdict("critical", "encouraging_harm"),) * 2
    assert done.report == tmp_path / "safety" / "safety.md"
    assert done.table.rows[0][0] == "run"


@pytest.mark.parametrize(
    ("rounds", "severity", "category"),
    [
        (
            [("none", None), ("major", "harmful_advice"), ("minor", "missed_risk")],
            "minor",
            "missed_risk",
        ),
        ([("none", None), ("critical", "missed_risk")], "critical", "missed_risk"),  # upper median
        ([("major", "beyond_role"), ("major", "harmful_advice")], "major", "harmful_advice"),
        ([None, ("none", None)], "none", None),
        ([None, None], None, None),
    ],
)
def test_a_replys_rounds_combine_to_their_upper_median(
    rounds: list[tuple[str, str | None] | None], severity: str | None, category: str | None
) -> None:
    from interactive_agents.evaluation._safety import combine_rounds

    verdicts = [None if r is None else SafetyVerdict(*r) for r in rounds]  # type: ignore[arg-type]
    assert combine_rounds(verdicts) == (severity, category)


def test_a_share_says_how_its_interval_was_made() -> None:
    from interactive_agents.evaluation._safety import share_estimate

    rng = np.random.default_rng(0)
    assert share_estimate([], rng, 200).interval == "none"
    none = share_estimate([False] * 10, rng, 200)
    assert (none.share, none.lower, none.interval) == (0.0, 0.0, "clopper-pearson")
    assert none.upper == pytest.approx(0.3085, abs=1e-3)  # exact 95 % upper bound of 0/10
    some = share_estimate([True, False, False, False], rng, 500)
    assert some.interval == "bootstrap" and some.lower is not None and some.upper is not None
    assert some.lower <= 0.25 <= some.upper
