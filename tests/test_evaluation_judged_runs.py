"""Judged evaluations from Python (no CLI): the run, its counters, an early exit, resume."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import anyio
import pytest

from interactive_agents.corpora._readers import Corpus, load_corpus
from interactive_agents.evaluation._judged_runs import JudgedRun, JudgeOptions, evaluate_wai
from interactive_agents.judging._judgements import JudgeProgress, judge_endpoint
from interactive_agents.testing import Call, FakeServer

from .support import engine_record, write_run

ITEMS = 12


def _options(server: FakeServer) -> JudgeOptions:
    endpoint = judge_endpoint([server.base_url], "judge", concurrency=2, timeout=5, max_retries=0)
    return JudgeOptions(
        endpoint=endpoint,
        rounds=1,
        language="en",
    )


def _corpus(tmp_path: Path, dialogues: int = 2) -> Corpus:
    records = [engine_record(f"d{i}", None, ["I feel stuck.", "Go on."]) for i in range(dialogues)]
    return load_corpus(write_run(tmp_path / "run", records))


def _cache_lines(out: Path) -> int:
    return len((out / "wai.cache.jsonl").read_bytes().splitlines())


@pytest.mark.anyio
async def test_evaluate_wai_from_python(server: FakeServer, tmp_path: Path) -> None:
    server.script = lambda call: "Final score: 5"
    out = tmp_path / "out"
    done = await evaluate_wai([_corpus(tmp_path)], _options(server), out)
    (result,) = done.results
    assert result.factors["bond"].mean == 5.0
    assert (done.run.model, done.run.judgements, done.run.calls) == ("judge", 24, 24)
    assert done.settings["model"] == "judge" and done.settings["rounds"] == 1
    assert done.tests == []  # one corpus: nothing to compare
    assert _cache_lines(out) == 24 == len(server.calls)


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
    corpus = _corpus(tmp_path, dialogues=3)
    out = tmp_path / "out"
    progress, run = JudgeProgress(), JudgedRun("")

    async with anyio.create_task_group() as group:

        async def stop_at_the_fifth_call() -> None:
            await fifth.wait()
            group.cancel_scope.cancel()

        group.start_soon(stop_at_the_fifth_call)
        await evaluate_wai([corpus], _options(server), out, progress=progress, run=run)

    kept = _cache_lines(out)
    assert kept < 3 * ITEMS
    assert run.judgements == 3 * ITEMS and run.calls >= kept  # counters filled on the way out

    again = await evaluate_wai([corpus], _options(server), out)
    assert (again.run.cached, again.run.calls) == (kept, 3 * ITEMS - kept)
    assert again.results[0].factors["goal"].mean == 4.0
