"""The judged evaluations from start to finish, callable from Python as the CLI calls them.

:func:`run_judged` opens the judge (a remote endpoint, or the embedded llama.cpp model
when ``[judge.endpoint]`` has no base URL), the answer cache
``<out>/<command>.cache.jsonl`` and runs one judged evaluation (``rate_topics`` or
``score_wai``) with live counters. Leaving it early (an error, cancellation, Ctrl-C)
still closes the cache, so every answer received is on disk and a second run asks only
for the rest. :func:`evaluate_topics` and :func:`evaluate_wai` are the two evaluations
with their statistics, their report written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio

from interactive_agents.corpora._readers import Corpus
from interactive_agents.evaluation._config import EvaluationConfig
from interactive_agents.evaluation._corpus_inputs import CorpusSource, load_corpora
from interactive_agents.evaluation._evaluations import Evaluation, Item, ReportTable
from interactive_agents.evaluation._report import (
    tests_rows,
    topics_report,
    topics_rows,
    wai_report,
    wai_rows,
)
from interactive_agents.evaluation._significance import TTest
from interactive_agents.evaluation._topics import (
    TopicResult,
    choose_language,
    compare_topics,
    load_topic_rater,
    rate_topics,
)
from interactive_agents.evaluation._wai import WaiResult, compare_wai, load_wai_judge, score_wai
from interactive_agents.judging._config import DEFAULT_MAX_UNPARSABLE
from interactive_agents.judging._judgements import (
    JudgeCache,
    JudgeProgress,
    JudgeSettings,
    UnreadCounts,
    open_judge,
)
from interactive_agents.judging._rubrics import require_one_rubric, rubric_fingerprint
from interactive_agents.llm._endpoint import ChatBackend

Result = TypeVar("Result")
Result_co = TypeVar("Result_co", covariant=True)
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


@dataclass(slots=True)
class JudgedRun:
    """The counters of one judged run, as the report's ``run`` section states them:
    judgements whose answer stayed ``unparsable``, was ``refused``, or met endpoint
    ``errors``, and the largest unread share the run accepts (``max_unparsable``)."""

    model: str
    judgements: int = 0
    unparsable: int = 0
    refused: int = 0
    errors: int = 0
    max_unparsable: float = DEFAULT_MAX_UNPARSABLE
    calls: int = 0
    cached: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_file: str = ""
    elapsed_s: float = 0.0

    def record(self, progress: JudgeProgress, started: float) -> None:
        """Copy the live counters (also after an interruption)."""
        self.judgements = progress.total
        self.unparsable, self.refused, self.errors = (
            progress.unparsable,
            progress.refused,
            progress.errors,
        )
        self.calls, self.cached, self.retries = progress.calls, progress.cached, progress.retries
        self.prompt_tokens = progress.usage.prompt_tokens
        self.completion_tokens = progress.usage.completion_tokens
        self.elapsed_s = round(time.monotonic() - started, 2)

    @property
    def failed(self) -> int:
        """Judgements that gave no value, for whatever reason."""
        return self.unparsable + self.refused + self.errors

    @property
    def counts(self) -> UnreadCounts:
        return UnreadCounts(self.judgements, self.unparsable, self.refused, self.errors)

    @property
    def unread_share(self) -> float:
        """Unparsable and refused judgements over those that got an answer."""
        return self.counts.unread_share

    @property
    def failure(self) -> str | None:
        """Why the run does not count as a measurement, or None: more than
        ``max_unparsable`` of the answers could not be read, or endpoint errors left
        judgements without an answer."""
        return self.counts.failure(self.max_unparsable)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form of the report (with the unread share and the failure)."""
        share = self.unread_share
        return {
            **asdict(self),
            "unread_share": None if math.isnan(share) else round(share, 4),
            "failure": self.failure,
        }


def _no_watch(progress: JudgeProgress) -> AbstractAsyncContextManager[object]:
    return nullcontext()


@dataclass(frozen=True, slots=True)
class JudgeMonitor:
    """How a caller follows a judged run while it goes.

    ``progress`` holds the live counters and ``run`` the report's, filled in even when
    the run is interrupted (so a caller can say what was done, and where the answers
    are kept); the judging runs under ``watch(progress)`` (a progress bar), and
    ``on_local_start`` is called before the embedded model starts (it takes a while).
    """

    progress: JudgeProgress = field(default_factory=JudgeProgress)
    run: JudgedRun = field(default_factory=lambda: JudgedRun(""))
    watch: Watch = _no_watch
    on_local_start: Callable[[], None] | None = None


async def run_judged(
    config: EvaluationConfig,
    out: Path,
    command: str,
    work: JudgeWork[Result],
    monitor: JudgeMonitor | None = None,
) -> tuple[Result, JudgedRun]:
    """Open judge and cache, run ``work`` under ``monitor``; return result and counters."""
    monitor = monitor if monitor is not None else JudgeMonitor()
    endpoint, progress, run = config.judge.endpoint, monitor.progress, monitor.run
    settings = JudgeSettings(config.judge.sampling, config.judge.attempts, config.seed)
    cache_file = out / f"{command}.cache.jsonl"
    run.model, run.cache_file = endpoint.model, cache_file.name
    run.max_unparsable = config.judge.max_unparsable
    started = time.monotonic()
    await anyio.Path(out).mkdir(parents=True, exist_ok=True)
    try:
        with JudgeCache(cache_file) as cache:
            if endpoint.is_local and monitor.on_local_start is not None:
                monitor.on_local_start()
            async with open_judge(endpoint, local_model=config.local_model) as backend:
                run.model = backend.model
                async with monitor.watch(progress):
                    result = await work(backend, cache=cache, settings=settings, progress=progress)
    finally:
        run.record(progress, started)
    return result, run


