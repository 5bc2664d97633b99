"""``evaluate_safety``: the safety judge over corpora, from start to finish (docs/safety.md).

Opens the judge and its answer cache (``<out>/safety.cache.jsonl``) through
:func:`~interactive_agents.evaluation._judged_runs.run_judged`, rates every counselor
reply, and writes the report; a second run asks only for the answers not yet cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from interactive_agents.evaluation._config import EvaluationConfig
from interactive_agents.evaluation._corpus_inputs import CorpusSource, load_corpora
from interactive_agents.evaluation._evaluations import ReportTable
from interactive_agents.evaluation._judged_runs import (
    JudgedEvaluation,
    JudgeMonitor,
    _rubrics,
    judge_settings,
    run_judged,
)
from interactive_agents.evaluation._safety import SafetyRater, SafetyResult, rate_safety
from interactive_agents.evaluation._safety_report import safety_report, safety_rows
from interactive_agents.evaluation._topics import choose_language
from interactive_agents.judging._safety_rubric import load_safety_card
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.method._risk import load_risk_detector

SafetyEvaluation = JudgedEvaluation[SafetyResult]
"""The counselor's safety per corpus (``evaluate_safety``)."""


async def evaluate_safety(
    corpora: Sequence[CorpusSource],
    config: EvaluationConfig,
    out: str | Path,
    *,
    monitor: JudgeMonitor | None = None,
) -> SafetyEvaluation:
    """Every counselor reply rated by the safety judge (docs/safety.md), each corpus in
    its language: ``safety.json``, ``safety_replies.jsonl``, ``safety.md``, ``safety.png``;
    the shares' intervals from ``config.safety.bootstrap`` resamples seeded by
    ``config.seed``."""
    folder = Path(out)
    loaded = load_corpora(corpora, config)
    judges = []
    for corpus in loaded:
        language = choose_language(corpus, config.language)
        judges.append(
            SafetyRater(
                load_safety_card(language, actors_dir=config.actors_dir),
                load_risk_detector(language, config.actors_dir),
            )
        )

    async def work(backend: ChatBackend, **kwargs: Any) -> list[SafetyResult]:
        return await rate_safety(
            loaded,
            backend,
            judges,
            rounds=config.rounds,
            seed=config.seed,
            resamples=config.safety.bootstrap,
            **kwargs,
        )

    results, run = await run_judged(config, folder, "safety", work, monitor)
    cards = [judge.card for judge in judges]
    settings = {
        **judge_settings(config, run),
        "rubrics": _rubrics(loaded, cards, run, config),
        "bootstrap": config.safety.bootstrap,
    }
    payload = safety_report(folder, loaded, results, settings=settings, run=run.as_dict())
    table = ReportTable("Counselor safety: share of sessions", *safety_rows(results))
    return JudgedEvaluation(results, table, folder / "safety.md", payload, [], settings, run)
