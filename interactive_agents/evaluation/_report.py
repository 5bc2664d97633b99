"""Reports of the evaluation commands: JSON for machines, Markdown and PNGs for people.

Each report writes ``<command>.json``, ``<command>.md`` and its plots into one output
folder and returns the JSON payload; the same rows feed the Markdown table and the
summary an evaluation returns (and the CLI prints), so the two never disagree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson

from interactive_agents.corpora._readers import Corpus
from interactive_agents.evaluation._consistency import ConsistencyResult
from interactive_agents.evaluation._plots import (
    consistency_histogram,
    topic_bars,
    turns_histogram,
    wai_boxplot,
)
from interactive_agents.evaluation._significance import GroupSummary, TTest
from interactive_agents.evaluation._stats import CorpusStats
from interactive_agents.evaluation._topics import TopicResult
from interactive_agents.evaluation._wai import FACTORS, ITEMS, REVERSED, WaiResult
from interactive_agents.evaluation._wai_reliability import AlphaLevel, WaiAlpha, wai_alpha
from interactive_agents.judging._judgements import JudgeFailure, UnreadCounts
from interactive_agents.reporting._tables import markdown_table

Rows = list[list[str]]

_TITLES = {
    "overlap": "Vocabulary overlap rate (Eq. 1, docs/method.md#vocabulary-overlap-eq-1)",
    "semantic": "Semantic consistency (Eq. 2, docs/method.md#semantic-consistency-eq-2)",
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
        "# Dataset statistics (Table 1, docs/method.md#dataset-statistics-table-1)",
        "",
        *markdown_table(headers, rows),
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
        "t-test. Sample: the smallest effect (Cohen's d) the test detects with 80% power at "
        "the 5% level; a test that cannot detect a large effect (d = 0.8) is too small to "
        "read either way.",
        "",
        *markdown_table(headers, rows),
    ]
    for result, plot in zip(results, plots, strict=True):
        markdown += ["", f"## {result.corpus}", "", f"![{result.corpus}]({plot.name})"]
    markdown += _skipped_markdown(corpora)
    _write(out, command, payload, markdown)
    return payload


def topics_report(
    out: Path,
    corpora: Sequence[Corpus],
    results: Sequence[TopicResult],
    tests: Sequence[TTest],
    *,
    settings: dict[str, Any],
    run: dict[str, Any],
) -> dict[str, Any]:
    """Write ``topics.json``, ``topics.md`` and ``topics.png`` (docs/method.md, topics)."""
    out.mkdir(parents=True, exist_ok=True)
    plot = topic_bars(results, out / "topics.png")
    payload = _judged_payload("topics", corpora, results, tests, plot, settings, run)
    headers, rows = topics_rows(corpora, results)
    described = ", ".join(f"{key} {value}" for key, value in settings.items())
    markdown = [
        "# Client diversity: topic entropy (docs/method.md#client-diversity-topic-entropy)",
        "",
        f"Settings: {described}. Each round, the rater assigns topics to every dialogue's "
        "client utterances; H is the entropy in bits of the round's topic distribution "
        "(normalised: divided by log2 of the number of topics). Mean ± sample std over "
        "rounds; corpora compared by a two-tailed Student's t-test of the per-round "
        "entropies.",
        "",
        *markdown_table(headers, rows),
        *_tests_markdown(tests),
        "",
        f"![Topic distribution]({plot.name})",
    ]
    for result in results:
        markdown += ["", f"## {result.corpus}: most frequent topics", ""]
        top = sorted(
            ((share, topic) for topic, share in result.distribution.items() if share > 0),
            reverse=True,
        )[:10]
        markdown += (
            markdown_table(["topic", "share"], [[topic, f"{share:.3f}"] for share, topic in top])
            if top
            else ["No topic could be assigned."]
        )
    markdown += _judged_tail(corpora, results, run)
    _write(out, "topics", payload, markdown)
    return payload


def wai_report(
    out: Path,
    corpora: Sequence[Corpus],
    results: Sequence[WaiResult],
    tests: Sequence[TTest],
    *,
    settings: dict[str, Any],
    run: dict[str, Any],
    alpha_level: AlphaLevel = "interval",
) -> dict[str, Any]:
    """Write ``wai.json``, ``wai.md`` and ``wai.png`` (docs/method.md#wai-o-s), with each
    corpus's Krippendorff's alpha across the judge's rounds at ``alpha_level``."""
    out.mkdir(parents=True, exist_ok=True)
    plot = wai_boxplot(results, out / "wai.png")
    payload = _judged_payload("wai", corpora, results, tests, plot, settings, run)
    alphas = [wai_alpha(result, alpha_level) for result in results]
    for entry, alpha in zip(payload["corpora"], alphas, strict=True):
        entry["alpha"] = alpha_payload(alpha)
    headers, rows = wai_rows(corpora, results, alpha_level)
    described = ", ".join(f"{key} {value}" for key, value in settings.items())
    factors = "; ".join(
        f"{name.capitalize()} = items {', '.join(map(str, items))}"
        for name, items in FACTORS.items()
    )
    markdown = [
        "# Counselor evaluation: WAI-O-S (docs/method.md#wai-o-s)",
        "",
        f"Settings: {described}. Each item is rated 1-7 per call; items "
        f"{' and '.join(map(str, sorted(REVERSED)))} are reversed (8 - x); an item's score "
        "is the mean of its parsed rounds and a factor's score the mean of its four items "
        f"({factors}). Mean ± sample std over dialogues; corpora compared per factor by a "
        "two-tailed Student's t-test.",
        "",
        *markdown_table(headers, rows),
        *_tests_markdown(tests),
        "",
        f"![WAI-O-S factors]({plot.name})",
        "",
        "## Items",
        "",
        "Item scores per dialogue, after reversal, as they enter the factors.",
        "",
        *markdown_table(*wai_item_rows(results)),
        *_alpha_markdown(alphas),
    ]
    markdown += _judged_tail(corpora, results, run)
    _write(out, "wai", payload, markdown)
    return payload


UNREAD_HEADERS = ["unparsable/refused/errors"]


def unread_cells(answers: Mapping[str, UnreadCounts]) -> list[str]:
    """A corpus's judgements without a value, over all items: unparsable, refused and
    endpoint errors (``1/0/0``), with the unread share when any."""
    total = UnreadCounts(
        sum(c.judgements for c in answers.values()),
        sum(c.unparsable for c in answers.values()),
        sum(c.refused for c in answers.values()),
        sum(c.errors for c in answers.values()),
    )
    cell = f"{total.unparsable}/{total.refused}/{total.errors}"
    return [f"{cell} ({total.unread_share:.1%})" if total.unread else cell]


def topics_rows(
    corpora: Sequence[Corpus], results: Sequence[TopicResult]
) -> tuple[list[str], Rows]:
    """One row per corpus: per-round entropies, their mean and std, the judgements that
    gave no topic (unparsable, refused, endpoint errors) and the invalid records."""
    headers = ["corpus", "lang", "dialogues", "H per round", "H", "normalised"]
    headers += [*UNREAD_HEADERS, "invalid"]
    rows = [
        [
            r.corpus,
            r.language,
            str(r.dialogues),
            ", ".join(_number(x.entropy, ".3f") for x in r.rounds),
            f"{_number(r.entropy_mean, '.3f')} ± {_number(r.entropy_std, '.3f')}",
            _number(r.normalized_entropy_mean, ".3f"),
            *unread_cells(r.answers),
            str(len(c.skipped)),
        ]
        for c, r in zip(corpora, results, strict=True)
    ]
    return headers, rows


def wai_rows(
    corpora: Sequence[Corpus], results: Sequence[WaiResult], alpha_level: AlphaLevel = "interval"
) -> tuple[list[str], Rows]:
    """One row per corpus: the three factors, incomplete dialogues, failures, and the
    judge's agreement with itself across rounds (Krippendorff's alpha over all items)."""
    headers = ["corpus", "lang", "dialogues", *(f.capitalize() for f in FACTORS)]
    headers += ["incomplete", *UNREAD_HEADERS, "invalid", f"alpha ({alpha_level})"]
    rows = [
        [
            r.corpus,
            r.language,
            str(r.dialogues),
            *(_summary(r.factors[f]) for f in FACTORS),
            "/".join(str(r.incomplete[f]) for f in FACTORS),
            *unread_cells(r.answers),
            str(len(c.skipped)),
            _alpha_cell(wai_alpha(r, alpha_level)),
        ]
        for c, r in zip(corpora, results, strict=True)
    ]
    return headers, rows


def alpha_payload(alpha: WaiAlpha) -> dict[str, Any]:
    """A corpus's ``alpha`` entry in ``wai.json`` (NaN becomes null; ``reason`` says why)."""
    return {
        "level": alpha.level,
        "rounds": alpha.rounds,
        "overall": None if math.isnan(alpha.overall) else alpha.overall,
        "items": {str(k): None if math.isnan(v) else v for k, v in alpha.items.items()},
        "reason": alpha.reason,
    }


def _alpha_cell(alpha: WaiAlpha) -> str:
    if alpha.rounds == 1:
        return "n/a (needs 2+ rounds)"
    return _number(alpha.overall, ".3f")


def _alpha_markdown(alphas: Sequence[WaiAlpha]) -> list[str]:
    """Alpha per corpus, over all items and per item, and why any is missing."""
    if not alphas:
        return []
    level = alphas[0].level
    headers = ["items", *(a.corpus for a in alphas)]
    rows = [["all", *(_number(a.overall, ".3f") for a in alphas)]]
    rows += [[str(i), *(_number(a.items.get(i, math.nan), ".3f") for a in alphas)] for i in ITEMS]
    notes = [f"- {a.corpus}: {a.reason}." for a in alphas if a.reason]
    return [
        "",
        "## Judge reliability: Krippendorff's alpha across rounds",
        "",
        f"The judge's rounds are the coders, the (dialogue, item) pairs the units and the raw "
        f"1-7 ratings the values, at the {level} level; a failed call is a missing rating "
        "and a unit rated in fewer than two rounds is left out. 1 is perfect agreement, 0 "
        "what chance gives, below 0 worse than chance.",
        "",
        *markdown_table(headers, rows),
        *(["", *notes] if notes else []),
    ]


def wai_item_rows(results: Sequence[WaiResult]) -> tuple[list[str], Rows]:
    """One row per item: its factor, whether it is reversed, and each corpus's score."""
    factor_of = {item: name for name, items in FACTORS.items() for item in items}
    headers = ["item", "factor", "reversed", *(r.corpus for r in results)]
    rows = [
        [
            str(item),
            factor_of[item],
            "yes" if item in REVERSED else "",
            *(_summary(r.items[str(item)]) for r in results),
        ]
        for item in sorted(factor_of)
    ]
    return headers, rows


def tests_rows(tests: Sequence[TTest]) -> tuple[list[str], Rows]:
    """One row per t-test."""
    headers = ["metric", "a", "b", "n a", "n b", "t", "p", "sample"]
    rows = [
        [
            t.metric,
            t.a,
            t.b,
            str(t.n_a),
            str(t.n_b),
            _number(t.t_statistic, ".3f"),
            _number(t.p_value, ".3g"),
            t.sample,
        ]
        for t in tests
    ]
    return headers, rows


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
        "sample",
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
            r.sample,
            str(r.without_card),
            str(len(c.skipped)),
        ]
        for c, r in zip(corpora, results, strict=True)
    ]
    return headers, rows


