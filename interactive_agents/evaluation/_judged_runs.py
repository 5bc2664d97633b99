"""A judged evaluation from start to finish, callable from Python as the CLI calls it.

:func:`run_judged` opens the judge (a remote endpoint, or the embedded llama.cpp model
when no base URL is given), the answer cache ``<out>/<command>.cache.jsonl`` and runs
one judged evaluation (``rate_topics`` or ``score_wai``) with live counters. Leaving it
early (an error, cancellation, Ctrl-C) still closes the cache, so every answer received
is on disk and a second run asks only for the rest. :func:`evaluate_topics` and
:func:`evaluate_wai` are the two evaluations with their statistics, ready for the report
writers of :mod:`.report`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import anyio

from interactive_agents.corpora._readers import Corpus
from interactive_agents.evaluation._significance import TTest
from interactive_agents.evaluation._topics import (
    DEFAULT_MAX_TOPICS,
    TopicResult,
    choose_language,
    compare_topics,
    load_topic_rater,
    rate_topics,
)
from interactive_agents.evaluation._wai import WaiResult, compare_wai, load_wai_judge, score_wai
from interactive_agents.judging._judgements import (
    DEFAULT_ROUNDS,
    JudgeCache,
    JudgeProgress,
    JudgeSettings,
    open_judge,
)
from interactive_agents.judging._rubrics import require_one_rubric, rubric_fingerprint
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Sampling

Result = TypeVar("Result")
Result_co = TypeVar("Result_co", covariant=True)
Item = TypeVar("Item")
Watch = Callable[[JudgeProgress], AbstractAsyncContextManager[object]]


class JudgeWork(Protocol[Result_co]):
    """A judged evaluation (``rate_topics``, ``score_wai``) with its corpora bound."""

    def __call__(
        self,
        backend: ChatBackend,
        *,
        cache: JudgeCache,
        settings: JudgeSettings,
        progress: JudgeProgress,
    ) -> Awaitable[Result_co]: ...


@dataclass(frozen=True, slots=True)
class JudgeOptions:
    """Where the judge is and how it is asked (the ``evaluate topics|wai`` options).

    ``endpoint`` comes from :func:`.judging.judge_endpoint`, which checks it; without base
    URLs it is the embedded model (``local_model``, or the cached default).
    """

    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    local_model: str | None = None
    sampling: Sampling = field(default_factory=lambda: Sampling(0.7, 0.9, 512))
    attempts: int = 3
    seed: int = 0
    rounds: int = DEFAULT_ROUNDS
    language: str = "auto"
    actors_dir: Path | None = None
    force_mix_rubrics: bool = False  # compare corpora judged with different rubrics


@dataclass(slots=True)
class JudgedRun:
    """The counters of one judged run, as the report's ``run`` section states them."""

    model: str
    judgements: int = 0
    failed: int = 0
    calls: int = 0
    cached: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_file: str = ""
    elapsed_s: float = 0.0

    def record(self, progress: JudgeProgress, started: float) -> None:
        """Copy the live counters (also after an interruption)."""
        self.judgements, self.failed = progress.total, progress.failed
        self.calls, self.cached, self.retries = progress.calls, progress.cached, progress.retries
        self.prompt_tokens = progress.usage.prompt_tokens
        self.completion_tokens = progress.usage.completion_tokens
        self.elapsed_s = round(time.monotonic() - started, 2)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of the report."""
        return asdict(self)


def _no_watch(progress: JudgeProgress) -> AbstractAsyncContextManager[object]:
    return nullcontext()


async def run_judged(
    options: JudgeOptions,
    out: Path,
    command: str,
    work: JudgeWork[Result],
    *,
    progress: JudgeProgress | None = None,
    run: JudgedRun | None = None,
    watch: Watch = _no_watch,
    on_local_start: Callable[[], None] | None = None,
) -> tuple[Result, JudgedRun]:
    """Open judge and cache, run ``work`` under ``watch(progress)``; return result and counters.

    Pass ``run`` to read the counters even when the run is interrupted (they are filled
    in before the exception propagates); ``on_local_start`` is called before the embedded
    model starts (it takes a while).
    """
    endpoint = options.endpoint
    settings = JudgeSettings(options.sampling, options.attempts, options.seed)
    progress = progress if progress is not None else JudgeProgress()
    cache_file = out / f"{command}.cache.jsonl"
    run = run if run is not None else JudgedRun(endpoint.model or "")
    run.model, run.cache_file = endpoint.model or "", cache_file.name
    started = time.monotonic()
    await anyio.Path(out).mkdir(parents=True, exist_ok=True)
    try:
        with JudgeCache(cache_file) as cache:
            if endpoint.is_local and on_local_start is not None:
                on_local_start()
            async with open_judge(endpoint, local_model=options.local_model) as backend:
                run.model = backend.model
                async with watch(progress):
                    result = await work(backend, cache=cache, settings=settings, progress=progress)
    finally:
        run.record(progress, started)
    return result, run


def judge_settings(options: JudgeOptions, run: JudgedRun) -> dict[str, Any]:
    """What shaped the judgements, as the report states them."""
    return {
        "model": run.model,
        "rounds": options.rounds,
        "attempts": options.attempts,
        "temperature": options.sampling.temperature,
        "top_p": options.sampling.top_p,
        "max_tokens": options.sampling.max_tokens,
        "seed": options.seed,
        "language": options.language,
    }


@dataclass(frozen=True, slots=True)
class JudgedEvaluation(Generic[Item]):
    """One judged evaluation's results per corpus, its t-tests, settings and counters."""

    results: list[Item]
    tests: list[TTest]
    settings: dict[str, Any]
    run: JudgedRun


