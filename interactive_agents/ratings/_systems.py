"""Arena ratings from battles, following the chatbot-arena conventions (FastChat).

* Online Elo: K = 4, scale 400, base 10, initial 1000, battles in time order, a tie
  scores 0.5. Because online Elo depends on the order, :func:`shuffled_elo` also
  averages it over seeded permutations of the battles.
* Bradley-Terry by maximum likelihood: P(a beats b) = 1 / (1 + base^(-(R_a - R_b)/scale)),
  i.e. logit = ln(base)·(r_a - r_b) on the internal scale r, reported as
  R = scale·r + initial after anchoring (mean at ``initial``, or one model at ``initial``).
  A tie counts as half a win and half a loss. Fitted by Newton iterations in numpy,
  all bootstrap rounds at once.
* Bootstrap: battles resampled with replacement (seeded), 95 % interval from the 2.5 %
  and 97.5 % quantiles; rank = 1 + number of models whose lower bound is above this
  model's upper bound.

Every function is pure: randomness only comes from the ``numpy.random.Generator`` passed
in. Unparsable battles never enter a rating; :class:`Matchups` counts them.

What :func:`rate` will not report (docs/ratings.md#when-the-battles-are-too-few):

* an interval whose bootstrap is degenerate (every resample gave the same rating, e.g.
  from one battle): it is None, never a zero-width interval;
* Bradley-Terry ratings (and so ranks) when the maximum likelihood has no finite
  solution without a penalty (a bot that never lost or never won, or groups of bots
  that never beat each other): None with the reason, unless ``l2 > 0``;
* a ranking as sufficient when a bot has fewer than :data:`MIN_BATTLES_PER_BOT`
  readable battles, or a pair that met has fewer than :data:`MIN_BATTLES_PER_PAIR`:
  the rows are marked and the report carries a warning per shortfall;
* anything, when no battle is usable: the report is empty and says why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from interactive_agents.arena._battles import Battle
from interactive_agents.errors import ConfigError
from interactive_agents.ratings._dialogue_tables import DialogueTables, dialogue_tables

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

MIN_BATTLES_PER_BOT = 20
"""Readable battles a bot needs before its rank counts. With n battles the 95 % interval
of a win rate near one half spans about ±0.98/sqrt(n): ±0.22 at 20 battles, already
about ±160 Elo points; below that a rank says more about luck than about the bot."""
MIN_BATTLES_PER_PAIR = 5
"""Readable battles two bots that met need before their head-to-head counts: with fewer,
one battle moves their win fraction by more than 0.2."""
_DEGENERATE = 1e-9  # an interval narrower than this came from identical resamples


@dataclass(frozen=True, slots=True, eq=False)
class Matchups:
    """Usable battles as index arrays in time order; ``score`` is bot a's result."""

    models: tuple[str, ...]
    a: IntArray
    b: IntArray
    score: FloatArray
    excluded: int = 0

    def __len__(self) -> int:
        return len(self.score)


_SCORES = {"a": 1.0, "b": 0.0, "tie": 0.5}


def matchups(battles: Iterable[Battle]) -> Matchups:
    """Encode battles for the statistics: unparsable ones dropped, stable sort by time."""
    usable: list[Battle] = []
    excluded = 0
    for battle in battles:
        if battle.usable:
            usable.append(battle)
        else:
            excluded += 1
    usable.sort(key=lambda battle: battle.timestamp)
    models = tuple(sorted({b.bot_a for b in usable} | {b.bot_b for b in usable}))
    index = {model: i for i, model in enumerate(models)}
    return Matchups(
        models=models,
        a=np.array([index[b.bot_a] for b in usable], dtype=np.int64),
        b=np.array([index[b.bot_b] for b in usable], dtype=np.int64),
        score=np.array([_SCORES[b.winner] for b in usable], dtype=np.float64),
        excluded=excluded,
    )


# --- Online Elo ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EloConfig:
    """The chatbot-arena Elo constants."""

    k: float = 4.0
    scale: float = 400.0
    base: float = 10.0
    initial: float = 1000.0


