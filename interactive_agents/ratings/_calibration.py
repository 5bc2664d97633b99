"""Calibrating an LLM judge against people: how far people agree with each other on each
rubric item, and how far the judge agrees with them
(docs/evaluation.md#calibrating-a-judge-against-people).

The data are *items* (a rubric item such as WAI-O-S statement 3, or the arena's
preference), each with *units* (the sessions rated, or the selections judged) that
people rated and a judge rated. For each item:

* **people with people**: Krippendorff's alpha over every annotator's ratings (units
  rated by two or more), Light's kappa (the mean of Cohen's kappa over the pairs of
  annotators with two or more units in common; quadratic weights on ordinal scales), raw
  agreement of every pair of ratings of a unit, and their confusion matrix (both orders);
* **judge with people**: the judge is compared with each person who rated the unit, each
  (unit, person) one pair: alpha of the two "coders" judge and person over these pairs,
  Cohen's (weighted) kappa, raw agreement, the confusion matrix (rows: judge), and on
  ordinal scales the judge's mean offset from people (in scale steps; > 0 rates higher,
  as CounselBench found judges do) and its length bias: the Spearman correlation between
  the judge's offset from the people's mean on a session and the session's length;
* whether the judge **meets the threshold** (alpha at least ``threshold``), with the
  share of bootstrap resamples below it.

Items of one rubric on one scale (the 12 WAI-O-S statements) are also pooled (units:
session × item). A ``set`` item (the topics) is compared per option, chosen or not, and
pooled over the options, with the share of exactly equal sets and their mean Jaccard
similarity as its raw agreement.

Intervals are percentile bootstraps over the units' *clusters* (sessions; dialogues for
battles), so correlated ratings stay together. What cannot be measured is counted and
said: a unit the judge could not rate (``missing``), a unit people rated that the judge
never saw (``unmatched``), an alpha without two units or without variation (NaN, with
the reason).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import spearmanr

from interactive_agents.errors import InputError
from interactive_agents.ratings._agreement import wilson_interval
from interactive_agents.ratings._agreement_config import AgreementConfig
from interactive_agents.ratings._agreement_statistics import (
    NO_INTERVAL,
    Interval,
    Metric,
    alpha_of_counts,
    bootstrap,
    confusion,
    value_counts,
    weighted_kappa,
)
from interactive_agents.ratings._rating_records import Rating, Value
from interactive_agents.ratings._reliability import BattleReliability

Unit = tuple[str, ...]
Sets = dict[str, frozenset[str]]  # rater -> the options chosen
TOO_FEW = "fewer than two units rated by two raters"
NO_VARIATION = "every rating is the same value: agreement beyond chance is undefined"
NO_JUDGE = "the judge rated none of the units people rated"
BINARY = ("absent", "present")


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """An item as compared: ``scale`` names the values 0 .. K-1; ``pooled`` rows take
    several items (or the options of a set) together."""

    rubric: str
    item: str
    metric: Metric
    scale: tuple[str, ...]
    pooled: bool = False


@dataclass(slots=True)
class ItemData:
    """Every unit of one item: people's ratings (rater -> scale index), each unit's
    cluster and length. The rows made of a set item name it (``of_set``), with the
    option of a per-option row; its pooled row keeps the sessions' whole sets."""

    spec: ItemSpec
    units: list[Unit] = field(default_factory=list)
    clusters: list[Unit] = field(default_factory=list)
    people: list[dict[str, int]] = field(default_factory=list)
    lengths: list[int | None] = field(default_factory=list)
    of_set: str | None = None
    option: str | None = None
    whole: SetItem | None = None

    def count(self, indexes: Sequence[int]) -> int:
        """How many units ``indexes`` are: sessions, for the pooled row of a set item."""
        if self.whole is None:
            return len(indexes)
        return len({self.units[i][:-1] for i in indexes})

    def add(self, unit: Unit, cluster: Unit, people: dict[str, int], length: int | None) -> None:
        self.units.append(unit)
        self.clusters.append(cluster)
        self.people.append(people)
        self.lengths.append(length)


@dataclass(slots=True)
class SetItem:
    """A set item as people rated it: per session, each rater's chosen options."""

    rubric: str
    item: str
    options: tuple[str, ...]
    units: list[Unit] = field(default_factory=list)
    sets: list[Sets] = field(default_factory=list)
    lengths: list[int | None] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Matches:
    """Raw agreement: ``agreed`` of ``total`` pairs; within one step on ordinal scales;
    the mean Jaccard similarity of pairs of sets."""

    agreed: int
    total: int
    within_one: float | None = None
    jaccard: float | None = None


