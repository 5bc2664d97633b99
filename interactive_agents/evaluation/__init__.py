"""Evaluation of dialogue corpora (docs/method.md#evaluation, docs/evaluation.md).

Without an LLM: dataset statistics, vocabulary overlap, semantic consistency, quality
flags. With an LLM judge: client diversity by topic entropy and the counselor's working
alliance by WAI-O-S, on the judge runner of :mod:`interactive_agents.judging`.
"""

from __future__ import annotations

from interactive_agents.evaluation._consistency import (
    DRAWS,
    ConsistencyResult,
    Draw,
    PairedScore,
    compare_with_cards,
)
from interactive_agents.evaluation._embedding import (
    DEFAULT_MODEL,
    MULTILINGUAL_MODEL,
    ChunkedEmbedder,
    Embedder,
    UniversalSentenceEncoder,
    default_model,
    english_only,
    load_embedder,
)
from interactive_agents.evaluation._judged_runs import (
    JudgedEvaluation,
    JudgedRun,
    JudgeOptions,
    evaluate_topics,
    evaluate_wai,
    run_judged,
)
from interactive_agents.evaluation._overlap import corpus_language, overlap_rate, vocabulary_overlap
from interactive_agents.evaluation._semantic import Embed, Vector, cosine, semantic_consistency
from interactive_agents.evaluation._significance import TEST_KINDS, GroupSummary, TestKind, TTest
from interactive_agents.evaluation._stats import CorpusStats, corpus_stats
from interactive_agents.evaluation._topics import (
    DEFAULT_MAX_TOPICS,
    TopicRater,
    TopicResult,
    TopicSet,
    choose_language,
    compare_topics,
    entropy,
    load_topic_rater,
    load_topic_set,
    rate_topics,
)
from interactive_agents.evaluation._wai import (
    WaiJudge,
    WaiResult,
    compare_wai,
    load_wai_judge,
    score_wai,
)
from interactive_agents.evaluation._wai_reliability import AlphaLevel

__all__ = [
    "DEFAULT_MAX_TOPICS",
    "DEFAULT_MODEL",
    "DRAWS",
    "MULTILINGUAL_MODEL",
    "TEST_KINDS",
    "AlphaLevel",
    "ChunkedEmbedder",
    "ConsistencyResult",
    "CorpusStats",
    "Draw",
    "Embed",
    "Embedder",
    "GroupSummary",
    "JudgeOptions",
    "JudgedEvaluation",
    "JudgedRun",
    "PairedScore",
    "TTest",
    "TestKind",
    "TopicRater",
    "TopicResult",
    "TopicSet",
    "UniversalSentenceEncoder",
    "Vector",
    "WaiJudge",
    "WaiResult",
    "choose_language",
    "compare_topics",
    "compare_wai",
    "compare_with_cards",
    "corpus_language",
    "corpus_stats",
    "cosine",
    "default_model",
    "english_only",
    "entropy",
    "evaluate_topics",
    "evaluate_wai",
    "load_embedder",
    "load_topic_rater",
    "load_topic_set",
    "load_wai_judge",
    "overlap_rate",
    "rate_topics",
    "run_judged",
    "score_wai",
    "semantic_consistency",
    "vocabulary_overlap",
]