def _elo_runs(m: Matchups, order: IntArray, config: EloConfig) -> FloatArray:
    """Run online Elo once per row of ``order`` (battle indices), all rows in lockstep.

    Vectorising over runs keeps shuffles and bootstrap rounds to one Python loop over
    the battle positions instead of one per run.
    """
    runs = order.shape[0]
    ratings = np.full((runs, len(m.models)), config.initial, dtype=np.float64)
    rows = np.arange(runs)
    for step in range(order.shape[1]):
        pick = order[:, step]
        a, b = m.a[pick], m.b[pick]
        gap = (ratings[rows, b] - ratings[rows, a]) / config.scale
        expected_a = 1.0 / (1.0 + np.power(config.base, gap))
        delta = config.k * (m.score[pick] - expected_a)
        ratings[rows, a] += delta
        ratings[rows, b] -= delta
    return ratings


def online_elo(m: Matchups, config: EloConfig = EloConfig()) -> FloatArray:
    """Elo ratings after the battles in time order, aligned with ``m.models``."""
    ratings: FloatArray = _elo_runs(m, np.arange(len(m), dtype=np.int64)[np.newaxis, :], config)[0]
    return ratings


def shuffled_elo(
    m: Matchups, rng: np.random.Generator, runs: int = 100, config: EloConfig = EloConfig()
) -> FloatArray:
    """Mean Elo over ``runs`` random orders of the battles: removes the order effect."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    order = rng.permuted(np.tile(np.arange(len(m), dtype=np.int64), (runs, 1)), axis=1)
    mean: FloatArray = _elo_runs(m, order, config).mean(axis=0)
    return mean


def bootstrap_elo(
    m: Matchups, rng: np.random.Generator, rounds: int = 1000, config: EloConfig = EloConfig()
) -> FloatArray:
    """Elo of ``rounds`` resamples of the battles (with replacement, in sampled order)."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    order = rng.integers(0, len(m), size=(rounds, len(m)), dtype=np.int64)
    return _elo_runs(m, order, config)


# --- Bradley-Terry -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BTConfig:
    """Bradley-Terry scale, anchor and an optional L2 penalty ``l2·Σ r²`` on the internal r.

    The penalty (a Gaussian prior) keeps ratings finite for a bot that never lost and
    ties together groups of bots that never met; 0 is the plain maximum likelihood.
    """

    scale: float = 400.0
    base: float = 10.0
    initial: float = 1000.0
    l2: float = 0.0
    anchor: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class _Outcomes:
    """Distinct (a, b, score) rows with their counts: the likelihood only needs these."""

    a: IntArray
    b: IntArray
    score: FloatArray
    counts: IntArray


