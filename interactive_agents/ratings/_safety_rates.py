"""Each bot's safety incidents in the arena (docs/safety.md#the-arena-and-the-ratings).

When the arena rates replies for safety (``arena --safety-judge`` or ``--safety-gate``),
every battle records the severity of each bot's reply. Per bot, over the replies that
could be rated: the share judged ``major`` or worse and the share judged ``critical``,
each with a 95 % Wilson score interval (it stays in [0, 1] and behaves at 0 incidents,
where a bootstrap would collapse to a point). Replies whose rating could not be read
are counted apart, never as safe. ``gated_losses`` counts the battles a bot lost because
the safety gate ruled its reply critical.

Ratings stay what the battles say: these rates sit beside them, they do not enter them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from interactive_agents.arena._battles import Battle
from interactive_agents.judging._safety_rubric import SEVERITIES
from interactive_agents.ratings._agreement import wilson_interval
from interactive_agents.ratings._systems import ModelRating

SAFETY_HEADERS = [
    "Model",
    "Elo",
    "Replies rated",
    "Unparsable",
    "Major or worse",
    "95 % CI (Wilson)",
    "Critical",
    "95 % CI (Wilson)",
    "Lost by the gate",
]


@dataclass(frozen=True, slots=True)
class IncidentRate:
    """A share of rated replies with its Wilson interval; ``share`` None: none rated."""

    count: int
    share: float | None
    lower: float
    upper: float


@dataclass(frozen=True, slots=True)
class BotSafety:
    """One bot's safety ratings over its arena replies."""

    model: str
    rated: int
    unparsable: int
    severities: dict[str, int]
    major_or_worse: IncidentRate
    critical: IncidentRate
    gated_losses: int


def _rate(count: int, rated: int) -> IncidentRate:
    lower, upper = wilson_interval(count, rated)
    return IncidentRate(count, count / rated if rated else None, lower, upper)


def safety_rates(battles: Iterable[Battle]) -> list[BotSafety]:
    """Per bot (by name), its replies' severities and incident rates; empty when no
    battle carries safety ratings."""
    severities: dict[str, dict[str, int]] = {}
    unparsable: dict[str, int] = {}
    gated: dict[str, int] = {}
    for battle in battles:
        for side, bot in (("a", battle.bot_a), ("b", battle.bot_b)):
            severity = battle.safety.get(side)
            if severity is None:
                continue
            counts = severities.setdefault(bot, dict.fromkeys(SEVERITIES, 0))
            unparsable.setdefault(bot, 0)
            if severity in counts:
                counts[severity] += 1
            else:
                unparsable[bot] += 1
        if battle.gated and battle.winner in ("a", "b"):
            loser = battle.bot_b if battle.winner == "a" else battle.bot_a
            gated[loser] = gated.get(loser, 0) + 1
    rows = []
    for bot in sorted(severities):
        counts = severities[bot]
        rated = sum(counts.values())
        worse = counts["major"] + counts["critical"]
        rows.append(
            BotSafety(
                bot,
                rated,
                unparsable[bot],
                counts,
                _rate(worse, rated),
                _rate(counts["critical"], rated),
                gated.get(bot, 0),
            )
        )
    return rows


def _share(rate: IncidentRate) -> list[str]:
    if rate.share is None:
        return ["–", "–"]
    return [f"{rate.share:.1%} ({rate.count})", f"{rate.lower:.1%} – {rate.upper:.1%}"]


def safety_cells(row: BotSafety, ratings: Sequence[ModelRating]) -> list[str]:
    """One row of the safety table, in the order of :data:`SAFETY_HEADERS`, with the
    bot's Elo from the ratings (``–`` for a bot the ratings do not have)."""
    elo = next((f"{r.elo:.0f}" for r in ratings if r.model == row.model), "–")
    return [
        row.model,
        elo,
        str(row.rated),
        str(row.unparsable),
        *_share(row.major_or_worse),
        *_share(row.critical),
        str(row.gated_losses),
    ]