def slug(name: str) -> str:
    """A file-name-safe form of a corpus name."""
    return re.sub(r"[^\w.-]+", "_", name).strip("._") or "corpus"


def _number(value: float, spec: str) -> str:
    return "n/a" if math.isnan(value) else format(value, spec)


def _summary(summary: GroupSummary) -> str:
    return f"{_number(summary.mean, '.2f')} ± {_number(summary.std, '.2f')} (n={summary.n})"


def _tests_markdown(tests: Sequence[TTest]) -> list[str]:
    if not tests:
        return []
    return [
        "",
        "## t-tests between corpora",
        "",
        *markdown_table(*tests_rows(tests)),
        "",
        "Sample: the smallest effect (Cohen's d) each test detects with 80% power at the 5% "
        "level; a test that cannot detect a large effect (d = 0.8) is too small to read "
        "either way.",
    ]


def _judged_payload(
    command: str,
    corpora: Sequence[Corpus],
    results: Sequence[TopicResult | WaiResult],
    tests: Sequence[TTest],
    plot: Path,
    settings: dict[str, Any],
    run: dict[str, Any],
) -> dict[str, Any]:
    """The JSON report of a judged evaluation: settings, run counters, results, tests."""
    return {
        "command": command,
        "settings": settings,
        "run": run,
        "corpora": [{**asdict(r), **_skipped(c)} for c, r in zip(corpora, results, strict=True)],
        "comparisons": [asdict(t) for t in tests],
        "plots": [plot.name],
    }