@dataclass(frozen=True, slots=True)
class Agreement:
    """One comparison on one item (people with people, or a judge with people)."""

    units: int
    pairs: int
    alpha: float
    alpha_lower: float
    alpha_upper: float
    kappa: float
    kappa_lower: float
    kappa_upper: float
    agreement: float
    agreement_lower: float
    agreement_upper: float
    within_one: float | None
    jaccard: float | None
    confusion: list[list[int]]
    reason: str | None
    below_threshold: float = math.nan  # share of bootstrap alphas under the threshold


@dataclass(frozen=True, slots=True)
class Offset:
    """How a judge's ordinal ratings sit against people's: mean offset in scale steps
    (judge − person) with its interval, and its Spearman correlation with session length."""

    mean: float
    lower: float
    upper: float
    length_rho: float
    length_p: float
    length_units: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class PeopleItem:
    spec: ItemSpec
    raters: int
    agreement: Agreement


@dataclass(frozen=True, slots=True)
class JudgeItem:
    """A judge on one item: agreement with people, the units it missed, the verdict."""

    spec: ItemSpec
    agreement: Agreement
    missing: int
    unmatched: int
    meets: bool | None
    offset: Offset | None


@dataclass(frozen=True, slots=True)
class JudgeCalibration:
    name: str
    items: tuple[JudgeItem, ...]
    biases: BattleReliability | None = None  # battles: position and length bias


@dataclass(frozen=True, slots=True)
class Calibration:
    threshold: float
    people: tuple[PeopleItem, ...]
    judges: tuple[JudgeCalibration, ...]
    people_biases: BattleReliability | None = None


# -- from ratings to items -----------------------------------------------------------------


def rating_items(
    people: Iterable[Rating], cluster: Callable[[Unit], Unit] = lambda unit: unit
) -> list[ItemData | SetItem]:
    """People's ratings as items, in the order first seen; ``cluster`` names the group a
    unit is resampled with (itself, by default)."""
    items: dict[tuple[str, str], ItemData | SetItem] = {}
    positions: dict[tuple[str, str], dict[Unit, int]] = defaultdict(dict)
    for rating in people:
        key = (rating.rubric, rating.item)
        scale = tuple(str(v) for v in rating.scale)
        item = items.get(key)
        if item is None:
            metric: Metric = "ordinal" if rating.level == "ordinal" else "nominal"
            item = items[key] = (
                SetItem(rating.rubric, rating.item, scale)
                if rating.level == "set"
                else ItemData(ItemSpec(rating.rubric, rating.item, metric, scale))
            )
        if (item.options if isinstance(item, SetItem) else item.spec.scale) != scale:
            raise InputError(
                f"item {rating.item!r} of {rating.rubric!r} has two different scales in "
                "people's ratings: export them from one task",
                field="scale",
            )
        position = positions[key].get(rating.session)
        if position is None:
            position = positions[key][rating.session] = len(item.units)
            if isinstance(item, SetItem):
                item.units.append(rating.session)
                item.sets.append({})
                item.lengths.append(rating.length)
            else:
                item.add(rating.session, cluster(rating.session), {}, rating.length)
        if rating.value is None:
            continue
        if isinstance(item, SetItem):
            item.sets[position][rating.rater] = frozenset(map(str, rating.value))  # type: ignore[arg-type]
        else:
            item.people[position][rating.rater] = scale.index(str(rating.value))
    return list(items.values())


def expand(whole: SetItem) -> list[ItemData]:
    """A set item as its pooled row (units: session × option) and one binary item per
    option anyone chose."""
    chosen = {o for unit in whole.sets for options in unit.values() for o in options}
    pooled = ItemData(
        ItemSpec(whole.rubric, whole.item, "nominal", BINARY, True), of_set=whole.item, whole=whole
    )
    per_option = []
    for option in whole.options:
        item = ItemData(
            ItemSpec(whole.rubric, f"{whole.item}={option}", "nominal", BINARY),
            of_set=whole.item,
            option=option,
        )
        for unit, sets, length in zip(whole.units, whole.sets, whole.lengths, strict=True):
            people = {rater: int(option in options) for rater, options in sets.items()}
            item.add(unit, unit, people, length)
            pooled.add((*unit, option), unit, people, length)
        if option in chosen:
            per_option.append(item)
    return [pooled, *per_option]


