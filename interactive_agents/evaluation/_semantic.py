"""Semantic consistency of a session and its role card (docs/method.md#semantic-consistency-eq-2).

sim(S, R) = cos(E(S), E(R)), with S the client's utterances joined by newlines, R the
card text and E any embedding function ``list[str] -> array (n_texts, dim)``. The
function is injected, so the statistics run on a real model
(:func:`.embedding.load_embedder`) or on a stub in tests. Mapping and random groups
and their t-test come from :mod:`.consistency`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from interactive_agents.corpora._readers import Corpus
from interactive_agents.evaluation._consistency import ConsistencyResult, Draw, compare_with_cards
from interactive_agents.evaluation._significance import TestKind

Vector = npt.NDArray[np.floating]
Embed = Callable[[list[str]], Vector]


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.dot(a, b)) / norms if norms else 0.0


def semantic_consistency(
    corpus: Corpus,
    embed: Embed,
    rng: np.random.Generator,
    *,
    method: str,
    test: TestKind = "student",
    draw: Draw = "independent",
) -> ConsistencyResult:
    """Eq. 2 for the mapping and random groups; ``method`` names the model.

    ``test`` and ``draw`` choose the t-test and the random cards (see :mod:`.consistency`).
    """
    return compare_with_cards(
        corpus,
        lambda texts: list(embed(texts)),
        cosine,
        rng,
        metric="semantic",
        method=method,
        test=test,
        draw=draw,
    )