def _judged_tail(
    corpora: Sequence[Corpus], results: Sequence[TopicResult | WaiResult], run: dict[str, Any]
) -> list[str]:
    """What ends a judged report: the answers without a value per item, the failed
    judgements, the run's counters and verdict, skipped records."""
    return [
        *_unread_markdown(results),
        *_failures_markdown({r.corpus: r.failures for r in results}),
        *_run_markdown(run),
        *_skipped_markdown(corpora),
    ]


def _unread_markdown(results: Sequence[TopicResult | WaiResult]) -> list[str]:
    """Per corpus and item: judgements, and those unparsable, refused, or without an
    answer; none of them enters a figure above."""
    rows = [
        [
            r.corpus,
            item,
            str(c.judgements),
            str(c.unparsable),
            str(c.refused),
            str(c.errors),
            _number(c.unread_share, ".1%"),
        ]
        for r in results
        for item, c in r.answers.items()
    ]
    headers = ["corpus", "item", "judgements", "unparsable", "refused", "errors", "unread share"]
    return [
        "",
        "## Answers that could not be used",
        "",
        "Per item: judgements whose answers stayed unparsable after every attempt, that the "
        "judge refused, or that got no answer (endpoint errors). They enter no figure of "
        "this report; the unread share is (unparsable + refused) / answered.",
        "",
        *markdown_table(headers, rows),
    ]