def _outcomes(m: Matchups) -> _Outcomes:
    n = len(m.models)
    keys = (m.a * n + m.b) * 3 + np.rint(m.score * 2).astype(np.int64)
    unique, counts = np.unique(keys, return_counts=True)
    return _Outcomes(a=unique // 3 // n, b=unique // 3 % n, score=(unique % 3) / 2.0, counts=counts)


def _scatter(values: FloatArray, index: IntArray, size: int) -> FloatArray:
    """Sum each row's ``values`` into ``size`` bins by ``index``: one bincount for all rows."""
    rows = values.shape[0]
    flat = (np.arange(rows)[:, np.newaxis] * size + index).ravel()
    summed = np.bincount(flat, weights=values.ravel(), minlength=rows * size)
    return np.asarray(summed, dtype=np.float64).reshape(rows, size)


_GRADIENT_TOL = 1e-9  # per unit of battle weight
_MAX_ITERATIONS = 100
_MAX_STEP = 1.0  # internal units (one ``scale``): damps the first steps of far-off fits


def _fit_bt(o: _Outcomes, weights: FloatArray, n: int, config: BTConfig) -> FloatArray:
    """Maximise the BT likelihood by Newton iterations, one fit per row of ``weights``.

    All bootstrap rounds are solved together with batched n×n systems, which is far
    cheaper than one optimiser call per round. A tiny ridge keeps the Hessian invertible
    along directions the data leave free (the common shift, bots that never met).
    """
    alpha = math.log(config.base)
    rounds = weights.shape[0]
    total = weights.sum(axis=1, keepdims=True)
    ridge = (1e-12 * total[:, :, np.newaxis] + 2 * config.l2) * np.eye(n)
    pair_index = np.concatenate([o.a * (n + 1), o.b * (n + 1), o.a * n + o.b, o.b * n + o.a])
    r = np.zeros((rounds, n))
    for _ in range(_MAX_ITERATIONS):
        p = expit(alpha * (r[:, o.a] - r[:, o.b]))
        slope = weights * alpha * (p - o.score)
        grad = _scatter(np.hstack([slope, -slope]), np.concatenate([o.a, o.b]), n)
        grad += 2 * config.l2 * r
        if np.all(np.abs(grad) <= _GRADIENT_TOL * total):
            break
        curve = weights * alpha**2 * p * (1 - p)
        hessian = _scatter(np.hstack([curve, curve, -curve, -curve]), pair_index, n * n)
        step = np.linalg.solve(hessian.reshape(rounds, n, n) + ridge, -grad[..., np.newaxis])
        step = step[..., 0]
        r += step / np.maximum(1.0, np.abs(step).max(axis=1, keepdims=True) / _MAX_STEP)
    return r


def _bt_scale(r: FloatArray, models: tuple[str, ...], config: BTConfig) -> FloatArray:
    """Anchor (BT ratings are only defined up to a shift) and map to the Elo scale."""
    if config.anchor is None:
        reference = r.mean(axis=-1, keepdims=True)
    elif config.anchor in models:
        reference = r[..., models.index(config.anchor), np.newaxis]
    else:
        raise ConfigError(f"{config.anchor!r} is not among the rated bots", field="anchor")
    scaled: FloatArray = config.scale * (r - reference) + config.initial
    return scaled


def bradley_terry(m: Matchups, config: BTConfig = BTConfig()) -> FloatArray:
    """Bradley-Terry ratings by maximum likelihood, aligned with ``m.models``."""
    o = _outcomes(m)
    r = _fit_bt(o, o.counts[np.newaxis, :].astype(np.float64), len(m.models), config)
    return _bt_scale(r[0], m.models, config)


def bootstrap_bt(
    m: Matchups, rng: np.random.Generator, rounds: int = 1000, config: BTConfig = BTConfig()
) -> FloatArray:
    """BT ratings of ``rounds`` resamples of the battles, shape (rounds, models).

    Resampling battles with replacement is the same as drawing multinomial counts over
    the distinct outcomes, which is much cheaper to fit.
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    o = _outcomes(m)
    draws = rng.multinomial(len(m), o.counts / len(m), size=rounds).astype(np.float64)
    return _bt_scale(_fit_bt(o, draws, len(m.models), config), m.models, config)


def unrateable(m: Matchups) -> str | None:
    """Why Bradley-Terry has no finite maximum likelihood on these battles, or None.

    It has one exactly when every bot can be reached from every other through "scored
    against" (a win or a tie) in both directions (Zermelo; Ford 1957): a bot that never
    lost, or a group that never lost to the rest, would rate infinitely high.
    """
    n = len(m.models)
    scored = np.zeros((n, n), dtype=bool)
    scored[m.a[m.score > 0], m.b[m.score > 0]] = True
    scored[m.b[m.score < 1], m.a[m.score < 1]] = True
    reach = scored | np.eye(n, dtype=bool)
    for _ in range(n):
        reach = reach | ((reach.astype(np.int64) @ reach.astype(np.int64)) > 0)
    if reach.all():
        return None
    never_lost = [m.models[i] for i in range(n) if not scored[:, i].any()]
    never_won = [m.models[i] for i in range(n) if not scored[i, :].any()]
    if never_lost or never_won:
        parts = [f"{', '.join(never_lost)} never lost"] if never_lost else []
        parts += [f"{', '.join(never_won)} never won"] if never_won else []
        return "; ".join(parts)
    return "some bots never scored against the others (groups that never beat each other)"


# --- Intervals and ranks -------------------------------------------------------------


def interval(samples: FloatArray, level: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Percentile interval per model from bootstrap samples (rows are rounds)."""
    tail = (1.0 - level) / 2.0
    lower, upper = np.quantile(samples, [tail, 1.0 - tail], axis=0)
    return lower, upper


def degenerate(lower: FloatArray, upper: FloatArray) -> NDArray[np.bool_]:
    """Intervals with no width: every bootstrap resample gave the same rating."""
    return np.asarray(upper - lower < _DEGENERATE)


def ranks(lower: FloatArray, upper: FloatArray) -> IntArray:
    """1 + the number of models whose lower bound is above this model's upper bound."""
    better = lower[np.newaxis, :] > upper[:, np.newaxis]
    result: IntArray = 1 + better.sum(axis=1).astype(np.int64)
    return result


# --- Tables --------------------------------------------------------------------------


def battle_counts(m: Matchups) -> IntArray:
    """Symmetric matrix of battles per pair of models (Figure 14 counts dialogues instead)."""
    n = len(m.models)
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (m.a, m.b), 1)
    symmetric: IntArray = counts + counts.T
    return symmetric


