"""Which bots meet in which dialogue: a seeded random pair per card, or every pair.

``random`` (the paper's design) plays one dialogue per card between two bots drawn at
random, reproducibly from the run seed and the card. ``all-pairs`` plays every pair of
bots ``per_pair`` times, walking through the cards in order so that the pairs see the
same spread of clients. Dialogue ids are stable, which is what makes a run resumable.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Literal, get_args

from interactive_agents.arena._bots import Bot
from interactive_agents.arena._competition import Match
from interactive_agents.errors import ConfigError
from interactive_agents.method._cards import RoleCard
from interactive_agents.method._seeds import derive_seed

Pairing = Literal["random", "all-pairs"]
PAIRINGS: tuple[str, ...] = get_args(Pairing)


def plan_matches(
    cards: Sequence[RoleCard],
    bots: Sequence[Bot],
    *,
    pairing: Pairing,
    seed: int,
    per_pair: int = 1,
) -> list[Match]:
    """The dialogues of a run, in a stable order."""
    if len(bots) < 2:
        raise ConfigError("the arena needs at least two bots", field="bots")
    if not cards:
        raise ConfigError("no role cards to play", field="cards")
    if pairing == "random":
        matches = []
        for card in cards:
            a, b = random.Random(derive_seed(seed, "pair", card.id)).sample(list(bots), 2)
            matches.append(Match(card.id, card, a, b))
        return matches
    if per_pair < 1:
        raise ConfigError("must be at least 1", field="per_pair")
    rounds = itertools.product(itertools.combinations(bots, 2), range(per_pair))
    return [
        Match(f"{card.id}~{a.name}~{b.name}~{k}", card, a, b)
        for ((a, b), k), card in zip(rounds, itertools.cycle(cards), strict=False)
    ]
