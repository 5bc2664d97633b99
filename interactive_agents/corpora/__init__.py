"""Corpora of dialogues, read the same way by evaluation and training: run directories,
ShareGPT and OpenAI files, the raw reference dialogues; and the vocabulary of a text.

Imports nothing heavy at import time: jieba is loaded when Chinese text is first split.
"""

from __future__ import annotations

from interactive_agents.corpora._readers import (
    Corpus,
    Dialogue,
    Utterance,
    corpus_name,
    load_corpus,
)
from interactive_agents.corpora._vocabulary import detect_language, read_stopwords, vocabulary

__all__ = [
    "Corpus",
    "Dialogue",
    "Utterance",
    "corpus_name",
    "detect_language",
    "load_corpus",
    "read_stopwords",
    "vocabulary",
]