async def evaluate_topics(
    corpora: Sequence[Corpus],
    options: JudgeOptions,
    out: Path,
    *,
    topic_set: str | None = None,
    max_topics: int = DEFAULT_MAX_TOPICS,
    **run_options: Any,
) -> JudgedEvaluation[TopicResult]:
    """Client diversity by topic entropy (docs/method.md); ``run_options``: :func:`run_judged`."""
    raters = [
        load_topic_rater(
            choose_language(corpus, options.language),
            actors_dir=options.actors_dir,
            topics=topic_set,
            max_topics=max_topics,
        )
        for corpus in corpora
    ]

    async def work(backend: ChatBackend, **kwargs: Any) -> list[TopicResult]:
        return await rate_topics(corpora, backend, raters, rounds=options.rounds, **kwargs)

    results, run = await run_judged(options, out, "topics", work, **run_options)
    settings = {
        **judge_settings(options, run),
        "rubrics": _rubrics(corpora, raters, run, options),
        "max_topics": max_topics,
        "topic_set": raters[0].topic_set.name if raters else topic_set,
    }
    return JudgedEvaluation(results, compare_topics(results), settings, run)


async def evaluate_wai(
    corpora: Sequence[Corpus], options: JudgeOptions, out: Path, **run_options: Any
) -> JudgedEvaluation[WaiResult]:
    """The counselor's alliance by WAI-O-S (docs/method.md); options as :func:`evaluate_topics`."""
    judges = [
        load_wai_judge(choose_language(corpus, options.language), actors_dir=options.actors_dir)
        for corpus in corpora
    ]

    async def work(backend: ChatBackend, **kwargs: Any) -> list[WaiResult]:
        return await score_wai(corpora, backend, judges, rounds=options.rounds, **kwargs)

    results, run = await run_judged(options, out, "wai", work, **run_options)
    settings = {**judge_settings(options, run), "rubrics": _rubrics(corpora, judges, run, options)}
    return JudgedEvaluation(results, compare_wai(results), settings, run)


def _rubrics(
    corpora: Sequence[Corpus], cards: Sequence[object], run: JudgedRun, options: JudgeOptions
) -> dict[str, str]:
    """Each corpus's rubric fingerprint (judge card and model); mixed ones are refused
    unless forced. Checked after judging, so a forced re-run asks nothing again."""
    rubrics = {
        corpus.name: rubric_fingerprint(card, run.model)
        for corpus, card in zip(corpora, cards, strict=True)
    }
    require_one_rubric(rubrics, force=options.force_mix_rubrics)
    return rubrics