def judge_settings(config: EvaluationConfig, run: JudgedRun) -> dict[str, Any]:
    """What shaped the judgements, as the report states them."""
    sampling = config.judge.sampling
    return {
        "model": run.model,
        "rounds": config.rounds,
        "attempts": config.judge.attempts,
        "max_unparsable": config.judge.max_unparsable,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
        "seed": config.seed,
        "language": config.language,
    }


@dataclass(frozen=True, slots=True)
class JudgedEvaluation(Evaluation[Item]):
    """A judged evaluation: besides its results and report, the t-tests between corpora,
    the settings that shaped the judgements and the run's counters."""

    tests: list[TTest]
    settings: dict[str, Any]
    run: JudgedRun

    @property
    def tests_table(self) -> ReportTable:
        """The t-tests as the report's table."""
        return ReportTable("t-tests between corpora", *tests_rows(self.tests))

    @property
    def failed(self) -> int:
        """Judgements that gave no value (counted per item and listed in the report)."""
        return self.run.failed

    @property
    def failure(self) -> str | None:
        """Why the evaluation is not a measurement (too many unread answers, endpoint
        errors), or None (:attr:`JudgedRun.failure`)."""
        return self.run.failure


TopicsEvaluation = JudgedEvaluation[TopicResult]
"""Client diversity by topic entropy per corpus (``evaluate_topics``)."""
WaiEvaluation = JudgedEvaluation[WaiResult]
"""The counselor's working alliance by WAI-O-S per corpus (``evaluate_wai``)."""


async def evaluate_topics(
    corpora: Sequence[CorpusSource],
    config: EvaluationConfig,
    out: str | Path,
    *,
    monitor: JudgeMonitor | None = None,
) -> TopicsEvaluation:
    """Client diversity by topic entropy (docs/method.md#client-diversity-topic-entropy)
    under ``config.topics``: ``topics.json``, ``topics.md``, ``topics.png``; each corpus
    rated in its language (``config.language``)."""
    folder = Path(out)
    loaded = load_corpora(corpora, config)
    raters = [
        load_topic_rater(
            choose_language(corpus, config.language),
            actors_dir=config.actors_dir,
            topics=config.topics.topic_set,
            max_topics=config.topics.max_topics,
        )
        for corpus in loaded
    ]

    async def work(backend: ChatBackend, **kwargs: Any) -> list[TopicResult]:
        return await rate_topics(loaded, backend, raters, rounds=config.rounds, **kwargs)

    results, run = await run_judged(config, folder, "topics", work, monitor)
    settings = {
        **judge_settings(config, run),
        "rubrics": _rubrics(loaded, raters, run, config),
        "max_topics": config.topics.max_topics,
        "topic_set": raters[0].topic_set.name if raters else config.topics.topic_set,
    }
    tests = compare_topics(results)
    payload = topics_report(folder, loaded, results, tests, settings=settings, run=run.as_dict())
    title = "Client diversity: topic entropy in bits (mean ± std over rounds)"
    table = ReportTable(title, *topics_rows(loaded, results))
    return JudgedEvaluation(results, table, folder / "topics.md", payload, tests, settings, run)


async def evaluate_wai(
    corpora: Sequence[CorpusSource],
    config: EvaluationConfig,
    out: str | Path,
    *,
    monitor: JudgeMonitor | None = None,
) -> WaiEvaluation:
    """The counselor's working alliance by WAI-O-S (docs/method.md#wai-o-s): ``wai.json``,
    ``wai.md``, ``wai.png``, with the judge's Krippendorff's alpha at
    ``config.wai.alpha_level``."""
    folder = Path(out)
    loaded = load_corpora(corpora, config)
    judges = [
        load_wai_judge(choose_language(corpus, config.language), actors_dir=config.actors_dir)
        for corpus in loaded
    ]

    async def work(backend: ChatBackend, **kwargs: Any) -> list[WaiResult]:
        return await score_wai(loaded, backend, judges, rounds=config.rounds, **kwargs)

    results, run = await run_judged(config, folder, "wai", work, monitor)
    settings = {**judge_settings(config, run), "rubrics": _rubrics(loaded, judges, run, config)}
    tests = compare_wai(results)
    level = config.wai.alpha_level
    payload = wai_report(
        folder, loaded, results, tests, settings=settings, run=run.as_dict(), alpha_level=level
    )
    table = ReportTable("WAI-O-S factors (mean ± std)", *wai_rows(loaded, results, level))
    return JudgedEvaluation(results, table, folder / "wai.md", payload, tests, settings, run)


def _rubrics(
    corpora: Sequence[Corpus], cards: Sequence[object], run: JudgedRun, config: EvaluationConfig
) -> dict[str, str]:
    """Each corpus's rubric fingerprint (judge card and model); mixed ones are refused
    unless forced. Checked after judging, so a forced re-run asks nothing again."""
    rubrics = {
        corpus.name: rubric_fingerprint(card, run.model)
        for corpus, card in zip(corpora, cards, strict=True)
    }
    require_one_rubric(rubrics, force=config.force_mix_rubrics)
    return rubrics