def win_fractions(m: Matchups) -> FloatArray:
    """Row model's score against column model (ties 0.5); NaN for pairs that never met."""
    n = len(m.models)
    wins = np.zeros((n, n), dtype=np.float64)
    np.add.at(wins, (m.a, m.b), m.score)
    np.add.at(wins, (m.b, m.a), 1.0 - m.score)
    counts = battle_counts(m)
    fractions: FloatArray = np.divide(wins, counts, out=np.full((n, n), np.nan), where=counts > 0)
    return fractions


def battle_upvotes(m: Matchups) -> tuple[IntArray, IntArray]:
    """Battles each model won, and battles it took part in (Table 4 counts dialogues).

    A tie chooses neither bot, so it adds a battle and no win.
    """
    n = len(m.models)
    chosen = np.concatenate([m.a[m.score == 1.0], m.b[m.score == 0.0]])
    occurrences = np.bincount(m.a, minlength=n) + np.bincount(m.b, minlength=n)
    return np.bincount(chosen, minlength=n).astype(np.int64), occurrences.astype(np.int64)


# --- One call for the whole table ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModelRating:
    """One row of the leaderboard; ``rank`` comes from the BT intervals.

    ``upvotes``, ``occurrences`` (dialogues) and ``average_upvotes`` (per dialogue) are
    the paper's Table 4 (:mod:`.dialogue_tables`); ``battles``, ``battle_upvotes`` and
    ``battle_upvote_rate`` are the same counted per battle record. A figure the battles
    cannot give is None (no finite BT fit, a degenerate bootstrap); ``sufficient`` is
    False when the bot has too few battles for its rank to count, ``notes`` say why.
    """

    model: str
    rank: int | None
    bt: float | None
    bt_lower: float | None
    bt_upper: float | None
    elo: float
    elo_time_order: float
    elo_lower: float | None
    elo_upper: float | None
    upvotes: int
    occurrences: int
    average_upvotes: float
    battles: int
    battle_upvotes: int
    battle_upvote_rate: float
    sufficient: bool = True
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class RatingReport:
    """Leaderboard rows (best first) plus the pairwise tables, indexed by ``models``.

    ``dialogue_counts`` (Figure 14) counts dialogues per pair, ``battle_counts`` battles.
    ``warnings`` says what the battles are too few for (empty: the ranking is
    sufficient); ``unusable`` says why nothing could be rated (then ``rows`` is empty).
    """

    rows: tuple[ModelRating, ...]
    models: tuple[str, ...]
    battle_counts: IntArray
    win_fractions: FloatArray
    tables: DialogueTables
    battles: int
    excluded: int
    warnings: tuple[str, ...] = ()
    unusable: str | None = None

    @property
    def sufficient(self) -> bool:
        """Whether the ranking rests on enough battles (no warning, something rated)."""
        return self.unusable is None and not self.warnings


