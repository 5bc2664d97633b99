"""How far to trust the arena's judge: order and length biases, kappa with humans, and
a Bradley-Terry fit that controls for reply length.

The arena records, for every selection, both candidates and the judge's choice for each
order it was shown in (``dialogues.jsonl`` of an arena run, see :mod:`.arena_records`),
which is all these statistics need:

* **position bias**: of the selections judged in both orders with a readable choice each
  time, the share whose choice changed with the order (a judge without position bias
  names the same bot both times); and the share of all readable judgements that chose
  the candidate shown first (0.5 without bias);
* **length bias**: of the decided selections whose candidates differ in length, the share
  won by the longer reply, with a two-sided binomial test against 0.5;
* **Cohen's kappa** between two labelings of the same items (judge and human), with a
  seeded percentile bootstrap interval over items;
* **length-controlled Bradley-Terry**, as chatbot-arena's style control: the logit of bot
  a winning is ``ln(10)·(r_a - r_b) + γ·x`` with ``x`` the normalised length difference
  ``(len_a - len_b) / (len_a + len_b)`` divided by its standard deviation over battles
  (not centred, so ``x = 0`` still means equal length); ``γ`` is the log-odds a judge
  gives per standard deviation of extra length, and the ratings are what remains.

Lengths are counted in the tokens of :func:`~interactive_agents.method._quality.text_tokens`
(Han characters and words), so Chinese and English replies are measured alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit
from scipy.stats import binomtest

from interactive_agents.arena._battles import ShownOrder, Winner
from interactive_agents.arena._selection import Side
from interactive_agents.errors import InputError
from interactive_agents.method._quality import text_tokens
from interactive_agents.ratings._systems import BTConfig, Matchups, _bt_scale, bradley_terry

_SCORES = {"a": 1.0, "b": 0.0, "tie": 0.5}


@dataclass(frozen=True, slots=True)
class JudgedPair:
    """One arena selection: the two bots, their reply lengths, the outcome, each order's choice."""

    bot_a: str
    bot_b: str
    length_a: int
    length_b: int
    winner: Winner
    choices: tuple[tuple[ShownOrder, Side | None], ...]


def judged_pairs(records: Iterable[Mapping[str, Any]], *, file: str = "") -> list[JudgedPair]:
    """Every selection of arena dialogue records (lines of an arena ``dialogues.jsonl``)."""
    pairs = []
    for number, record in enumerate(records, start=1):
        try:
            for selection in record["selections"]:
                a, b = selection["candidate_a"], selection["candidate_b"]
                choices = tuple((j["shown_order"], j["choice"]) for j in selection["judgements"])
                pairs.append(
                    JudgedPair(
                        str(a["bot"]),
                        str(b["bot"]),
                        len(text_tokens(a["content"])),
                        len(text_tokens(b["content"])),
                        selection["winner"],
                        choices,
                    )
                )
        except (KeyError, TypeError) as exc:
            raise InputError(f"not an arena dialogue: {exc!r}", file=file, record=number) from exc
    return pairs


@dataclass(frozen=True, slots=True)
class PositionBias:
    """How often the choice changed with the order, and how often the first shown won."""

    both_orders: int
    changed: int
    rate: float
    judgements: int
    first_shown: int
    first_shown_rate: float


OrderChoices = Sequence[tuple[ShownOrder, Side | None]]


def position_bias(pairs: Sequence[JudgedPair]) -> PositionBias:
    """The position-bias rate over selections judged in both orders (NaN when none)."""
    return order_bias(pair.choices for pair in pairs)


def order_bias(selections: Iterable[OrderChoices]) -> PositionBias:
    """:func:`position_bias` of bare selections: each one's (order, choice) judgements."""
    both = changed = judgements = first = 0
    for choices in selections:
        readable = {order: choice for order, choice in choices if choice is not None}
        for order, choice in readable.items():
            judgements += 1
            first += choice == order[0]
        if len(readable) == 2:
            both += 1
            changed += readable["ab"] != readable["ba"]
    return PositionBias(
        both, changed, _share(changed, both), judgements, first, _share(first, judgements)
    )


@dataclass(frozen=True, slots=True)
class LengthBias:
    """How often the longer reply won, among decided selections of unequal lengths."""

    decided: int
    longer_won: int
    rate: float
    p_value: float