def pool(items: Sequence[ItemData], rubric: str) -> ItemData | None:
    """The items of one rubric taken together (units: session × item), when they share one
    scale (the 12 WAI-O-S statements); None otherwise."""
    if len(items) < 2 or len({(d.spec.metric, d.spec.scale) for d in items}) != 1:
        return None
    if len({len(unit) for d in items for unit in d.units}) > 1:
        return None  # replies and sessions (a reply's severity, a session's): not one pool
    spec = items[0].spec
    pooled = ItemData(ItemSpec(rubric, f"{rubric} (all items)", spec.metric, spec.scale, True))
    for data in items:
        for unit, cluster, people, length in zip(
            data.units, data.clusters, data.people, data.lengths, strict=True
        ):
            pooled.add((*unit, data.spec.item), cluster, people, length)
    return pooled


def compared_items(
    people: Iterable[Rating], cluster: Callable[[Unit], Unit] = lambda unit: unit
) -> list[ItemData]:
    """Every row of the comparison: pooled rows first, then each item (and option)."""
    rows: list[ItemData] = []
    by_rubric: dict[str, list[ItemData]] = defaultdict(list)
    for item in rating_items(people, cluster):
        if isinstance(item, SetItem):
            rows += expand(item)
        else:
            rows.append(item)
            by_rubric[item.spec.rubric].append(item)
    pooled = [p for rubric, members in by_rubric.items() if (p := pool(members, rubric))]
    return [*pooled, *rows]


# -- the comparisons -----------------------------------------------------------------------


def people_agreement(
    data: ItemData, config: AgreementConfig, rng: np.random.Generator
) -> PeopleItem:
    """Agreement among people on one item."""
    spec = data.spec
    rated = [i for i, ratings in enumerate(data.people) if len(ratings) >= 2]
    raters = sorted({r for i in rated for r in data.people[i]})
    counts = value_counts([list(p.values()) for p in data.people], len(spec.scale))

    def table_alpha(chosen: Sequence[int]) -> float:
        return alpha_of_counts(counts[list(chosen)], spec.metric)

    def light_kappa(chosen: Sequence[int]) -> float:
        kappas = []
        for a, b in combinations(raters, 2):
            shared = [i for i in chosen if a in data.people[i] and b in data.people[i]]
            if len(shared) >= 2:
                kappas.append(
                    weighted_kappa(
                        [data.people[i][a] for i in shared],
                        [data.people[i][b] for i in shared],
                        len(spec.scale),
                        spec.metric,
                    )
                )
        defined = [k for k in kappas if not math.isnan(k)]
        return float(np.mean(defined)) if defined else math.nan

    pairs = [
        (x, y) for i in rated for (_, x), (_, y) in combinations(sorted(data.people[i].items()), 2)
    ]
    if data.whole is not None:
        matches = _set_matches(
            [list(s.values()) for s in data.whole.sets if len(s) >= 2], judge_first=False
        )
    else:
        matches = _matches(pairs, spec)
    both_orders = ([x for x, _ in pairs] + [y for _, y in pairs],
                   [y for _, y in pairs] + [x for x, _ in pairs])  # fmt: skip
    agreement = _agreement(data, rated, table_alpha, light_kappa, matches, both_orders, config, rng)
    return PeopleItem(spec, len(raters), agreement)