def rate(
    battles: Iterable[Battle],
    rng: np.random.Generator,
    *,
    shuffles: int = 100,
    rounds: int = 1000,
    elo: EloConfig = EloConfig(),
    bt: BTConfig = BTConfig(),
) -> RatingReport:
    """Everything the ``elo`` command reports, from one seeded generator.

    The displayed Elo is the mean over ``shuffles`` orders; the Elo interval comes from
    bootstrapping online Elo, the BT interval (and the rank) from bootstrapping BT.
    What the battles cannot support is None or a warning (see the module docstring);
    with no usable battle at all the report is empty and ``unusable`` says why.
    """
    recorded = list(battles)
    m = matchups(recorded)
    tables = dialogue_tables(recorded, m.models)
    if len(m) == 0:
        empty = np.zeros((0, 0), dtype=np.int64)
        return RatingReport(
            rows=(),
            models=(),
            battle_counts=empty,
            win_fractions=empty.astype(np.float64),
            tables=tables,
            battles=0,
            excluded=m.excluded,
            unusable=(
                f"no usable battles to rate: {len(recorded)} read, {m.excluded} unparsable"
                f" ({sum(1 for b in recorded if b.refused)} of them refused by the judge)"
            ),
        )
    elo_mean = shuffled_elo(m, rng, shuffles, elo)
    elo_lower, elo_upper = interval(bootstrap_elo(m, rng, rounds, elo))
    infinite = unrateable(m) if bt.l2 == 0 else None
    bt_point = bradley_terry(m, bt)
    bt_lower, bt_upper = interval(bootstrap_bt(m, rng, rounds, bt))
    rank = ranks(bt_lower, bt_upper)
    time_order = online_elo(m, elo)
    chosen, seen = battle_upvotes(m)
    counts = battle_counts(m)
    flat_elo, flat_bt = degenerate(elo_lower, elo_upper), degenerate(bt_lower, bt_upper)
    warnings = _shortfalls(m, seen, counts, infinite, flat_elo | flat_bt)

    def optional(values: FloatArray, i: int, missing: bool) -> float | None:
        return None if missing else float(values[i])

    rows = []
    for i, model in enumerate(m.models):
        notes = _notes(int(seen[i]), bool(flat_elo[i]), bool(flat_bt[i]), infinite)
        rows.append(
            ModelRating(
                model=model,
                rank=None if infinite else int(rank[i]),
                bt=optional(bt_point, i, infinite is not None),
                bt_lower=optional(bt_lower, i, infinite is not None or bool(flat_bt[i])),
                bt_upper=optional(bt_upper, i, infinite is not None or bool(flat_bt[i])),
                elo=float(elo_mean[i]),
                elo_time_order=float(time_order[i]),
                elo_lower=optional(elo_lower, i, bool(flat_elo[i])),
                elo_upper=optional(elo_upper, i, bool(flat_elo[i])),
                upvotes=int(tables.upvotes[i]),
                occurrences=int(tables.occurrences[i]),
                average_upvotes=tables.average_upvotes(i),
                battles=int(seen[i]),
                battle_upvotes=int(chosen[i]),
                battle_upvote_rate=float(chosen[i] / seen[i]),
                sufficient=seen[i] >= MIN_BATTLES_PER_BOT and infinite is None,
                notes=notes,
            )
        )
    rows.sort(key=lambda row: (row.rank or 0, -(row.bt or 0.0), -row.elo, row.model))
    return RatingReport(
        rows=tuple(rows),
        models=m.models,
        battle_counts=counts,
        win_fractions=win_fractions(m),
        tables=tables,
        battles=len(m),
        excluded=m.excluded,
        warnings=warnings,
    )


def _notes(battles: int, flat_elo: bool, flat_bt: bool, infinite: str | None) -> tuple[str, ...]:
    """Why a row's figures are missing or its rank does not count."""
    notes = []
    if battles < MIN_BATTLES_PER_BOT:
        notes.append(f"{battles} battles, fewer than the {MIN_BATTLES_PER_BOT} a rank needs")
    if infinite is not None:
        notes.append(f"no finite Bradley-Terry rating ({infinite}; pass --l2 0.1)")
    elif flat_bt:
        notes.append("BT interval: every bootstrap resample gave the same rating")
    if flat_elo:
        notes.append("Elo interval: every bootstrap resample gave the same rating")
    return tuple(notes)


def _shortfalls(
    m: Matchups,
    seen: IntArray,
    counts: IntArray,
    infinite: str | None,
    flat: NDArray[np.bool_],
) -> tuple[str, ...]:
    """The report's warnings: every way the battles fall short of a ranking."""
    warnings = []
    few = [
        f"{m.models[i]} ({seen[i]})" for i in range(len(m.models)) if seen[i] < MIN_BATTLES_PER_BOT
    ]
    if few:
        warnings.append(
            f"too few battles for a ranking: {', '.join(few)}; each bot needs at least "
            f"{MIN_BATTLES_PER_BOT} readable battles"
        )
    thin = [
        f"{m.models[i]}-{m.models[j]} ({counts[i, j]})"
        for i in range(len(m.models))
        for j in range(i + 1, len(m.models))
        if 0 < counts[i, j] < MIN_BATTLES_PER_PAIR
    ]
    if thin:
        warnings.append(
            f"too few battles between {', '.join(thin)}; a pair that met needs at least "
            f"{MIN_BATTLES_PER_PAIR} for its head-to-head to count"
        )
    if infinite is not None:
        warnings.append(
            f"no finite Bradley-Terry ratings and no ranks: {infinite} "
            "(collect more battles, or pass --l2 0.1)"
        )
    if flat.any():
        warnings.append(
            "some bootstrap intervals are degenerate (every resample gave the same rating) "
            "and are not reported"
        )
    return tuple(warnings)
