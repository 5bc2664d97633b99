"""Evaluation of dialogue corpora (docs/method.md#evaluation).

Without an LLM: statistics, vocabulary overlap, semantic consistency. With an LLM
judge: client diversity by topic entropy (:mod:`.topics`) and the counselor's working
alliance by WAI-O-S (:mod:`.wai`), both on the judge-call runner and answer cache of
:mod:`.judging`, run end to end (judge, embedded fallback, cache, counters) by
:mod:`.judged_runs`. Reports (JSON, Markdown, PNG) are in :mod:`.report` and :mod:`.plots`,
which are not re-exported so that the statistics do not import matplotlib.
"""

from __future__ import annotations

from interactive_agents.corpora._readers import Corpus, Dialogue, Utterance, load_corpus
from interactive_agents.corpora._vocabulary import detect_language, read_stopwords, vocabulary
from interactive_agents.evaluation._consistency import (
    ConsistencyResult,
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
from interactive_agents.evaluation._overlap import overlap_rate, vocabulary_overlap
from interactive_agents.evaluation._semantic import Embed, cosine, semantic_consistency
from interactive_agents.evaluation._significance import GroupSummary, TTest
from interactive_agents.evaluation._stats import CorpusStats, corpus_stats
from interactive_agents.evaluation._topics import (
    TopicRater,
    TopicResult,
    TopicSet,
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
from interactive_agents.judging._judgements import (
    JudgeCache,
    JudgeFailure,
    Judgement,
    JudgeProgress,
    JudgeRequest,
    JudgeSettings,
    judge_endpoint,
    open_judge,
    run_judgements,
)
from interactive_agents.method._card_text import card_text

__all__ = [
    "DEFAULT_MODEL",
    "MULTILINGUAL_MODEL",
    "ChunkedEmbedder",
    "ConsistencyResult",
    "Corpus",
    "CorpusStats",
    "Dialogue",
    "Embed",
    "Embedder",
    "GroupSummary",
    "JudgeCache",
    "JudgeFailure",
    "JudgeOptions",
    "JudgeProgress",
    "JudgeRequest",
    "JudgeSettings",
    "JudgedEvaluation",
    "JudgedRun",
    "Judgement",
    "PairedScore",
    "TTest",
    "TopicRater",
    "TopicResult",
    "TopicSet",
    "UniversalSentenceEncoder",
    "Utterance",
    "WaiJudge",
    "WaiResult",
    "card_text",
    "compare_topics",
    "compare_wai",
    "compare_with_cards",
    "corpus_stats",
    "cosine",
    "default_model",
    "detect_language",
    "english_only",
    "entropy",
    "evaluate_topics",
    "evaluate_wai",
    "judge_endpoint",
    "load_corpus",
    "load_embedder",
    "load_topic_rater",
    "load_topic_set",
    "load_wai_judge",
    "open_judge",
    "overlap_rate",
    "rate_topics",
    "read_stopwords",
    "run_judged",
    "run_judgements",
    "score_wai",
    "semantic_consistency",
    "vocabulary",
    "vocabulary_overlap",
]
