"""Dataset statistics of a corpus, as in Table 1 of the paper (docs/method.md).

The reference's conventions: a turn is one client utterance plus one counselor reply,
so a dialogue's turns are its utterances / 2 (an unanswered last utterance counts as
half a turn); lengths are characters (Python ``len``), averaged over all utterances of
a party in the corpus. Averages of an empty corpus or party are NaN (``null`` in JSON).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from interactive_agents.corpora._readers import Corpus, Dialogue
from interactive_agents.method._records import Role


@dataclass(frozen=True, slots=True)
class CorpusStats:
    """One column of Table 1."""

    name: str
    conversations: int
    avg_turns: float
    min_turns: float
    max_turns: float
    client_utterances: int
    counselor_utterances: int
    avg_client_length: float
    avg_counselor_length: float


def dialogue_turns(dialogue: Dialogue) -> float:
    """Utterances / 2, the reference's turn count."""
    return len(dialogue.turns) / 2


def corpus_stats(corpus: Corpus) -> CorpusStats:
    """Table 1's figures for one corpus."""
    turns = np.array([dialogue_turns(d) for d in corpus.dialogues], dtype=np.float64)
    client = _lengths(corpus, "client")
    counselor = _lengths(corpus, "counselor")
    return CorpusStats(
        name=corpus.name,
        conversations=len(corpus.dialogues),
        avg_turns=_reduce(np.mean, turns),
        min_turns=_reduce(np.min, turns),
        max_turns=_reduce(np.max, turns),
        client_utterances=int(client.size),
        counselor_utterances=int(counselor.size),
        avg_client_length=_reduce(np.mean, client),
        avg_counselor_length=_reduce(np.mean, counselor),
    )


def _lengths(corpus: Corpus, role: Role) -> npt.NDArray[np.int64]:
    """Characters of every utterance of one party."""
    return np.array(
        [len(u.content) for d in corpus.dialogues for u in d.turns if u.role == role],
        dtype=np.int64,
    )


def _reduce(function: Callable[[npt.NDArray[Any]], Any], values: npt.NDArray[Any]) -> float:
    """``function(values)`` as a float, NaN for no values."""
    return float(function(values)) if values.size else math.nan
