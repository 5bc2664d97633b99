"""``evaluate quality``: the quality flags of every session of each corpus, and their rates.

The flags themselves are defined in :mod:`interactive_agents.method._quality`; this module
applies them to corpora (reusing the flags a run stored in its records when they were
computed under the same rules and thresholds) and writes ``quality.json`` (every
session's values and flags, and the rate of each flag per corpus), ``quality.md`` and
``quality.png`` (a bar chart of the flag rates, one group of bars per corpus).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from interactive_agents.corpora._readers import Corpus
from interactive_agents.evaluation._flag_accuracy import LabelledMeasures
from interactive_agents.method._quality import FLAG_NAMES, Flagger, SessionQuality, flag_table
from interactive_agents.reporting._tables import markdown_table


@dataclass(frozen=True, slots=True)
class CorpusQuality:
    """The flags of each session of one corpus, by dialogue id, in corpus order."""

    corpus: str
    language: str
    sessions: tuple[tuple[str, SessionQuality], ...]

    def rate(self, name: str) -> float:
        """Share of the sessions that raise flag ``name`` (0 for an empty corpus)."""
        if not self.sessions:
            return 0.0
        return sum(name in quality.raised for _, quality in self.sessions) / len(self.sessions)

    def clean_share(self) -> float:
        """Share of the sessions that raise no flag at all."""
        if not self.sessions:
            return 0.0
        return sum(not quality.raised for _, quality in self.sessions) / len(self.sessions)

    def stored(self) -> int:
        """How many sessions' flags were read from their records, not computed."""
        return sum(quality.stored for _, quality in self.sessions)


def corpus_quality(corpus: Corpus, flagger: Flagger) -> CorpusQuality:
    """The flags of every dialogue of ``corpus`` under ``flagger`` (one language per corpus)."""
    sessions = tuple(
        (
            dialogue.id,
            flagger.assess(dialogue.turns, card_text=dialogue.card_text, stored=dialogue.quality),
        )
        for dialogue in corpus.dialogues
    )
    return CorpusQuality(corpus.name, flagger.rules.language, sessions)


def quality_rows(results: Sequence[CorpusQuality]) -> tuple[list[str], list[list[str]]]:
    """The summary table: one row per corpus, the share of sessions raising each flag."""
    headers = ["corpus", "sessions", *FLAG_NAMES, "no flag"]
    rows = [
        [
            result.corpus,
            str(len(result.sessions)),
            *(f"{result.rate(name):.1%}" for name in FLAG_NAMES),
            f"{result.clean_share():.1%}",
        ]
        for result in results
    ]
    return headers, rows


def quality_report(
    out: Path,
    results: Sequence[CorpusQuality],
    corpora: Sequence[Corpus],
    measured: LabelledMeasures | None = None,
) -> dict[str, Any]:
    """Write ``quality.json``, ``quality.md`` and ``quality.png``; return the payload,
    with the flags and terminator measured against hand labels when given."""
    out.mkdir(parents=True, exist_ok=True)
    plot = _rate_bars(results, out / "quality.png")
    first = results[0].sessions[0][1] if results and results[0].sessions else None
    thresholds = {flag.name: flag.threshold for flag in first.flags} if first else {}
    payload: dict[str, Any] = {
        "command": "quality",
        "thresholds": thresholds,
        "corpora": [
            {
                "name": result.corpus,
                "language": result.language,
                "sessions": len(result.sessions),
                "rates": {name: result.rate(name) for name in FLAG_NAMES},
                "no_flag": result.clean_share(),
                "stored_flags": result.stored(),
                "skipped_records": len(corpus.skipped),
                "dialogues": [
                    {
                        "id": dialogue_id,
                        "raised": list(quality.raised),
                        "flags": flag_table(quality),
                    }
                    for dialogue_id, quality in result.sessions
                ],
            }
            for result, corpus in zip(results, corpora, strict=True)
        ],
        "plots": [plot.name],
    }
    if measured is not None:
        payload["measured"] = measured.as_dict()
    headers, rows = quality_rows(results)
    markdown = [
        "# Session quality flags",
        "",
        "Share of sessions raising each flag (definitions and thresholds: docs/quality.md).",
        "",
        *markdown_table(headers, rows),
        "",
        "Thresholds: " + ", ".join(f"{name} {value:g}" for name, value in thresholds.items()),
        "",
        f"![flag rates]({plot.name})",
        "",
        *(labelled_markdown(measured) if measured is not None else []),
    ]
    for result in results:
        flagged = [(i, q) for i, q in result.sessions if q.raised]
        markdown += [f"## {result.corpus}: {len(flagged)} flagged sessions", ""]
        if result.stored():
            markdown += [f"Flags of {result.stored()} sessions read from their records.", ""]
        markdown += [f"- {i}: {', '.join(q.raised)}" for i, q in flagged[:50]]
        if len(flagged) > 50:
            markdown.append(f"- … and {len(flagged) - 50} more (see quality.json)")
        markdown.append("")
    (out / "quality.json").write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
    (out / "quality.md").write_text("\n".join(markdown), encoding="utf-8")
    return payload


