"""The mapping-versus-random design shared by overlap and semantic consistency (docs/method.md).

Each dialogue with a card is scored twice: against its own card (the mapping group) and
against another card (the random group), chosen with a seeded generator in one of two
ways (the paper does not say which):

* ``draw="independent"`` (default): each dialogue draws uniformly from the corpus's
  *other* distinct cards, independently, so a card may be drawn many times or never.
* ``draw="permutation"``: the dialogues' cards are shuffled among the dialogues so that
  no dialogue gets a card with its own text; every dialogue's card is used exactly once.

Cards are told apart by their text, so dialogues that share a card never get it as
"other". The two groups are summarised by mean and sample standard deviation
(``ddof=1``) and compared with a two-tailed t-test: Student's (``test="student"``,
default, as the paper reports) or paired (``test="paired"``: the two groups are the same
sessions, so the paired test is the sharper one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

from interactive_agents.corpora._readers import Corpus
from interactive_agents.errors import InputError
from interactive_agents.evaluation._significance import (
    GroupSummary,
    TestKind,
    describe,
    sample_note,
    t_test,
)

Features = TypeVar("Features")
Draw = Literal["independent", "permutation"]
DRAWS: tuple[Draw, ...] = ("independent", "permutation")
_PERMUTATION_TRIES = 1000


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
    ``without_card`` counts the dialogues left out because their card is unknown;
    ``test`` and ``draw`` say how the groups were compared and the random cards chosen;
    ``sample`` whether the groups are big enough for that test (:func:`.sample_note`).
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
    test: TestKind = "student"
    draw: Draw = "independent"
    sample: str = ""


def draw_other(
    own: npt.NDArray[np.intp], n_cards: int, rng: np.random.Generator
) -> npt.NDArray[np.intp]:
    """For each own-card index, a uniform draw among the ``n_cards - 1`` other indices."""
    drawn = rng.integers(0, n_cards - 1, size=own.shape[0])
    return np.asarray(drawn + (drawn >= own), dtype=np.intp)


def permute_others(own: npt.NDArray[np.intp], rng: np.random.Generator) -> npt.NDArray[np.intp]:
    """The dialogues' own-card indices shuffled so that none keeps a card of its own text.

    Rejection sampling of uniform permutations (about 1 in e is accepted when the cards
    are distinct); an input error when one card is held by more than half the dialogues,
    since then no such shuffle exists.
    """
    if np.bincount(own).max() * 2 > own.shape[0]:
        raise InputError(
            "a permutation of the random group is impossible: one role card belongs to "
            "more than half of the dialogues (use --draw independent)"
        )
    for _ in range(_PERMUTATION_TRIES):
        shuffled = own[rng.permutation(own.shape[0])]
        if not np.any(shuffled == own):
            return np.asarray(shuffled, dtype=np.intp)
    raise InputError("no permutation of the random group found; use --draw independent")


def compare_with_cards(
    corpus: Corpus,
    featurize: Callable[[list[str]], Sequence[Features]],
    similarity: Callable[[Features, Features], float],
    rng: np.random.Generator,
    *,
    metric: str,
    method: str,
    test: TestKind = "student",
    draw: Draw = "independent",
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
    other = permute_others(own, rng) if draw == "permutation" else draw_other(own, len(cards), rng)
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
    t_statistic, p_value = t_test(mapping, random, test)
    return ConsistencyResult(
        corpus=corpus.name,
        metric=metric,
        method=method,
        scores=scores,
        mapping=describe(mapping),
        random=describe(random),
        t_statistic=t_statistic,
        p_value=p_value,
        without_card=len(corpus.dialogues) - len(carded),
        test=test,
        draw=draw,
        sample=sample_note(len(scores), len(scores), test),
    )
