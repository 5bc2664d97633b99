"""Judged evaluations from Python (no CLI): the run, its report, an early exit, resume."""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import anyio
import orjson
import pytest

from interactive_agents import build_config
from interactive_agents.corpora import load_corpus
from interactive_agents.evaluation import (
    EvaluationConfig,
    JudgeMonitor,
    TopicResult,
    WaiResult,
    evaluate_topics,
    evaluate_wai,
)
from interactive_agents.testing import Call, FakeServer

from .support import engine_record, write_run

ITEMS = 12


def _config(server: FakeServer, **settings: Any) -> EvaluationConfig:
    recipe = {
        "language": "en",
        "rounds": 1,
        "endpoint": {
            "base_urls": [server.base_url],
            "model": "judge",
            "concurrency": 2,
            "timeout": 5,
            "max_retries": 0,
        },
    }
    return build_config(recipe, settings, kind=EvaluationConfig)


def _run(tmp_path: Path, dialogues: int = 2, name: str = "run") -> Path:
    records = [engine_record(f"d{i}", None, ["I feel stuck.", "Go on."]) for i in range(dialogues)]
    return write_run(tmp_path / name, records)


def _cache_lines(out: Path) -> int:
    return len((out / "wai.cache.jsonl").read_bytes().splitlines())


@pytest.mark.anyio
async def test_evaluate_wai_from_python(server: FakeServer, tmp_path: Path) -> None:
    server.script = lambda call: "Final score: 5"
    out = tmp_path / "out"
    done = await evaluate_wai([_run(tmp_path)], _config(server), out)
    (result,) = done.results
    assert isinstance(result, WaiResult) and result.factors["bond"].mean == 5.0
    assert (done.run.model, done.run.judgements, done.run.calls) == ("judge", 24, 24)
    assert done.settings["model"] == "judge" and done.settings["rounds"] == 1
    assert done.tests == [] and done.failed == 0  # one corpus: nothing to compare
    assert _cache_lines(out) == 24 == len(server.calls)
    assert done.report == out / "wai.md" and done.report.is_file()
    assert json.loads((out / "wai.json").read_bytes()) == json.loads(orjson.dumps(done.payload))
    assert done.table.title == "WAI-O-S factors (mean ± std)"
    (row,) = done.table.rows
    assert done.table.headers[5] == "Bond" and row[5] == "5.00 ± 0.00 (n=2)"
    assert row[:3] == ["run", "en", "2"]
    assert done.table.headers[-1] == "alpha (interval)"


@pytest.mark.anyio
async def test_wai_alpha_level_and_limit_come_from_the_configuration(
    server: FakeServer, tmp_path: Path
) -> None:
    server.script = lambda call: "Final score: 3"
    config = _config(server, **{"wai.alpha_level": "nominal", "limit": 1})
    done = await evaluate_wai([_run(tmp_path, dialogues=3)], config, tmp_path / "out")
    assert done.results[0].dialogues == 1 and len(server.calls) == ITEMS
    assert done.payload["corpora"][0]["alpha"]["level"] == "nominal"


@pytest.mark.anyio
async def test_evaluate_topics_from_python_compares_the_corpora(
    server: FakeServer, tmp_path: Path
) -> None:
    answers = itertools.cycle(["Topics: 1", "Topics: 1, 2"])
    server.script = lambda call: next(answers)
    corpus = load_corpus(_run(tmp_path, dialogues=2, name="a"))
    config = _config(server, **{"rounds": 2, "topics.max_topics": 2})
    done = await evaluate_topics([corpus, _run(tmp_path, name="b")], config, tmp_path / "out")
    assert [r.corpus for r in done.results] == ["a", "b"]
    assert all(isinstance(r, TopicResult) for r in done.results)
    assert done.settings["max_topics"] == 2 and done.settings["topic_set"] == "counseling-60"
    assert len(done.tests) == 1 and done.tests_table.rows[0][:3] == ["entropy", "a", "b"]
    assert done.table.rows[0][:3] == ["a", "en", "2"]
    assert done.report == tmp_path / "out" / "topics.md"
    assert (tmp_path / "out" / "topics.png").is_file()


@pytest.mark.anyio
async def test_leaving_early_keeps_every_answer_and_a_rerun_asks_only_the_rest(
    server: FakeServer, tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    fifth = anyio.Event()
    served = itertools.count(1)

    def script(call: Call) -> str:
        if next(served) == 5:
            loop.call_soon_threadsafe(fifth.set)
        return "Final score: 4"

    server.script = script
    run_dir = _run(tmp_path, dialogues=3)
    out = tmp_path / "out"
    monitor = JudgeMonitor()

    async with anyio.create_task_group() as group:

        async def stop_at_the_fifth_call() -> None:
            await fifth.wait()
            group.cancel_scope.cancel()

        group.start_soon(stop_at_the_fifth_call)
        await evaluate_wai([run_dir], _config(server), out, monitor=monitor)

    kept = _cache_lines(out)
    assert kept < 3 * ITEMS
    run = monitor.run  # counters filled on the way out
    assert run.judgements == 3 * ITEMS and run.calls >= kept
    assert run.cache_file == "wai.cache.jsonl"
    assert not (out / "wai.json").exists()

    again = await evaluate_wai([run_dir], _config(server), out)
    assert (again.run.cached, again.run.calls) == (kept, 3 * ITEMS - kept)
    assert again.results[0].factors["goal"].mean == 4.0
