"""LLM-free evaluation of dialogue corpora: statistics, vocabulary overlap, semantic consistency.

SPEC §6 and §7. Reports (JSON, Markdown, PNG) are in :mod:`.report` and :mod:`.plots`,
which are not re-exported so that the statistics do not import matplotlib.
"""

from __future__ import annotations

from .consistency import ConsistencyResult, GroupSummary, PairedScore, compare_with_cards
from .corpora import Corpus, Dialogue, Utterance, card_text, load_corpus
from .embedding import DEFAULT_MODEL, ChunkedEmbedder, load_embedder
from .overlap import overlap_rate, vocabulary_overlap
from .semantic import Embed, cosine, semantic_consistency
from .stats import CorpusStats, corpus_stats
from .vocabulary import detect_language, read_stopwords, vocabulary

__all__ = [
    "DEFAULT_MODEL",
    "ChunkedEmbedder",
    "ConsistencyResult",
    "Corpus",
    "CorpusStats",
    "Dialogue",
    "Embed",
    "GroupSummary",
    "PairedScore",
    "Utterance",
    "card_text",
    "compare_with_cards",
    "corpus_stats",
    "cosine",
    "detect_language",
    "load_corpus",
    "load_embedder",
    "overlap_rate",
    "read_stopwords",
    "semantic_consistency",
    "vocabulary",
    "vocabulary_overlap",
]
