"""The evaluations that need no LLM, from start to finish, as the CLI calls them.

Each entry point reads the corpora (:func:`.load_corpora`), measures them under an
:class:`EvaluationConfig`, writes its report into ``out`` (JSON, Markdown, PNG) and
returns what the report says (:class:`.Evaluation`): dataset statistics (Table 1),
vocabulary overlap (Eq. 1), semantic consistency (Eq. 2) and the quality flags.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from interactive_agents.corpora._readers import Corpus
from interactive_agents.corpora._vocabulary import Language, read_stopwords
from interactive_agents.evaluation._config import EvaluationConfig
from interactive_agents.evaluation._consistency import ConsistencyResult
from interactive_agents.evaluation._corpus_inputs import CorpusSource, load_corpora
from interactive_agents.evaluation._embedding import choose_embedding_model, load_embedder
from interactive_agents.evaluation._evaluations import (
    ConsistencyEvaluation,
    Evaluation,
    QualityEvaluation,
    ReportTable,
    StatsEvaluation,
)
from interactive_agents.evaluation._flag_accuracy import (
    LabelledMeasures,
    flag_accuracy,
    read_labels,
    terminator_endings,
)
from interactive_agents.evaluation._overlap import corpus_language, vocabulary_overlap
from interactive_agents.evaluation._quality_report import (
    corpus_quality,
    quality_report,
    quality_rows,
)
from interactive_agents.evaluation._report import (
    consistency_report,
    consistency_rows,
    stats_report,
    stats_rows,
)
from interactive_agents.evaluation._semantic import Embed, Vector, semantic_consistency
from interactive_agents.evaluation._stats import corpus_stats
from interactive_agents.evaluation._topics import choose_language
from interactive_agents.method._config import TerminatorConfig
from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._quality import Flagger, load_quality_rules
from interactive_agents.method._terminator import TerminatorRules

EMBED_BATCH = 64  # texts per embedding call: a caller's progress moves once per batch


def evaluate_stats(
    corpora: Sequence[CorpusSource], config: EvaluationConfig, out: str | Path
) -> StatsEvaluation:
    """Dataset statistics as Table 1: ``stats.json``, ``stats.md``, ``turns.png``."""
    folder = Path(out)
    loaded = load_corpora(corpora, config)
    figures = [corpus_stats(corpus) for corpus in loaded]
    payload = stats_report(folder, loaded, figures)
    table = ReportTable("Dataset statistics", *stats_rows(loaded, figures))
    return Evaluation(figures, table, folder / "stats.md", payload)


def evaluate_overlap(
    corpora: Sequence[CorpusSource], config: EvaluationConfig, out: str | Path
) -> ConsistencyEvaluation:
    """Vocabulary overlap of client utterances with the own and a random card (Eq. 1),
    under ``config.overlap``; ``overlap.json``, ``overlap.md``, a histogram per corpus."""
    folder = Path(out)
    settings = config.overlap
    words = read_stopwords(settings.stopwords) if settings.stopwords else frozenset[str]()
    loaded = load_corpora(corpora, config)
    results = [
        vocabulary_overlap(
            corpus,
            np.random.default_rng(config.seed),
            language=config.language,
            stopwords=words,
            test=settings.test,
            draw=settings.draw,
        )
        for corpus in loaded
    ]
    described = {
        "seed": config.seed,
        "test": settings.test,
        "draw": settings.draw,
        "language": config.language,
        "stopwords": len(words),
    }
    title = "Vocabulary overlap rate (mean ± std)"
    return _consistency_evaluation("overlap", title, loaded, results, described, folder)


def evaluate_semantic(
    corpora: Sequence[CorpusSource],
    config: EvaluationConfig,
    out: str | Path,
    *,
    on_embedded: Callable[[int], None] | None = None,
) -> ConsistencyEvaluation:
    """Cosine similarity of client utterances with the own and a random card (Eq. 2),
    under ``config.semantic``; ``semantic.json``, ``semantic.md``, a histogram per corpus.

    The model is ``semantic.model`` for every corpus, or each corpus's offline default
    by its own language (:func:`.choose_embedding_model`), so a corpus scores the same
    whatever is evaluated beside it; the report names each corpus's model. Texts are
    embedded in batches of :data:`EMBED_BATCH`, ``on_embedded`` told how many after each
    (a progress bar).
    """
    folder = Path(out)
    settings = config.semantic
    loaded = load_corpora(corpora, config)
    languages = {corpus.name: _language(corpus, config) for corpus in loaded}
    models = choose_embedding_model(settings.model, languages, force=settings.force)
    embedders: dict[str, Embed] = {}
    results = []
    for corpus in loaded:
        model = models[corpus.name]
        if model not in embedders:
            embedder = load_embedder(model, device=settings.device)
            embedders[model] = _in_batches(embedder, on_embedded)
        results.append(
            semantic_consistency(
                corpus,
                embedders[model],
                np.random.default_rng(config.seed),
                method=model,
                test=settings.test,
                draw=settings.draw,
            )
        )
    described = {
        "seed": config.seed,
        "test": settings.test,
        "draw": settings.draw,
        "models": models,
        "languages": languages,
    }
    title = "Semantic consistency (mean ± std)"
    return _consistency_evaluation("semantic", title, loaded, results, described, folder)


def evaluate_quality(
    corpora: Sequence[CorpusSource], config: EvaluationConfig, out: str | Path
) -> QualityEvaluation:
    """The quality flags of every session (docs/quality.md) and their rates per corpus,
    under ``config.quality.thresholds``; ``quality.json``, ``quality.md``, ``quality.png``.

    Each corpus is flagged in its language, with the prompts and phrase lists of
    ``config.actors_dir``; flags a run stored under the same rules are read, not redone.
    With ``config.quality.labels`` (hand labels, :mod:`.flag_accuracy`) the report adds
    each flag's precision and recall and each terminator mode's premature endings.
    """
    folder = Path(out)
    loaded = load_corpora(corpora, config)
    labels = read_labels(config.quality.labels) if config.quality.labels else None
    results = []
    terminators: dict[str, TerminatorRules] = {}
    for corpus in loaded:
        prompts = load_prompts(choose_language(corpus, config.language), config.actors_dir)
        rules = load_quality_rules(prompts, config.actors_dir, config.quality.thresholds)
        results.append(corpus_quality(corpus, Flagger.of(rules)))
        terminators[corpus.name] = TerminatorConfig().rules(prompts)
    measured = None
    if labels is not None and config.quality.labels is not None:
        flags = {ident: quality for result in results for ident, quality in result.sessions}
        measured = LabelledMeasures(
            config.quality.labels,
            flag_accuracy(flags, labels, file=config.quality.labels),
            terminator_endings(loaded, labels, terminators),
        )
    payload = quality_report(folder, results, loaded, measured)
    table = ReportTable("Session quality: share of sessions flagged", *quality_rows(results))
    return Evaluation(results, table, folder / "quality.md", payload)


def _language(corpus: Corpus, config: EvaluationConfig) -> Language:
    """``config.language``, or the corpus's own for ``auto``."""
    return corpus_language(corpus) if config.language == "auto" else config.language


def _in_batches(embed: Embed, on_embedded: Callable[[int], None] | None) -> Embed:
    """``embed`` in batches of EMBED_BATCH texts, ``on_embedded`` told after each."""

    def batched(texts: list[str]) -> Vector:
        parts = []
        for start in range(0, len(texts), EMBED_BATCH):
            chunk = texts[start : start + EMBED_BATCH]
            parts.append(np.asarray(embed(chunk)))
            if on_embedded is not None:
                on_embedded(len(chunk))
        return np.concatenate(parts) if parts else np.asarray(embed(texts))

    return batched


def _consistency_evaluation(
    command: str,
    title: str,
    corpora: list[Corpus],
    results: list[ConsistencyResult],
    settings: dict[str, Any],
    out: Path,
) -> ConsistencyEvaluation:
    payload = consistency_report(out, corpora, results, command=command, settings=settings)
    table = ReportTable(title, *consistency_rows(corpora, results))
    return Evaluation(results, table, out / f"{command}.md", payload)
