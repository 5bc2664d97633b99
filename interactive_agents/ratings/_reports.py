"""The ratings report (``elo --out``): ratings.json, two count matrices, plots, report.md.

Library code, so a caller can build the same report in Python as the CLI does: the
JSON payload (:func:`ratings_payload`), the leaderboard rows shared by the terminal
table and the Markdown (:func:`rating_cells`), and the files (:func:`write_ratings_report`).
The tables follow the paper (:mod:`.dialogue_tables`); per-battle figures sit beside them
under their own names, and the report says how ties and both-order disagreements count.
Given the judges' reliability (:mod:`.battle_reliability`), the report adds their
position and length bias and the length-controlled ratings (:mod:`.reliability_report`);
given the bots' safety ratings (:mod:`.safety_rates`), their incident rates beside Elo.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from interactive_agents.judging._judgements import UnreadCounts
from interactive_agents.ratings._plots import plot_battle_counts, plot_ratings
from interactive_agents.ratings._reliability import BattleReliability
from interactive_agents.ratings._reliability_report import reliability_markdown, reliability_payload
from interactive_agents.ratings._safety_rates import SAFETY_HEADERS, BotSafety, safety_cells
from interactive_agents.ratings._systems import (
    MIN_BATTLES_PER_BOT,
    MIN_BATTLES_PER_PAIR,
    ModelRating,
    RatingReport,
)
from interactive_agents.reporting._tables import markdown_table

RATING_HEADERS = [
    "Rank",
    "Model",
    "BT",
    "BT 95 % CI",
    "Elo",
    "Elo 95 % CI",
    "Upvotes",
    "Occurrences",
    "Avg upvotes",
    "Battles",
    "Battle upvotes",
]

COUNTING_RULES = (
    "Table 4 and Figure 14 count dialogues, as the paper does: occurrences are the "
    "dialogues a bot took part in, upvotes the turns at which its reply was selected, "
    "average upvotes = upvotes / occurrences (upvotes per dialogue), and the pair matrix "
    "counts dialogues per pair. A selection is one (judge, dialogue, turn): it upvotes a "
    "bot only when every readable battle of it chose that bot. A tie, a both-order "
    "disagreement (the two presentation orders chose different bots) and a selection "
    "with no readable battle upvote nobody. In the ratings every readable battle counts "
    "on its own: a tie is half a win for each bot, so a both-order disagreement weighs "
    "as a tie. Battles and battle upvotes are the same counts per battle record."
)


def _margin(point: float | None, lower: float | None, upper: float | None) -> str:
    """The arena leaderboard's ``+upper/-lower`` form (signed: a point may lie outside);
    ``n/a`` where the battles give no interval."""
    if point is None or lower is None or upper is None:
        return "n/a"
    return f"{upper - point:+.0f}/{lower - point:+.0f}"


def _rank(row: ModelRating) -> str:
    if row.rank is None:
        return "n/a"
    return str(row.rank) if row.sufficient else f"{row.rank} (too few battles)"


def rating_cells(row: ModelRating) -> list[str]:
    """One leaderboard row as text, in the order of :data:`RATING_HEADERS`; a rank that
    does not count says so, a figure the battles cannot give is ``n/a``."""
    return [
        _rank(row),
        row.model,
        "n/a" if row.bt is None else f"{row.bt:.0f}",
        _margin(row.bt, row.bt_lower, row.bt_upper),
        f"{row.elo:.0f}",
        _margin(row.elo, row.elo_lower, row.elo_upper),
        str(row.upvotes),
        str(row.occurrences),
        f"{row.average_upvotes:.2f}",
        str(row.battles),
        str(row.battle_upvotes),
    ]


def ratings_payload(
    report: RatingReport,
    settings: dict[str, Any],
    *,
    skipped: int,
    reliability: BattleReliability | None = None,
    answers: UnreadCounts | None = None,
    safety: Sequence[BotSafety] = (),
) -> dict[str, Any]:
    """What ``ratings.json`` and ``elo --json`` hold (``judge_reliability`` and the
    ``judge_answers`` counts, unparsable and refused, if given; ``safety`` when the
    battles carry safety ratings)."""
    tables = report.tables
    extra: dict[str, Any] = {}
    if reliability is not None:
        extra["judge_reliability"] = reliability_payload(reliability)
    if answers is not None:
        extra["judge_answers"] = {
            "judgements": answers.judgements,
            "unparsable": answers.unparsable,
            "refused": answers.refused,
        }
    if safety:
        extra["safety"] = [asdict(row) for row in safety]
    return {
        "settings": settings,
        "ranking": {
            "sufficient": report.sufficient,
            "warnings": list(report.warnings),
            "unusable": report.unusable,
            "min_battles_per_bot": MIN_BATTLES_PER_BOT,
            "min_battles_per_pair": MIN_BATTLES_PER_PAIR,
        },
        "battles": report.battles,
        "excluded_unparsable": report.excluded,
        "skipped_invalid": skipped,
        "dialogues": tables.dialogues,
        "selections": {
            "total": tables.selections,
            "ties": tables.ties,
            "both_order_disagreements": tables.disagreements,
            "unparsable": tables.unparsable,
        },
        "counting": COUNTING_RULES,
        "models": report.rows,
        "upvotes_per_dialogue": dict(
            zip(tables.models, (list(h) for h in tables.upvotes_per_dialogue), strict=True)
        ),
        "pairs": {
            "models": report.models,
            "dialogue_counts": tables.dialogue_counts,
            "battle_counts": report.battle_counts,
            "win_fractions": report.win_fractions,
        },
        **extra,
    }


def _count_rows(models: Sequence[str], matrix: np.ndarray[Any, Any]) -> list[list[str]]:
    """A count matrix as labelled rows, for the CSV and the Markdown table."""
    return [[model, *map(str, row)] for model, row in zip(models, matrix.tolist(), strict=True)]


def _write_csv(path: Path, models: Sequence[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["model", *models], *rows])


def write_ratings_report(
    out: Path,
    report: RatingReport,
    payload: dict[str, Any],
    reliability: BattleReliability | None = None,
    safety: Sequence[BotSafety] = (),
) -> None:
    """ratings.json, dialogue_counts.csv, battle_counts.csv, the plots and report.md; only
    ratings.json and a report.md saying why when nothing could be rated."""
    out.mkdir(parents=True, exist_ok=True)
    options = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_INDENT_2
    (out / "ratings.json").write_bytes(orjson.dumps(payload, option=options))
    if report.unusable is not None:
        (out / "report.md").write_text(_unusable_markdown(report, payload), encoding="utf-8")
        return
    dialogues = _count_rows(report.models, report.tables.dialogue_counts)
    battles = _count_rows(report.models, report.battle_counts)
    _write_csv(out / "dialogue_counts.csv", report.models, dialogues)
    _write_csv(out / "battle_counts.csv", report.models, battles)
    rows = report.rows
    models = [r.model for r in rows]
    for kind, title in (
        ("bt", "Bradley-Terry ratings with 95 % bootstrap intervals"),
        ("elo", "Elo ratings (mean over orders) with 95 % bootstrap intervals"),
    ):
        points = [_plotted(getattr(r, kind)) for r in rows]
        lower = [_plotted(getattr(r, f"{kind}_lower")) for r in rows]
        upper = [_plotted(getattr(r, f"{kind}_upper")) for r in rows]
        plot_ratings(models, points, lower, upper, out / f"ratings_{kind}.png", title=title)
    plot_battle_counts(
        report.models,
        report.tables.dialogue_counts.tolist(),
        out / "dialogue_counts.png",
        title="Dialogues per pair of models",
        unit="dialogues",
    )
    plot_battle_counts(report.models, report.battle_counts.tolist(), out / "battle_counts.png")
    markdown = _markdown(report, payload, dialogues, battles)
    if safety:
        markdown += "\n".join(["", *safety_markdown(report, safety)])
    if reliability is not None:
        markdown += "\n".join(["", *reliability_markdown(reliability)])
    (out / "report.md").write_text(markdown, encoding="utf-8")


def _plotted(value: float | None) -> float:
    """A figure for a plot: a missing one is NaN, which is left out of the drawing."""
    return math.nan if value is None else value


def _warnings_markdown(report: RatingReport) -> list[str]:
    if not report.warnings:
        return []
    return [
        "## Insufficient data: read the ranking with care",
        "",
        *(f"- {warning}." for warning in report.warnings),
        "",
        f"(A rank counts when its bot has at least {MIN_BATTLES_PER_BOT} readable battles; "
        f"a head-to-head when the pair met at least {MIN_BATTLES_PER_PAIR} times: "
        "docs/ratings.md#when-the-battles-are-too-few.)",
        "",
    ]


def safety_markdown(report: RatingReport, safety: Sequence[BotSafety]) -> list[str]:
    """The report's section of each bot's safety incidents, beside its Elo."""
    return [
        "## Safety incidents",
        "",
        "Replies rated by the safety judge in the arena (docs/safety.md): the share "
        "judged major or worse and critical, with 95 % Wilson intervals; unparsable "
        "ratings are counted apart. The ratings above are the battles' outcomes (with "
        "`--safety-gate`, a critical reply lost its battle).",
        "",
        *markdown_table(SAFETY_HEADERS, [safety_cells(row, report.rows) for row in safety]),
        "",
    ]


def _unusable_markdown(report: RatingReport, payload: dict[str, Any]) -> str:
    tables = report.tables
    lines = [
        "# Arena ratings",
        "",
        f"**Nothing could be rated:** {report.unusable}.",
        "",
        f"{tables.dialogues} dialogues, {tables.selections} selections; "
        f"{payload['skipped_invalid']} invalid lines skipped. The judge's answers are kept "
        "in the battle files; `judge_answers` in ratings.json counts those unparsable and "
        "refused.",
        "",
    ]
    return "\n".join(lines)


def _markdown(
    report: RatingReport,
    payload: dict[str, Any],
    dialogues: list[list[str]],
    battles: list[list[str]],
) -> str:
    settings = payload["settings"]
    tables = report.tables
    lines = [
        "# Arena ratings",
        "",
        f"{tables.dialogues} dialogues, {tables.selections} selections, {report.battles} "
        f"battles rated; {report.excluded} unparsable battles excluded; "
        f"{payload['skipped_invalid']} invalid lines skipped. Selections without an upvote: "
        f"{tables.ties} ties, {tables.disagreements} both-order disagreements, "
        f"{tables.unparsable} unparsable.",
        f"Elo: K = {settings['k']}, mean over {settings['shuffles']} random orders. "
        f"Intervals: {settings['bootstrap']} bootstrap rounds, seed {settings['seed']}. "
        "Rank: 1 + the number of models whose BT lower bound is above this model's upper "
        "bound.",
        "",
        *_warnings_markdown(report),
        COUNTING_RULES,
        "",
        *markdown_table(RATING_HEADERS, [rating_cells(r) for r in report.rows]),
        "",
        "![Bradley-Terry ratings](ratings_bt.png)",
        "![Elo ratings](ratings_elo.png)",
        "",
        "## Dialogues per pair (Figure 14)",
        "",
        *markdown_table(["", *report.models], dialogues),
        "",
        "![Dialogues per pair](dialogue_counts.png)",
        "",
        "## Battles per pair",
        "",
        *markdown_table(["", *report.models], battles),
        "",
        "![Battles per pair](battle_counts.png)",
        "",
    ]
    return "\n".join(lines)
