"""Who rates which session: every session to ``overlap`` different annotators, with even loads.

Sessions are taken in a seeded random order; each goes to the ``overlap`` annotators
with the fewest sessions so far, ties broken first by how few sessions they already
share with those chosen for it (so the pairs of annotators vary, and human-human
agreement is not measured on one fixed pair only), then at random. Loads then differ by
at most one session. Each annotator works through their own sessions in an order of
their own, so no session is always rated first or last (order and fatigue effects).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from interactive_agents.errors import InputError


@dataclass(frozen=True, slots=True)
class Plan:
    """``raters[i]``: the annotators (indexes) of session ``i``; ``order[a]``: the
    sessions of annotator ``a`` in the order they will see them."""

    raters: tuple[tuple[int, ...], ...]
    order: tuple[tuple[int, ...], ...]


def plan_assignment(sessions: int, annotators: int, overlap: int, seed: int) -> Plan:
    """Assign ``sessions`` to ``annotators`` (counts), ``overlap`` annotators each."""
    if overlap < 2:
        raise InputError(
            "must be at least 2: agreement between people needs every session rated twice",
            field="overlap",
        )
    if annotators < overlap:
        raise InputError(f"needs at least {overlap} annotators (got {annotators})", field="overlap")
    rng = random.Random(seed)
    load = [0] * annotators
    shared: Counter[tuple[int, int]] = Counter()
    raters: list[tuple[int, ...]] = [()] * sessions
    for session in rng.sample(range(sessions), sessions):
        chosen: list[int] = []
        for _ in range(overlap):
            candidates = [a for a in range(annotators) if a not in chosen]
            chosen.append(
                min(
                    candidates,
                    key=lambda a: (
                        load[a],
                        sum(shared[(min(a, b), max(a, b))] for b in chosen),
                        rng.random(),
                    ),
                )
            )
        for a in chosen:
            load[a] += 1
        for i, a in enumerate(chosen):
            for b in chosen[i + 1 :]:
                shared[(min(a, b), max(a, b))] += 1
        raters[session] = tuple(sorted(chosen))
    order = tuple(_own_order(raters, a, rng) for a in range(annotators))
    return Plan(tuple(raters), order)


def _own_order(
    raters: Sequence[tuple[int, ...]], annotator: int, rng: random.Random
) -> tuple[int, ...]:
    mine = [session for session, chosen in enumerate(raters) if annotator in chosen]
    rng.shuffle(mine)
    return tuple(mine)