def accuracy_rows(measured: LabelledMeasures) -> tuple[list[str], list[list[str]]]:
    """One row per flag and split: sessions, labelled, flagged, agreed, P and R."""
    headers = ["flag", "split", "sessions", "labelled", "flagged", "both", "precision", "recall"]
    rows = [
        [
            row.flag,
            row.split,
            str(row.sessions),
            str(row.labelled),
            str(row.flagged),
            str(row.agreed),
            _share(row.precision),
            _share(row.recall),
        ]
        for row in measured.flags
    ]
    return headers, rows


def terminator_rows(measured: LabelledMeasures) -> tuple[list[str], list[list[str]]]:
    """One row per terminator mode: sessions it ends, prematurely, closings missed."""
    headers = ["mode", "sessions", "ended", "ended prematurely", "with a closing", "missed"]
    rows = [
        [
            row.mode,
            str(row.sessions),
            str(row.ended),
            str(row.premature),
            str(row.closing),
            str(row.missed),
        ]
        for row in measured.terminator
    ]
    return headers, rows


def labelled_markdown(measured: LabelledMeasures) -> list[str]:
    """The report's section on the flags and the terminator against hand labels."""
    return [
        f"## Measured against hand labels ({measured.labels})",
        "",
        "Precision: of the labelled sessions a flag raised, the share labelled with it; "
        "recall: of the sessions labelled with it, the share it raised (n/a: no session "
        "to count).",
        "",
        *markdown_table(*accuracy_rows(measured)),
        "",
        "Terminator modes replayed on the sessions with labelled closings: sessions each "
        "would end, those ended on a counselor turn that is no closing (before any "
        "closing), and the sessions with a closing it would not end at or before it.",
        "",
        *markdown_table(*terminator_rows(measured)),
        "",
    ]


def _share(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def _rate_bars(results: Sequence[CorpusQuality], path: Path) -> Path:
    """Grouped bars: for each flag, the share of sessions raising it in each corpus."""
    figure = Figure(figsize=(10, 4.5))
    axes = figure.add_subplot()
    positions = np.arange(len(FLAG_NAMES))
    width = 0.8 / max(len(results), 1)
    for index, result in enumerate(results):
        rates = [100 * result.rate(name) for name in FLAG_NAMES]
        axes.bar(positions + index * width, rates, width, label=result.corpus)
    axes.set_xticks(
        positions + width * (len(results) - 1) / 2,
        [name.replace("_", "\n") for name in FLAG_NAMES],
    )
    axes.set_ylim(0, 100)
    axes.set_ylabel("sessions flagged (%)")
    axes.set_title("Session quality flags")
    if results:
        axes.legend(loc="upper right")
    figure.tight_layout()
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=120)
    return path
