"""The report of ``evaluate safety``: safety.json, safety_replies.jsonl, safety.md, safety.png.

``safety.json`` holds the settings, the run's counters, each corpus's shares, counts and
sessions; ``safety_replies.jsonl`` one line per counselor reply (what ``export
--exclude-safety`` reads, and what people's ratings are compared with); the Markdown
shows the summary table, the counts by severity and category and what could not be
rated; the plot shows the shares with their intervals by group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from interactive_agents.corpora._readers import Corpus
from interactive_agents.evaluation._report import (
    _failures_markdown,
    _run_markdown,
    _skipped,
    _skipped_markdown,
    _write,
)
from interactive_agents.evaluation._safety import GROUPS, MEASURES, SafetyResult, ShareEstimate
from interactive_agents.judging._safety_rubric import SAFETY_CATEGORIES, SAFETY_REPLIES, SEVERITIES
from interactive_agents.reporting._tables import markdown_table

GROUP_LABELS = {"all": "all", "with_risk": "with risk", "without_risk": "without risk"}
MEASURE_LABELS = {"critical": "≥1 critical", "major": "≥1 major or worse"}


def share_cell(estimate: ShareEstimate) -> str:
    """``12.5 % [5.0–20.0] of 40``; ``–`` for a group without sessions."""
    if estimate.share is None or estimate.lower is None or estimate.upper is None:
        return "– of 0"
    mark = "" if estimate.interval == "bootstrap" else "*"
    return (
        f"{estimate.share:.1%} [{estimate.lower:.1%}–{estimate.upper:.1%}]{mark} "
        f"of {estimate.sessions}"
    )


def safety_rows(results: Sequence[SafetyResult]) -> tuple[list[str], list[list[str]]]:
    """Three rows per corpus (all sessions, with risk, without): what was rated, what
    could not be, and the two shares."""
    headers = [
        "corpus", "lang", "sessions", "incomplete", "replies", "unrated", "sessions rated",
        *MEASURE_LABELS.values(),
    ]  # fmt: skip
    rows = [
        [
            r.corpus,
            r.language,
            str(len(r.sessions)),
            str(r.incomplete),
            str(r.replies),
            str(r.unrated),
            GROUP_LABELS[group],
            *(share_cell(r.shares[group][measure]) for measure in MEASURES),
        ]
        for r in results
        for group in GROUPS
    ]
    return headers, rows


def _count_rows(results: Sequence[SafetyResult]) -> list[str]:
    severity = markdown_table(
        ["corpus", *SEVERITIES],
        [[r.corpus, *(str(r.severities[s]) for s in SEVERITIES)] for r in results],
    )
    category = markdown_table(
        ["corpus", *SAFETY_CATEGORIES],
        [[r.corpus, *(str(r.categories[c]) for c in SAFETY_CATEGORIES)] for r in results],
    )
    return ["## Replies by severity", "", *severity, "", "## Replies by category", "", *category]


def safety_plot(results: Sequence[SafetyResult], path: Path) -> Path:
    """Each corpus's two shares per group, with their 95 % intervals."""
    figure = Figure(figsize=(max(6.4, 2.6 * len(GROUPS)), 4.4), layout="constrained")
    axes = figure.subplots(1, len(GROUPS), sharey=True)
    width = 0.8 / max(len(results), 1)
    for axis, group in zip(np.atleast_1d(axes), GROUPS, strict=True):
        for index, result in enumerate(results):
            offset = (index - (len(results) - 1) / 2) * width
            for position, measure in enumerate(MEASURES):
                estimate = result.shares[group][measure]
                if estimate.share is None or estimate.lower is None or estimate.upper is None:
                    continue
                error = [[estimate.share - estimate.lower], [estimate.upper - estimate.share]]
                axis.bar(
                    position + offset,
                    estimate.share,
                    width=width,
                    color=f"C{index % 10}",
                    yerr=error,
                    capsize=3,
                    label=result.corpus if position == 0 else None,
                )
        axis.set_xticks(range(len(MEASURES)), [MEASURE_LABELS[m] for m in MEASURES])
        axis.set_title(f"sessions {GROUP_LABELS[group]}")
        axis.set_ylim(0, 1)
    first = np.atleast_1d(axes)[0]
    first.set_ylabel("share of sessions")
    if first.get_legend_handles_labels()[0]:
        first.legend(fontsize=8)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=120)
    return path


def write_replies(out: Path, results: Sequence[SafetyResult]) -> Path:
    """``safety_replies.jsonl``: one line per counselor reply of every corpus."""
    path = out / SAFETY_REPLIES
    with path.open("wb") as handle:
        for result in results:
            for session in result.sessions:
                for reply in session.replies:
                    line = {"corpus": result.corpus, **asdict(reply)}
                    handle.write(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE))
    return path


def safety_report(
    out: Path,
    corpora: Sequence[Corpus],
    results: Sequence[SafetyResult],
    *,
    settings: dict[str, Any],
    run: dict[str, Any],
) -> dict[str, Any]:
    """Write the four files and return the JSON report's content."""
    out.mkdir(parents=True, exist_ok=True)
    plot = safety_plot(results, out / "safety.png")
    replies = write_replies(out, results)
    payload = {
        "command": "safety",
        "settings": settings,
        "run": run,
        "corpora": [{**asdict(r), **_skipped(c)} for c, r in zip(corpora, results, strict=True)],
        "plots": [plot.name],
        "replies": replies.name,
    }
    described = ", ".join(f"{key} {value}" for key, value in settings.items())
    markdown = [
        "# Counselor safety (docs/safety.md)",
        "",
        f"Settings: {described}. Each counselor reply is rated by the safety judge in "
        "every round; its severity is the upper median of its parsed rounds and a "
        "session's the worst of its replies. Shares: sessions with at least one reply "
        "at that severity or worse, among the complete sessions (every reply rated), "
        "with 95 % percentile bootstrap intervals over sessions (* : the exact "
        "Clopper-Pearson interval, where every session of the group is alike). A "
        "session is *with risk* when the risk detector finds a disclosure in its card "
        "or a client turn. A research measurement, not a clinical safety certification.",
        "",
        *markdown_table(*safety_rows(results)),
        "",
        f"![Shares of sessions]({plot.name})",
        "",
        *_count_rows(results),
        "",
        f"Per reply: `{replies.name}`.",
        *_failures_markdown({r.corpus: r.failures for r in results}),
        *_run_markdown(run),
        *_skipped_markdown(corpora),
    ]
    _write(out, "safety", payload, markdown)
    return payload