def judge_agreement(
    data: ItemData,
    judged: Mapping[Unit, int | None],
    config: AgreementConfig,
    rng: np.random.Generator,
    judge_sets: Mapping[Unit, frozenset[str] | None] | None = None,
) -> JudgeItem:
    """A judge against people on one item (``judged``: the judge's scale index per unit it
    rated, None where it gave no readable value)."""
    spec = data.spec
    with_people = [i for i, ratings in enumerate(data.people) if ratings]
    unmatched = data.count([i for i in with_people if data.units[i] not in judged])
    missing = data.count(
        [i for i in with_people if data.units[i] in judged and judged[data.units[i]] is None]
    )
    rated = [i for i in with_people if judged.get(data.units[i]) is not None]
    values = {i: int(judged[data.units[i]]) for i in rated}  # type: ignore[arg-type]

    def pairs_of(chosen: Sequence[int]) -> tuple[list[int], list[int]]:
        pairs = [(values[i], h) for i in chosen for _, h in sorted(data.people[i].items())]
        return [j for j, _ in pairs], [h for _, h in pairs]

    pair_counts = value_counts(
        [[values[i], h] for i in rated for _, h in sorted(data.people[i].items())], len(spec.scale)
    )
    rows_of: dict[int, list[int]] = defaultdict(list)
    for row, unit in enumerate(i for i in rated for _ in data.people[i]):
        rows_of[unit].append(row)

    def pair_alpha(chosen: Sequence[int]) -> float:
        return alpha_of_counts(pair_counts[[r for i in chosen for r in rows_of[i]]], spec.metric)

    def pair_kappa(chosen: Sequence[int]) -> float:
        return weighted_kappa(*pairs_of(chosen), len(spec.scale), spec.metric)

    judge, person = pairs_of(rated)
    if data.whole is not None and judge_sets is not None:
        matches = _set_matches(
            [
                [judge_sets[unit], *sets.values()]
                for unit, sets in zip(data.whole.units, data.whole.sets, strict=True)
                if sets and judge_sets.get(unit) is not None
            ],
            judge_first=True,
        )
    else:
        matches = _matches(list(zip(judge, person, strict=True)), spec)
    agreement = _agreement(
        data, rated, pair_alpha, pair_kappa, matches, (judge, person), config, rng
    )
    if not rated and with_people:
        agreement = replace(agreement, reason=NO_JUDGE)
    meets = None if math.isnan(agreement.alpha) else agreement.alpha >= config.threshold
    offset = None
    if spec.metric == "ordinal" and rated:
        offset = _offset(data, values, rated, config, rng)
    return JudgeItem(spec, agreement, missing, unmatched, meets, offset)


def _matches(pairs: Sequence[tuple[int, int]], spec: ItemSpec) -> Matches:
    within = None
    if spec.metric == "ordinal" and not spec.pooled and pairs:
        within = sum(1 for x, y in pairs if abs(x - y) <= 1) / len(pairs)
    return Matches(sum(1 for x, y in pairs if x == y), len(pairs), within)


def _set_matches(units: Sequence[Sequence[frozenset[str] | None]], *, judge_first: bool) -> Matches:
    """Whole sets compared: every pair of people's, or the judge's (first) with each."""
    pairs: list[tuple[frozenset[str], frozenset[str]]] = []
    for unit in units:
        present = [s for s in unit if s is not None]
        if judge_first:
            pairs += [(present[0], other) for other in present[1:]]
        else:
            pairs += list(combinations(present, 2))
    jaccard = float(np.mean([len(a & b) / len(a | b) if a | b else 1.0 for a, b in pairs]))
    return Matches(sum(1 for a, b in pairs if a == b), len(pairs), None, jaccard if pairs else None)


def _agreement(
    data: ItemData,
    rated: Sequence[int],
    statistic_alpha: Callable[[Sequence[int]], float],
    statistic_kappa: Callable[[Sequence[int]], float],
    matches: Matches,
    labels: tuple[Sequence[int], Sequence[int]],
    config: AgreementConfig,
    rng: np.random.Generator,
) -> Agreement:
    value = statistic_alpha(rated)
    clusters = _clusters(data, rated)
    alpha_interval = _cluster_bootstrap(clusters, statistic_alpha, config, rng)
    kappa_interval = _cluster_bootstrap(clusters, statistic_kappa, config, rng)
    lower, upper = wilson_interval(matches.agreed, matches.total, config.level)
    reason = None
    if math.isnan(value):
        reason = TOO_FEW if len(rated) < 2 else NO_VARIATION
    return Agreement(
        units=data.count(rated),
        pairs=matches.total,
        alpha=value,
        alpha_lower=alpha_interval.lower,
        alpha_upper=alpha_interval.upper,
        kappa=statistic_kappa(rated),
        kappa_lower=kappa_interval.lower,
        kappa_upper=kappa_interval.upper,
        agreement=matches.agreed / matches.total if matches.total else math.nan,
        agreement_lower=lower,
        agreement_upper=upper,
        within_one=matches.within_one,
        jaccard=matches.jaccard,
        confusion=confusion(*labels, len(data.spec.scale)),
        reason=reason,
        below_threshold=alpha_interval.share_below(config.threshold),
    )


def _clusters(data: ItemData, rated: Sequence[int]) -> list[list[int]]:
    grouped: dict[Unit, list[int]] = defaultdict(list)
    for i in rated:
        grouped[data.clusters[i]].append(i)
    return list(grouped.values())


def _cluster_bootstrap(
    clusters: Sequence[Sequence[int]],
    statistic: Callable[[Sequence[int]], float],
    config: AgreementConfig,
    rng: np.random.Generator,
) -> Interval:
    if len(clusters) < 2:
        return NO_INTERVAL

    def resampled(indexes: NDArray[np.int64]) -> float:
        return statistic([unit for c in indexes for unit in clusters[int(c)]])

    return bootstrap(len(clusters), resampled, rng, config.bootstrap, config.level)


