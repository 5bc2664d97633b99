"""Client diversity (docs/method.md): topic rater, entropy, cache and report, over loopback HTTP.

The scripted server plays the judge (every request must name the model ``judge``). It
knows which dialogue and round a request is for from the request's seed, which the
test works out with the same :func:`request_seed` the runner uses, so every expected
number below is computed by hand from the scripted answers.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.corpora._readers import Corpus, load_corpus
from interactive_agents.errors import ConfigError, InputError
from interactive_agents.evaluation._topics import (
    TopicRater,
    compare_topics,
    entropy,
    load_topic_rater,
    load_topic_set,
    rate_topics,
)
from interactive_agents.judging._judgements import (
    JudgeCache,
    JudgeProgress,
    JudgeRequest,
    JudgeSettings,
    judge_endpoint,
    request_seed,
)
from interactive_agents.llm._endpoint import ChatEndpoint
from interactive_agents.testing import Call, FakeServer, ServerOptions

from .support import engine_record, hand_run, write_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Scripted answers: (corpus, dialogue, round) -> the rater's answer. Topic numbers are
# 1-based positions in the bundled set: 1 low-mood, 2 anxiety, 3 panic, 4 social-anxiety.
ANSWERS = {
    # Round 1: topics 1, 2, 1+2, 3 -> counts (2, 2, 1) -> H = -(2·0.4·log2 0.4 + 0.2·log2 0.2).
    ("run", "d1", 1): "The client loves cats.\nTopics: 1",
    ("run", "d2", 1): "Work stress.\n**Topics:** 2 (anxiety)",
    ("run", "d3", 1): "Topics: 1, 2",
    ("run", "d4", 1): "Topics: 3",
    # Round 2: every dialogue gets topic 1 -> H = 0.
    ("run", "d1", 2): "Topics: 1",
    ("run", "d2", 2): "Topics: 1",
    ("run", "d3", 2): "Topics: 1, 1",  # a repeated number counts once
    ("run", "d4", 2): "Topics: 1, 999",  # a number outside the set is dropped
    # Round 3: four different topics -> H = 2; d4 needs one retry.
    ("run", "d1", 3): "Topics: 1",
    ("run", "d2", 3): "Topics: 2",
    ("run", "d3", 3): "Topics: 3",
    ("run", "d4", 3): "Hard to say, it is mostly about work.",
    # The other corpus: two dialogues, topics 1 and 2 in every round -> H = 1.
    ("other", "e1", 1): "Topics: 1",
    ("other", "e2", 1): "Topics: 2",
    ("other", "e1", 2): "Topics: 1",
    ("other", "e2", 2): "Topics: 2",
    ("other", "e1", 3): "Topics: 1",
    ("other", "e2", 3): "Topics: 2",
}
RETRY_ANSWER = "Topics: 4"
H1 = -(2 * 0.4 * math.log2(0.4) + 0.2 * math.log2(0.2))
RUN_ENTROPIES = [H1, 0.0, 2.0]
OTHER_ENTROPIES = [1.0, 1.0, 1.0]
CALLS = 4 * 3 + 1 + 2 * 3  # one retry for d4 in round 3


def _other_run(folder: Path) -> Path:
    records = [
        engine_record("e1", None, ["I feel sad all the time.", "I hear you."]),
        engine_record("e2", None, ["I worry about everything.", "Tell me more."]),
    ]
    return write_run(folder, records)


def _seeds() -> dict[int, tuple[str, str, int]]:
    """seed of attempt 1 -> (corpus, dialogue, round), as the runner derives it."""
    seeds = {}
    for corpus, dialogue, number in ANSWERS:
        request = JudgeRequest(corpus, dialogue, "topics", number, ())
        seeds[request_seed(0, request, 1)] = (corpus, dialogue, number)
    assert len(seeds) == len(ANSWERS)
    return seeds


def _script(rater: TopicRater) -> Callable[[Call], str]:
    seeds = _seeds()

    def script(call: Call) -> str:
        assert call.body["model"] == "judge"
        if call.messages[-1]["content"] == rater.reminder():
            return RETRY_ANSWER
        return ANSWERS[seeds[call.body["seed"]]]

    return script


@pytest.fixture
def corpora(tmp_path: Path) -> list[Corpus]:
    return [load_corpus(hand_run(tmp_path / "run")), load_corpus(_other_run(tmp_path / "other"))]


def _endpoint(server: FakeServer, concurrency: int = 8) -> ChatEndpoint:
    config = judge_endpoint(
        [server.base_url], "judge", concurrency=concurrency, timeout=5.0, max_retries=0
    )
    return ChatEndpoint(config)


def test_entropy_by_hand() -> None:
    assert entropy([2, 2, 1]) == pytest.approx(H1)
    assert entropy([1, 1, 1, 1, 0, 0]) == pytest.approx(2.0)
    assert entropy([5, 0, 0]) == 0.0
    assert entropy([3, 3], base=math.e) == pytest.approx(math.log(2))
    assert math.isnan(entropy([0, 0]))


def test_bundled_topic_sets_are_parallel() -> None:
    zh, en = load_topic_set("topics.zh"), load_topic_set("topics.en")
    assert len(en.topics) == 60
    assert zh.ids == en.ids
    assert (zh.language, en.language) == ("zh", "en")
    assert en.numbered().splitlines()[0] == "1. Low mood, depression and loss of interest"


@pytest.mark.parametrize(
    ("language", "answer", "expected"),
    [
        ("en", "Reasoning.\nTopics: 12, 7", (12, 7)),
        ("en", "Topics: 1\nOn reflection...\nFinal topics: 5, 6, 7, 8", (5, 6, 7)),
        ("en", "**Topics:** 3 (work stress: 2 years), 61, 3, 9", (3, 9)),
        ("en", "Topic: 60.", (60,)),
        ("en", "Topics: none of them", None),
        ("en", "I would pick 12 and 7.", None),
        ("zh", "理由……\n话题：１２，７", (12, 7)),
        ("zh", "最终话题: 43（友谊问题）、44", (43, 44)),
        ("zh", "无法判断", None),
        ("zh", "Topics: 3, 4", (3, 4)),
    ],
)
def test_parse_topics(language: str, answer: str, expected: tuple[int, ...] | None) -> None:
    assert load_topic_rater(language).parse(answer).value == expected


def test_topic_rater_prompt() -> None:
    rater = load_topic_rater("en", max_topics=2)
    system, user = rater.messages("I worry.\nI cannot sleep.")
    assert "60. Doubts about counseling or about asking for help" in system.content
    assert "at most 2" in system.content
    assert "I worry.\nI cannot sleep." in user.content
    assert rater.reminder().strip().endswith("Topics: <number>, <number>")
    assert system.content.count("Topics: <number>, <number>") == 1


def test_bad_topic_set_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "mine.toml"
    bad.write_text('topics = [{ id = "a", name = "A" }, { id = "a", name = "B" }]\n')
    with pytest.raises(ConfigError, match=r"mine\.toml.*repeated ids: a"):
        load_topic_set(bad)


@pytest.mark.anyio
async def test_topics_entropy_retry_and_cache(
    server: FakeServer, corpora: list[Corpus], tmp_path: Path
) -> None:
    rater = load_topic_rater("en")
    server.script = _script(rater)
    cache_file = tmp_path / "out" / "topics.cache.jsonl"
    backend = _endpoint(server)
    try:
        with JudgeCache(cache_file) as cache:
            progress = JudgeProgress()
            run, other = await rate_topics(corpora, backend, rater, cache=cache, progress=progress)
    finally:
        await backend.aclose()

    assert len(server.calls) == CALLS
    assert (progress.calls, progress.cached, progress.retries, progress.failed) == (CALLS, 0, 1, 0)
    assert [r.entropy for r in run.rounds] == pytest.approx(RUN_ENTROPIES)
    assert run.entropy_mean == pytest.approx(statistics.mean(RUN_ENTROPIES))
    assert run.entropy_std == pytest.approx(statistics.stdev(RUN_ENTROPIES))
    assert run.normalized_entropy_mean == pytest.approx(
        statistics.mean(RUN_ENTROPIES) / math.log2(60)
    )
    assert run.rounds[0].counts == {"low-mood": 2, "anxiety": 2, "panic": 1}
    assert (run.rounds[0].rated, run.rounds[0].assignments) == (4, 5)
    assert run.rounds[2].counts == {"low-mood": 1, "anxiety": 1, "panic": 1, "social-anxiety": 1}
    # Pooled over rounds: low-mood 2+4+1, anxiety 2+0+1, panic 1+0+1, social-anxiety 1.
    assert run.distribution["low-mood"] == pytest.approx(7 / 13)
    assert run.distribution["social-anxiety"] == pytest.approx(1 / 13)
    assert sum(run.distribution.values()) == pytest.approx(1.0)
    d4 = next(a for a in run.assignments if a.dialogue_id == "d4")
    assert d4.rounds == (("panic",), ("low-mood",), ("social-anxiety",))
    assert run.failures == ()
    assert [r.entropy for r in other.rounds] == pytest.approx(OTHER_ENTROPIES)
    assert other.entropy_std == 0.0

    # The retried request showed the judge its answer and the reminder.
    retry = next(c for c in server.calls if c.messages[-1]["content"] == rater.reminder())
    assert [m["role"] for m in retry.messages] == ["system", "user", "assistant", "user"]
    assert retry.messages[2]["content"] == ANSWERS[("run", "d4", 3)]
    # The three rounds of one dialogue are independent calls with distinct seeds.
    assert len({c.body["seed"] for c in server.calls}) == CALLS

    # t-test of the per-round entropies, by hand (Student's, pooled variance).
    (test,) = compare_topics([run, other])
    pooled = (2 * statistics.variance(RUN_ENTROPIES) + 0.0) / 4
    t = (statistics.mean(RUN_ENTROPIES) - 1.0) / math.sqrt(pooled * (1 / 3 + 1 / 3))
    assert (test.metric, test.a, test.b, test.n_a, test.n_b) == ("entropy", "run", "other", 3, 3)
    assert test.t_statistic == pytest.approx(t)
    assert 0 < test.p_value < 1

    # Every answer is one line of the cache; a re-run pays for nothing.
    lines = [orjson.loads(line) for line in cache_file.read_bytes().splitlines()]
    assert len(lines) == CALLS
    assert {line["model"] for line in lines} == {"judge"}
    assert {(line["corpus"], line["attempt"]) for line in lines} == {
        ("run", 1),
        ("run", 2),
        ("other", 1),
    }
    with cache_file.open("ab") as handle:
        handle.write(b'{"corpus": "run", "dialogue_id": "d')  # a torn line, as after a kill
    backend = _endpoint(server)
    try:
        with JudgeCache(cache_file) as cache:
            assert (cache.loaded, cache.unreadable) == (CALLS, 1)
            progress = JudgeProgress()
            again = await rate_topics(corpora, backend, rater, cache=cache, progress=progress)
    finally:
        await backend.aclose()
    assert len(server.calls) == CALLS
    assert (progress.calls, progress.cached) == (0, CALLS)
    assert again[0].rounds == run.rounds
    assert again[0].assignments == run.assignments


@pytest.mark.anyio
async def test_a_changed_prompt_is_asked_again(server: FakeServer, tmp_path: Path) -> None:
    corpus = load_corpus(_other_run(tmp_path / "other"))
    server.script = lambda call: "Topics: 1"
    cache = JudgeCache(tmp_path / "cache.jsonl")
    backend = _endpoint(server)
    try:
        await rate_topics([corpus], backend, load_topic_rater("en"), cache=cache, rounds=1)
        await rate_topics([corpus], backend, load_topic_rater("en"), cache=cache, rounds=2)
        assert len(server.calls) == 2 + 2  # round 1 was cached, round 2 is new
        await rate_topics(
            [corpus], backend, load_topic_rater("en", max_topics=1), cache=cache, rounds=1
        )
        assert len(server.calls) == 4 + 2  # another prompt: asked again
        settings = JudgeSettings(seed=9)
        await rate_topics(
            [corpus], backend, load_topic_rater("en"), cache=cache, rounds=1, settings=settings
        )
        assert len(server.calls) == 6 + 2  # another seed: asked again
    finally:
        cache.close()
        await backend.aclose()


@pytest.mark.anyio
async def test_calls_run_concurrently_within_the_endpoint_limit(
    server: FakeServer, tmp_path: Path
) -> None:
    records = [engine_record(f"x{i}", None, [f"I worry, {i}.", "I see."]) for i in range(6)]
    corpus = load_corpus(write_run(tmp_path / "many", records))
    server.script = lambda call: "Topics: 2"
    server.options = ServerOptions(latency=0.2)
    backend = _endpoint(server, concurrency=4)
    try:
        (result,) = await rate_topics(
            [corpus], backend, load_topic_rater("en"), cache=JudgeCache(None)
        )
    finally:
        await backend.aclose()
    assert len(server.calls) == 18
    assert backend.gate.slots.peak_in_use == 4
    assert result.rounds[0].counts == {"anxiety": 6}


@pytest.mark.anyio
async def test_repeated_dialogue_ids_are_refused(server: FakeServer, tmp_path: Path) -> None:
    records = [engine_record("same", None, ["a", "b"]), engine_record("same", None, ["c", "d"])]
    corpus = load_corpus(write_run(tmp_path / "twice", records))
    with pytest.raises(InputError, match="repeated dialogue ids: 'same'"):
        await rate_topics(
            [corpus], _endpoint(server), load_topic_rater("en"), cache=JudgeCache(None)
        )


def test_cli_topics_report_and_rerun(server: FakeServer, tmp_path: Path) -> None:
    rater = load_topic_rater("en")
    server.script = _script(rater)
    run, other = hand_run(tmp_path / "run"), _other_run(tmp_path / "other")
    out = tmp_path / "report"
    args = [
        "evaluate", "topics", str(run), str(other), "--out", str(out),
        "--base-url", server.base_url, "--model", "judge", "--language", "en", "--quiet",
    ]  # fmt: skip

    result = CliRunner().invoke(main, args)

    assert result.exit_code == 0, result.output
    assert "Client diversity" in result.stdout
    assert f"Report: {out / 'topics.md'}" in result.stdout
    payload = json.loads((out / "topics.json").read_text(encoding="utf-8"))
    markdown = (out / "topics.md").read_text(encoding="utf-8")
    assert (out / "topics.png").read_bytes().startswith(PNG_MAGIC)
    assert len((out / "topics.cache.jsonl").read_bytes().splitlines()) == CALLS
    assert payload["plots"] == ["topics.png"]
    assert payload["settings"]["model"] == "judge"
    assert payload["settings"]["topic_set"] == "counseling-60"
    assert payload["run"]["calls"] == CALLS
    first, second = payload["corpora"]
    assert [r["entropy"] for r in first["rounds"]] == pytest.approx(RUN_ENTROPIES)
    assert (first["language"], first["dialogues"], second["entropy_mean"]) == ("en", 4, 1.0)
    (comparison,) = payload["comparisons"]
    assert (comparison["a"], comparison["b"]) == ("run", "other")
    heading = "# Client diversity: topic entropy (docs/method.md#client-diversity-topic-entropy)"
    assert heading in markdown
    assert "| run | en | 4 | 1.522, 0.000, 2.000 |" in markdown
    assert "![Topic distribution](topics.png)" in markdown

    again = CliRunner().invoke(main, [*args, "--json"])
    assert again.exit_code == 0, again.output
    assert len(server.calls) == CALLS
    rerun = json.loads(again.stdout)
    assert (rerun["run"]["calls"], rerun["run"]["cached"]) == (0, CALLS)
    assert rerun["corpora"][0]["rounds"] == first["rounds"]


def test_cli_bad_endpoint_options_exit_2(tmp_path: Path) -> None:
    run = str(hand_run(tmp_path / "run"))
    result = CliRunner().invoke(
        main, ["evaluate", "topics", run, "--out", str(tmp_path / "o"), "--base-url", "x"]
    )
    assert result.exit_code == 2
    assert "'x' is not an http(s) URL" in result.stderr


@pytest.mark.e2e
def test_cli_topics_on_the_embedded_model(tmp_path: Path) -> None:
    """Without --base-url the judge is the embedded llama.cpp model (weak: answers may
    not parse, which is then reported, exit code 1)."""
    out = tmp_path / "report"
    args = [
        "evaluate", "topics", str(hand_run(tmp_path / "run")), "--out", str(out),
        "--limit", "1", "--rounds", "1", "--attempts", "1", "--max-tokens", "16", "--quiet",
    ]  # fmt: skip

    result = CliRunner().invoke(main, args)

    assert result.exit_code in (0, 1), result.output
    (line,) = (out / "topics.cache.jsonl").read_bytes().splitlines()
    assert orjson.loads(line)["model"] == "smollm2-135m-instruct"
    payload = json.loads((out / "topics.json").read_text(encoding="utf-8"))
    assert payload["run"]["calls"] == 1
    assert (out / "topics.png").read_bytes().startswith(PNG_MAGIC)
