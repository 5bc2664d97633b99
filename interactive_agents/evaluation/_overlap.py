"""Vocabulary overlap rate of a session and its role card (docs/method.md#vocabulary-overlap-eq-1).

rate(S, R) = |V(S) ∩ V(R)| / |V(R)|, with S the client's utterances joined by newlines,
R the card text and V the word set of :mod:`interactive_agents.corpora._vocabulary`.
A card with an empty vocabulary shares no words: its rate is 0. Mapping and random
groups and their t-test come from :mod:`.consistency`.
"""

from __future__ import annotations

from functools import partial
from typing import Literal

import numpy as np

from interactive_agents.corpora._readers import Corpus
from interactive_agents.corpora._vocabulary import Language, detect_language, vocabulary
from interactive_agents.evaluation._consistency import ConsistencyResult, Draw, compare_with_cards
from interactive_agents.evaluation._significance import TestKind


def overlap_rate(client: frozenset[str], card: frozenset[str]) -> float:
    """Share of the card's words that the client used."""
    return len(client & card) / len(card) if card else 0.0


def corpus_language(corpus: Corpus) -> Language:
    """The ``auto`` choice for a corpus, from its client texts and cards."""
    texts = [d.client_text() for d in corpus.dialogues]
    texts += [d.card_text for d in corpus.dialogues if d.card_text]
    return detect_language(texts)


def vocabulary_overlap(
    corpus: Corpus,
    rng: np.random.Generator,
    *,
    language: Language | Literal["auto"] = "auto",
    stopwords: frozenset[str] = frozenset(),
    test: TestKind = "student",
    draw: Draw = "independent",
) -> ConsistencyResult:
    """Eq. 1 for the mapping and random groups of one corpus (test, draw: see consistency)."""
    chosen = corpus_language(corpus) if language == "auto" else language
    words = partial(vocabulary, language=chosen, stopwords=stopwords)
    method = ("jieba (zh)" if chosen == "zh" else "regex (en)") + (
        f" - {len(stopwords)} stop words" if stopwords else ""
    )
    return compare_with_cards(
        corpus,
        lambda texts: [words(text) for text in texts],
        overlap_rate,
        rng,
        metric="overlap",
        method=method,
        test=test,
        draw=draw,
    )
