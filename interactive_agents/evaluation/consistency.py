"""The mapping-versus-random design shared by overlap and semantic consistency (SPEC §7).

Each dialogue with a card is scored twice: against its own card (the mapping group) and
against one card drawn uniformly, with a seeded generator, from the corpus's *other*
distinct cards (the random group). Cards are told apart by their text, so dialogues
that share a card never draw it as "other". The two groups are summarised by mean and
sample standard deviation (``ddof=1``) and compared with a two-tailed Student's t-test
(``scipy.stats.ttest_ind``, equal variances), as the paper reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from scipy import stats

from interactive_agents.corpora.readers import Corpus
from interactive_agents.errors import InputError
from interactive_agents.evaluation.significance import GroupSummary, describe

Features = TypeVar("Features")


@dataclass(frozen=True, slots=True)
class PairedScore:
    """One dialogue's score against its own card and against the card it drew."""

    dialogue_id: str
    card_id: str | None
    random_card_from: str
    mapping: float
    random: float


@dataclass(frozen=True, slots=True)
class ConsistencyResult:
    """Mapping and random groups of one corpus under one metric, and their t-test.

    ``random_card_from`` names the first dialogue that owns the drawn card;
    ``without_card`` counts the dialogues left out because their card is unknown.
    """

    corpus: str
    metric: str
    method: str
    scores: tuple[PairedScore, ...]
    mapping: GroupSummary
    random: GroupSummary
    t_statistic: float
    p_value: float
    without_card: int


def draw_other(
    own: npt.NDArray[np.intp], n_cards: int, rng: np.random.Generator
) -> npt.NDArray[np.intp]:
    """For each own-card index, a uniform draw among the ``n_cards - 1`` other indices."""
    drawn = rng.integers(0, n_cards - 1, size=own.shape[0])
    return np.asarray(drawn + (drawn >= own), dtype=np.intp)


def compare_with_cards(
    corpus: Corpus,
    featurize: Callable[[list[str]], Sequence[Features]],
    similarity: Callable[[Features, Features], float],
    rng: np.random.Generator,
    *,
    metric: str,
    method: str,
) -> ConsistencyResult:
    """Score every dialogue's client text against its own card and a random other card.

    ``featurize`` turns texts into features once (word sets, embeddings), client texts
    in one call and distinct cards in another; ``similarity(client, card)`` scores a pair.
    """
    carded = [(d, text) for d in corpus.dialogues if (text := d.card_text) and text.strip()]
    cards: dict[str, int] = {}
    owners: list[str] = []
    for dialogue, text in carded:
        if text not in cards:
            cards[text] = len(cards)
            owners.append(dialogue.id)
    if len(cards) < 2:
        raise InputError(
            f"the random group needs at least two different role cards, found {len(cards)}",
            file=corpus.name,
        )
    own = np.array([cards[text] for _, text in carded], dtype=np.intp)
    other = draw_other(own, len(cards), rng)
    clients = featurize([d.client_text() for d, _ in carded])
    card_features = featurize(list(cards))
    scores = tuple(
        PairedScore(
            dialogue_id=d.id,
            card_id=d.card_id,
            random_card_from=owners[other[i]],
            mapping=similarity(clients[i], card_features[own[i]]),
            random=similarity(clients[i], card_features[other[i]]),
        )
        for i, (d, _) in enumerate(carded)
    )
    mapping = np.array([s.mapping for s in scores], dtype=np.float64)
    random = np.array([s.random for s in scores], dtype=np.float64)
    test = stats.ttest_ind(mapping, random)
    return ConsistencyResult(
        corpus=corpus.name,
        metric=metric,
        method=method,
        scores=scores,
        mapping=describe(mapping),
        random=describe(random),
        t_statistic=float(test.statistic),
        p_value=float(test.pvalue),
        without_card=len(corpus.dialogues) - len(carded),
    )