def _offset(
    data: ItemData,
    values: Mapping[int, int],
    rated: Sequence[int],
    config: AgreementConfig,
    rng: np.random.Generator,
) -> Offset:
    """The judge's mean offset from people, and its correlation with session length."""
    per_unit = np.array([values[i] - np.mean(list(data.people[i].values())) for i in rated])
    weights = np.array([len(data.people[i]) for i in rated], dtype=float)

    def mean(chosen: NDArray[np.int64]) -> float:
        return float(np.average(per_unit[chosen], weights=weights[chosen]))

    interval = bootstrap(len(rated), mean, rng, config.bootstrap, config.level)
    known = [
        (d, n) for d, i in zip(per_unit, rated, strict=True) if (n := data.lengths[i]) is not None
    ]
    rho = p = math.nan
    reason = None
    if len(known) < 3:
        reason = "the length bias needs the lengths of three or more rated sessions"
    elif len({n for _, n in known}) < 2 or len({float(d) for d, _ in known}) < 2:
        reason = "the sessions' lengths or the judge's offsets do not vary"
    else:
        result = spearmanr([d for d, _ in known], [n for _, n in known])
        rho, p = float(result.statistic), float(result.pvalue)
    mean_offset = float(np.average(per_unit, weights=weights))
    return Offset(mean_offset, interval.lower, interval.upper, rho, p, len(known), reason)


# -- the whole calibration ----------------------------------------------------------------


def calibrate(
    people: Sequence[Rating],
    judges: Mapping[str, Sequence[Rating]],
    config: AgreementConfig | None = None,
    *,
    cluster: Callable[[Unit], Unit] = lambda unit: unit,
) -> Calibration:
    """People with people and each judge with people, per item, pooled where it can be;
    ``cluster`` groups the units the bootstrap resamples together."""
    config = config or AgreementConfig()
    rng = np.random.default_rng(config.seed)
    rows = compared_items(people, cluster)
    if not rows:
        raise InputError("no rating of people to compare with", field="human")
    people_rows = tuple(people_agreement(data, config, rng) for data in rows)
    keys = {(r.rubric, r.item) for r in people}
    calibrations = []
    for name, ratings in judges.items():
        values: dict[tuple[str, str], dict[Unit, Value | None]] = defaultdict(dict)
        for rating in ratings:
            if (rating.rubric, rating.item) in keys:
                values[(rating.rubric, rating.item)][rating.session] = rating.value
        if not values:
            rated = sorted({f"{r.rubric}/{r.item}" for r in ratings})[:5]
            raise InputError(
                f"the judge rated none of the items people rated (it rated {', '.join(rated)})",
                file=name,
            )
        items = tuple(_judge_item(data, values, config, rng) for data in rows)
        calibrations.append(JudgeCalibration(name, items))
    return Calibration(config.threshold, people_rows, tuple(calibrations))


def _judge_item(
    data: ItemData,
    values: Mapping[tuple[str, str], Mapping[Unit, Value | None]],
    config: AgreementConfig,
    rng: np.random.Generator,
) -> JudgeItem:
    """The judge's values for one row, as scale indexes (chosen or not, for sets)."""
    spec = data.spec
    judged: dict[Unit, int | None] = {}
    if data.of_set is not None:
        sets = {
            unit: None if value is None else frozenset(map(str, value))  # type: ignore[arg-type]
            for unit, value in values.get((spec.rubric, data.of_set), {}).items()
        }
        for unit in data.units:
            session, option = (unit[:-1], unit[-1]) if data.option is None else (unit, data.option)
            if session in sets:
                chosen = sets[session]
                judged[unit] = None if chosen is None else int(option in chosen)
        return judge_agreement(data, judged, config, rng, sets if data.whole else None)
    for unit in data.units:
        session, item = (unit[:-1], unit[-1]) if spec.pooled else (unit, spec.item)
        item_values = values.get((spec.rubric, item), {})
        if session in item_values:
            judged[unit] = _index(item_values[session], spec)
    return judge_agreement(data, judged, config, rng)


def _index(value: Value | None, spec: ItemSpec) -> int | None:
    if value is None:
        return None
    if str(value) not in spec.scale:
        raise InputError(
            f"the judge's value {value!r} is not on the scale of {spec.item!r} "
            f"({', '.join(spec.scale)})",
            field="value",
        )
    return spec.scale.index(str(value))
