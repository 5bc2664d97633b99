"""Evaluation of dialogue corpora (docs/method.md#evaluation, docs/evaluation.md).

Without an LLM: dataset statistics, vocabulary overlap, semantic consistency, quality
flags. With an LLM judge: client diversity by topic entropy, the counselor's working
alliance by WAI-O-S and the counselor's safety reply by reply, on the judge runner of
:mod:`interactive_agents.judging`.

Each evaluation is one call (``evaluate_stats``, ``evaluate_overlap``,
``evaluate_semantic``, ``evaluate_quality``, and the async ``evaluate_topics``,
``evaluate_wai`` and ``evaluate_safety``) on corpora (paths or
:class:`~interactive_agents.corpora.Corpus`) under an :class:`EvaluationConfig`
(``build_config(recipe, overrides, kind=EvaluationConfig)``): it writes the report into
a folder and returns an :class:`Evaluation` holding the results per corpus, the summary
table and the report's content.
"""

from __future__ import annotations

from interactive_agents.evaluation._config import (
    LANGUAGE_CHOICES,
    CardComparisonConfig,
    EvaluationConfig,
    LanguageChoice,
    OverlapConfig,
    QualityFlagsConfig,
    SafetyConfig,
    SemanticConfig,
    TopicsConfig,
    WaiConfig,
)
from interactive_agents.evaluation._consistency import (
    DRAWS,
    ConsistencyResult,
    Draw,
    PairedScore,
    compare_with_cards,
)
from interactive_agents.evaluation._corpus_inputs import CorpusSource, load_corpora
from interactive_agents.evaluation._embedding import (
    DEFAULT_MODEL,
    MULTILINGUAL_MODEL,
    ChunkedEmbedder,
    Embedder,
    UniversalSentenceEncoder,
    choose_embedding_model,
    default_model,
    english_only,
    load_embedder,
)
from interactive_agents.evaluation._evaluations import (
    ConsistencyEvaluation,
    Evaluation,
    QualityEvaluation,
    ReportTable,
    StatsEvaluation,
)
from interactive_agents.evaluation._judged_runs import (
    JudgedEvaluation,
    JudgedRun,
    JudgeMonitor,
    TopicsEvaluation,
    WaiEvaluation,
    evaluate_topics,
    evaluate_wai,
    run_judged,
)
from interactive_agents.evaluation._local_runs import (
    evaluate_overlap,
    evaluate_quality,
    evaluate_semantic,
    evaluate_stats,
)
from interactive_agents.evaluation._overlap import corpus_language, overlap_rate, vocabulary_overlap
from interactive_agents.evaluation._quality_report import CorpusQuality
from interactive_agents.evaluation._risk_accuracy import (
    DetectorScore,
    LabelledText,
    score_risk_detector,
)
from interactive_agents.evaluation._safety import (
    RatedReply,
    SafetyRater,
    SafetyResult,
    SessionSafety,
    ShareEstimate,
    rate_safety,
)
from interactive_agents.evaluation._safety_run import SafetyEvaluation, evaluate_safety
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
from interactive_agents.evaluation._wai_reliability import ALPHA_LEVELS, AlphaLevel

__all__ = [
    "ALPHA_LEVELS",
    "DEFAULT_MAX_TOPICS",
    "DEFAULT_MODEL",
    "DRAWS",
    "LANGUAGE_CHOICES",
    "MULTILINGUAL_MODEL",
    "TEST_KINDS",
    "AlphaLevel",
    "CardComparisonConfig",
    "ChunkedEmbedder",
    "ConsistencyEvaluation",
    "ConsistencyResult",
    "CorpusQuality",
    "CorpusSource",
    "CorpusStats",
    "DetectorScore",
    "Draw",
    "Embed",
    "Embedder",
    "Evaluation",
    "EvaluationConfig",
    "GroupSummary",
    "JudgeMonitor",
    "JudgedEvaluation",
    "JudgedRun",
    "LabelledText",
    "LanguageChoice",
    "OverlapConfig",
    "PairedScore",
    "QualityEvaluation",
    "QualityFlagsConfig",
    "RatedReply",
    "ReportTable",
    "SafetyConfig",
    "SafetyEvaluation",
    "SafetyRater",
    "SafetyResult",
    "SemanticConfig",
    "SessionSafety",
    "ShareEstimate",
    "StatsEvaluation",
    "TTest",
    "TestKind",
    "TopicRater",
    "TopicResult",
    "TopicSet",
    "TopicsConfig",
    "TopicsEvaluation",
    "UniversalSentenceEncoder",
    "Vector",
    "WaiConfig",
    "WaiEvaluation",
    "WaiJudge",
    "WaiResult",
    "choose_embedding_model",
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
    "evaluate_overlap",
    "evaluate_quality",
    "evaluate_safety",
    "evaluate_semantic",
    "evaluate_stats",
    "evaluate_topics",
    "evaluate_wai",
    "load_corpora",
    "load_embedder",
    "load_topic_rater",
    "load_topic_set",
    "load_wai_judge",
    "overlap_rate",
    "rate_safety",
    "rate_topics",
    "run_judged",
    "score_risk_detector",
    "score_wai",
    "semantic_consistency",
    "vocabulary_overlap",
]