def length_bias(pairs: Sequence[JudgedPair]) -> LengthBias:
    """The longer reply's win share and a two-sided binomial test against 0.5."""
    decided = [p for p in pairs if p.winner in ("a", "b") and p.length_a != p.length_b]
    longer = sum((p.winner == "a") == (p.length_a > p.length_b) for p in decided)
    p_value = binomtest(longer, len(decided)).pvalue if decided else math.nan
    return LengthBias(len(decided), longer, _share(longer, len(decided)), float(p_value))


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen's kappa of two labelings of the same items: (p_o - p_e) / (1 - p_e).

    NaN when there are no items or chance agreement is already certain (one label only).
    """
    if len(first) != len(second):
        raise ValueError("the two labelings must have the same length")
    if not first:
        return math.nan
    labels = sorted(set(first) | set(second))
    a = np.array([labels.index(x) for x in first])
    b = np.array([labels.index(x) for x in second])
    return _kappa(a, b, len(labels))


def _kappa(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any], k: int) -> float:
    observed = float(np.mean(a == b))
    expected = float(np.dot(np.bincount(a, minlength=k), np.bincount(b, minlength=k))) / len(a) ** 2
    if expected == 1.0:
        return math.nan
    return (observed - expected) / (1.0 - expected)


def kappa_interval(
    first: Sequence[str],
    second: Sequence[str],
    rng: np.random.Generator,
    rounds: int = 1000,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of kappa, resampling items (undefined draws dropped)."""
    if len(first) != len(second) or not first:
        raise ValueError("need two labelings of the same, non-empty items")
    labels = sorted(set(first) | set(second))
    a = np.array([labels.index(x) for x in first])
    b = np.array([labels.index(x) for x in second])
    draws = rng.integers(0, len(a), size=(rounds, len(a)))
    samples = np.array([_kappa(a[d], b[d], len(labels)) for d in draws])
    samples = samples[~np.isnan(samples)]
    if not len(samples):
        return math.nan, math.nan
    tail = (1.0 - level) / 2.0
    lower, upper = np.quantile(samples, [tail, 1.0 - tail])
    return float(lower), float(upper)


@dataclass(frozen=True, slots=True)
class LengthControlledRatings:
    """Bradley-Terry ratings with and without the length covariate, on the Elo scale."""

    models: tuple[str, ...]
    controlled: dict[str, float]
    plain: dict[str, float]
    length_coefficient: float
    battles: int
    spread: float = math.nan  # the standard deviation x was divided by (γ's unit)


def length_controlled_bt(
    pairs: Sequence[JudgedPair], config: BTConfig | None = None
) -> LengthControlledRatings:
    """Fit BT with the standardised length difference as a covariate, beside plain BT."""
    config = config or BTConfig()
    usable = [p for p in pairs if p.winner in _SCORES and p.length_a + p.length_b > 0]
    models = tuple(sorted({p.bot_a for p in usable} | {p.bot_b for p in usable}))
    index = {model: i for i, model in enumerate(models)}
    a = np.array([index[p.bot_a] for p in usable], dtype=np.int64)
    b = np.array([index[p.bot_b] for p in usable], dtype=np.int64)
    score = np.array([_SCORES[p.winner] for p in usable], dtype=np.float64)
    x = np.array([(p.length_a - p.length_b) / (p.length_a + p.length_b) for p in usable])
    spread = float(x.std()) if len(x) else 0.0
    x = x / spread if spread > 0 else x
    plain = bradley_terry(Matchups(models, a, b, score), config)
    r, gamma = _fit_controlled(a, b, score, x, len(models), config)
    controlled = _bt_scale(r, models, config)
    return LengthControlledRatings(
        models,
        {m: float(v) for m, v in zip(models, controlled, strict=True)},
        {m: float(v) for m, v in zip(models, plain, strict=True)},
        gamma,
        len(usable),
        spread,
    )


def _fit_controlled(
    a: np.ndarray[Any, Any],
    b: np.ndarray[Any, Any],
    score: np.ndarray[Any, Any],
    x: np.ndarray[Any, Any],
    n: int,
    config: BTConfig,
) -> tuple[np.ndarray[Any, Any], float]:
    """Maximum likelihood of (r, γ); a tiny penalty on Σr fixes the free common shift."""
    alpha = math.log(config.base)

    def loss(theta: np.ndarray[Any, Any]) -> tuple[float, np.ndarray[Any, Any]]:
        r, gamma = theta[:n], theta[n]
        logit = alpha * (r[a] - r[b]) + gamma * x
        p = np.clip(expit(logit), 1e-12, 1 - 1e-12)
        nll = -np.sum(score * np.log(p) + (1 - score) * np.log(1 - p))
        nll += config.l2 * np.sum(r**2) + 1e-6 * np.sum(r) ** 2
        slope = p - score
        grad = np.zeros(n + 1)
        np.add.at(grad, a, alpha * slope)
        np.add.at(grad, b, -alpha * slope)
        grad[:n] += 2 * config.l2 * r + 2e-6 * np.sum(r)
        grad[n] = np.sum(slope * x)
        return float(nll), grad

    fit = minimize(loss, np.zeros(n + 1), jac=True, method="L-BFGS-B", options={"gtol": 1e-10})
    return fit.x[:n], float(fit.x[n])


def _share(part: int, whole: int) -> float:
    return part / whole if whole else math.nan
