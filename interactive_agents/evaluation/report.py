"""Reports of the evaluation commands: JSON for machines, Markdown and PNGs for people.

Each report writes ``<command>.json``, ``<command>.md`` and its plots into one output
folder and returns the JSON payload; the same rows feed the Markdown table and the
:mod:`rich` table printed as the summary, so the two never disagree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
from rich import box
from rich.table import Table

from .consistency import ConsistencyResult
from .corpora import Corpus
from .plots import consistency_histogram, turns_histogram
from .stats import CorpusStats

Rows = list[list[str]]

_TITLES = {
    "overlap": "Vocabulary overlap rate (SPEC §7, Eq. 1)",
    "semantic": "Semantic consistency (SPEC §7, Eq. 2)",
}


def stats_report(
    out: Path, corpora: Sequence[Corpus], stats: Sequence[CorpusStats]
) -> dict[str, Any]:
    """Write ``stats.json``, ``stats.md`` and ``turns.png``; return the payload."""
    out.mkdir(parents=True, exist_ok=True)
    plot = turns_histogram(corpora, out / "turns.png")
    payload = {
        "command": "stats",
        "corpora": [{**asdict(s), **_skipped(c)} for c, s in zip(corpora, stats, strict=True)],
        "plots": [plot.name],
    }
    headers, rows = stats_rows(corpora, stats)
    markdown = [
        "# Dataset statistics (SPEC §6)",
        "",
        _markdown_table(headers, rows),
        "",
        "A turn is one client utterance plus one counselor reply (utterances / 2); "
        "lengths are characters.",
        "",
        f"![Turns per conversation]({plot.name})",
        *_skipped_markdown(corpora),
    ]
    _write(out, "stats", payload, markdown)
    return payload


def consistency_report(
    out: Path,
    corpora: Sequence[Corpus],
    results: Sequence[ConsistencyResult],
    *,
    command: str,
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Write ``<command>.json``, ``<command>.md`` and one histogram per corpus."""
    out.mkdir(parents=True, exist_ok=True)
    plots = [
        consistency_histogram(r, out / f"{command}-{index}-{slug(r.corpus)}.png")
        for index, r in enumerate(results, start=1)
    ]
    payload = {
        "command": command,
        "settings": settings,
        "corpora": [
            {**asdict(r), **_skipped(c), "plot": p.name}
            for c, r, p in zip(corpora, results, plots, strict=True)
        ],
    }
    headers, rows = consistency_rows(corpora, results)
    described = ", ".join(f"{key} {value}" for key, value in settings.items())
    markdown = [
        f"# {_TITLES[command]}",
        "",
        f"Settings: {described}. Mapping group: each dialogue against its own card; random "
        "group: against a randomly drawn other card; both as mean ± sample std; two-tailed "
        "Student's t-test.",
        "",
        _markdown_table(headers, rows),
    ]
    for result, plot in zip(results, plots, strict=True):
        markdown += ["", f"## {result.corpus}", "", f"![{result.corpus}]({plot.name})"]
    markdown += _skipped_markdown(corpora)
    _write(out, command, payload, markdown)
    return payload


def stats_rows(corpora: Sequence[Corpus], stats: Sequence[CorpusStats]) -> tuple[list[str], Rows]:
    """Table 1 layout: one row per figure, one column per corpus."""
    figures: list[tuple[str, Callable[[CorpusStats], str]]] = [
        ("conversations", lambda s: str(s.conversations)),
        (
            "average turns (min-max)",
            lambda s: (
                f"{_number(s.avg_turns, '.2f')} "
                f"({_number(s.min_turns, 'g')}-{_number(s.max_turns, 'g')})"
            ),
        ),
        ("client utterances", lambda s: str(s.client_utterances)),
        ("counselor utterances", lambda s: str(s.counselor_utterances)),
        ("avg client utterance length", lambda s: _number(s.avg_client_length, ".2f")),
        ("avg counselor utterance length", lambda s: _number(s.avg_counselor_length, ".2f")),
    ]
    rows = [[label, *(cell(s) for s in stats)] for label, cell in figures]
    rows.append(["records skipped as invalid", *(str(len(c.skipped)) for c in corpora)])
    return ["", *(s.name for s in stats)], rows


def consistency_rows(
    corpora: Sequence[Corpus], results: Sequence[ConsistencyResult]
) -> tuple[list[str], Rows]:
    """One row per corpus: both groups, the t-test and what was left out."""
    headers = [
        "corpus",
        "method",
        "n",
        "mapping",
        "random",
        "t",
        "p",
        "no card",
        "invalid",
    ]
    rows = [
        [
            r.corpus,
            r.method,
            str(r.mapping.n),
            f"{_number(r.mapping.mean, '.4f')} ± {_number(r.mapping.std, '.4f')}",
            f"{_number(r.random.mean, '.4f')} ± {_number(r.random.std, '.4f')}",
            _number(r.t_statistic, ".3f"),
            _number(r.p_value, ".3g"),
            str(r.without_card),
            str(len(c.skipped)),
        ]
        for c, r in zip(corpora, results, strict=True)
    ]
    return headers, rows


def rich_table(title: str, headers: list[str], rows: Rows) -> Table:
    """The summary printed by the CLI."""
    table = Table(*headers, title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    for row in rows:
        table.add_row(*row)
    return table


def slug(name: str) -> str:
    """A file-name-safe form of a corpus name."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "corpus"


def _number(value: float, spec: str) -> str:
    return "n/a" if math.isnan(value) else format(value, spec)


def _skipped(corpus: Corpus) -> dict[str, Any]:
    return {"skipped_invalid": len(corpus.skipped), "invalid": list(corpus.skipped)}


def _skipped_markdown(corpora: Sequence[Corpus]) -> list[str]:
    lines = [f"- {c.name}: {message}" for c in corpora for message in c.skipped]
    return ["", "## Records skipped as invalid", "", *lines] if lines else []


def _markdown_table(headers: list[str], rows: Rows) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(headers), line(["---"] * len(headers)), *map(line, rows)])


def _write(out: Path, command: str, payload: dict[str, Any], markdown: list[str]) -> None:
    (out / f"{command}.json").write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
    (out / f"{command}.md").write_text("\n".join(markdown) + "\n", encoding="utf-8")