def _failures_markdown(failures: dict[str, Sequence[JudgeFailure]], shown: int = 20) -> list[str]:
    """The judgements that gave no value (the JSON lists every one, with the answers)."""
    lines = []
    for corpus, items in failures.items():
        for failure in items[:shown]:
            lines.append(
                f"- {corpus}, dialogue {failure.dialogue_id}, {failure.item}, round "
                f"{failure.round}: {failure.error}"
            )
        if len(items) > shown:
            lines.append(f"- {corpus}: {len(items) - shown} more (see the JSON report)")
    return ["", "## Failed judgements", "", *lines] if lines else []


def _run_markdown(run: dict[str, Any]) -> list[str]:
    failure = run.get("failure")
    described = ", ".join(f"{key} {value}" for key, value in run.items() if key != "failure")
    unread = run.get("unparsable", 0) + run.get("refused", 0)
    if failure:
        verdict = f"**Not a measurement:** {failure}."
    elif unread:
        verdict = (
            f"{unread} judgements could not be read ({run.get('unread_share', 0):.1%}), "
            f"within the {run.get('max_unparsable', 0):.0%} allowed; they are left out of "
            "every figure."
        )
    else:
        verdict = "Every judgement could be read."
    return ["", f"Judge calls: {described}.", "", verdict]


def _skipped(corpus: Corpus) -> dict[str, Any]:
    return {"skipped_invalid": len(corpus.skipped), "invalid": list(corpus.skipped)}


def _skipped_markdown(corpora: Sequence[Corpus]) -> list[str]:
    lines = [f"- {c.name}: {message}" for c in corpora for message in c.skipped]
    return ["", "## Records skipped as invalid", "", *lines] if lines else []


def _write(out: Path, command: str, payload: dict[str, Any], markdown: list[str]) -> None:
    (out / f"{command}.json").write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2))
    (out / f"{command}.md").write_text("\n".join(markdown) + "\n", encoding="utf-8")
