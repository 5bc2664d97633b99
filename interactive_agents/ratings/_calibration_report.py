"""The report of ``agreement``: ``agreement.json``, ``agreement.md`` and ``agreement.png``.

The JSON payload (:func:`calibration_payload`), the table rows shared by the terminal
and the Markdown (:func:`people_cells`, :func:`judge_cells`) and the files
(:func:`write_calibration_report`) come from one :class:`Calibration`, so they never
disagree. An undefined figure is ``null`` in the JSON, ``–`` in the tables, with its
reason beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from interactive_agents.ratings._calibration import (
    Agreement,
    Calibration,
    JudgeCalibration,
    JudgeItem,
    PeopleItem,
)
from interactive_agents.ratings._reliability import BattleReliability
from interactive_agents.ratings._reliability_report import (
    BIAS_HEADERS,
    bias_cells,
    reasons,
    reliability_payload,
)
from interactive_agents.reporting._tables import markdown_table

PEOPLE_HEADERS = ["Item", "Units", "Raters", "α (95 % CI)", "κ", "Agreement", "Note"]
JUDGE_HEADERS = [
    "Item",
    "Units",
    "Missing",
    "Unmatched",
    "α judge–people (95 % CI)",
    "α people",
    "κ",
    "Agreement",
    "Meets",
    "P(α < threshold)",
    "Offset (ρ length)",
]
DEFINITIONS = (
    "α: Krippendorff's alpha (ordinal items at the ordinal level, others nominal) with a "
    "percentile bootstrap interval over sessions (dialogues, for battles). People: every "
    "annotator of the units rated twice or more; κ is Light's kappa, the mean Cohen's kappa "
    "over pairs of annotators (quadratic weights on ordinal scales); agreement is the share "
    "of equal pairs of ratings (within one step in brackets, on ordinal scales). Judge: the "
    "judge is paired with each person who rated a unit; α of the two coders over these "
    "pairs, Cohen's kappa, agreement as above. Missing: units the judge rated without a "
    "readable value; unmatched: units people rated that the judge did not. Offset: the "
    "judge's mean rating minus people's in scale steps, and its Spearman correlation with "
    "the session's length (length bias). Sets (topics) are compared per topic, chosen or "
    "not, and pooled; their agreement is the share of equal sets, with the mean Jaccard "
    "similarity."
)


def _number(value: float | None, form: str = ".2f") -> str:
    return "–" if value is None or math.isnan(value) else format(value, form)


def _interval(point: float, lower: float, upper: float) -> str:
    if math.isnan(point):
        return "–"
    if math.isnan(lower):
        return _number(point)
    return f"{point:.2f} ({lower:.2f} – {upper:.2f})"


def _agreement_cell(agreement: Agreement) -> str:
    if agreement.pairs == 0:
        return "–"
    text = f"{agreement.agreement:.0%}"
    if agreement.within_one is not None:
        text += f" ({agreement.within_one:.0%})"
    if agreement.jaccard is not None:
        text += f", J {agreement.jaccard:.2f}"
    return text


def people_cells(row: PeopleItem) -> list[str]:
    """One item's agreement among people, in the order of :data:`PEOPLE_HEADERS`."""
    a = row.agreement
    return [
        row.spec.item,
        str(a.units),
        str(row.raters),
        _interval(a.alpha, a.alpha_lower, a.alpha_upper),
        _number(a.kappa),
        _agreement_cell(a),
        a.reason or "",
    ]


def judge_cells(row: JudgeItem, people: PeopleItem) -> list[str]:
    """One item's judge against people, in the order of :data:`JUDGE_HEADERS`."""
    a = row.agreement
    meets = "–" if row.meets is None else ("yes" if row.meets else "no")
    offset = "–"
    if row.offset is not None:
        offset = f"{row.offset.mean:+.2f}"
        if not math.isnan(row.offset.length_rho):
            offset += f" ({row.offset.length_rho:+.2f}, p {row.offset.length_p:.2g})"
    return [
        row.spec.item,
        str(a.units),
        str(row.missing),
        str(row.unmatched),
        _interval(a.alpha, a.alpha_lower, a.alpha_upper),
        _number(people.agreement.alpha),
        _number(a.kappa),
        _agreement_cell(a),
        meets,
        _number(a.below_threshold),
        offset,
    ]


def verdict(judge: JudgeCalibration, threshold: float) -> str:
    """One sentence: on how many items the judge reaches the threshold."""
    decided = [row for row in judge.items if row.meets is not None]
    met = [row for row in decided if row.meets]
    text = f"{judge.name}: alpha ≥ {threshold:g} on {len(met)} of {len(decided)} measurable items"
    headline = [row for row in judge.items if row.spec.pooled and row.meets is not None]
    for row in headline:
        text += (
            f"; {row.spec.item}: α = {row.agreement.alpha:.2f} "
            f"({'meets' if row.meets else 'below'} the threshold)"
        )
    undecided = len(judge.items) - len(decided)
    if undecided:
        text += f"; {undecided} items not measurable (see the reasons)"
    return text + "."


def _json_number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def _agreement_payload(agreement: Agreement) -> dict[str, Any]:
    return {key: _clean(value) for key, value in asdict(agreement).items()}


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def calibration_payload(calibration: Calibration, settings: dict[str, Any]) -> dict[str, Any]:
    """``agreement.json``: the settings, people's agreement, and each judge's."""
    people = {(row.spec.rubric, row.spec.item): row for row in calibration.people}
    payload: dict[str, Any] = {
        "settings": settings,
        "threshold": calibration.threshold,
        "definitions": DEFINITIONS,
        "people": [
            {
                "rubric": row.spec.rubric,
                "item": row.spec.item,
                "level": row.spec.metric,
                "scale": list(row.spec.scale),
                "pooled": row.spec.pooled,
                "raters": row.raters,
                **_agreement_payload(row.agreement),
            }
            for row in calibration.people
        ],
        "judges": [
            {
                "judge": judge.name,
                "verdict": verdict(judge, calibration.threshold),
                "items": [
                    {
                        "rubric": row.spec.rubric,
                        "item": row.spec.item,
                        "level": row.spec.metric,
                        "pooled": row.spec.pooled,
                        "missing": row.missing,
                        "unmatched": row.unmatched,
                        "meets": row.meets,
                        "people_alpha": _json_number(
                            people[(row.spec.rubric, row.spec.item)].agreement.alpha
                        ),
                        "offset": None if row.offset is None else _clean(asdict(row.offset)),
                        **_agreement_payload(row.agreement),
                    }
                    for row in judge.items
                ],
                "biases": _biases(judge.biases),
            }
            for judge in calibration.judges
        ],
        "people_biases": _biases(calibration.people_biases),
    }
    return payload


def _biases(reliability: BattleReliability | None) -> Any:
    return None if reliability is None else _clean(reliability_payload(reliability)["judges"])


def calibration_markdown(
    calibration: Calibration, settings: dict[str, Any], plot: str
) -> list[str]:
    """``agreement.md``: the verdicts, the tables, the plot, the confusion matrices."""
    people = {(row.spec.rubric, row.spec.item): row for row in calibration.people}
    described = ", ".join(f"{key} {value}" for key, value in settings.items())
    lines = [
        "# Agreement: people with people, and the judge with people",
        "",
        f"Settings: {described}.",
        "",
        *(f"- {verdict(judge, calibration.threshold)}" for judge in calibration.judges),
        "",
        DEFINITIONS,
        "",
        "## People",
        "",
        *markdown_table(PEOPLE_HEADERS, [people_cells(row) for row in calibration.people]),
        "",
    ]
    for judge in calibration.judges:
        rows = [judge_cells(row, people[(row.spec.rubric, row.spec.item)]) for row in judge.items]
        lines += [f"## {judge.name}", "", *markdown_table(JUDGE_HEADERS, rows), ""]
        lines += _bias_markdown(judge.biases)
        lines += [reason for row in judge.items if (reason := _length_reason(row)) is not None]
    lines += _bias_markdown(calibration.people_biases, "People's position and length bias")
    lines += [f"![Alpha per item]({plot})", "", "## Confusion matrices", ""]
    for judge in calibration.judges:
        for row in judge.items:
            if row.agreement.pairs:
                lines += _confusion_markdown(
                    f"{judge.name}, {row.spec.item} (rows: judge, columns: people)",
                    row.spec.scale,
                    row.agreement.confusion,
                )
    for among in calibration.people:
        if among.agreement.pairs:
            lines += _confusion_markdown(
                f"People, {among.spec.item} (each pair in both orders)",
                among.spec.scale,
                among.agreement.confusion,
            )
    return lines


def _length_reason(row: JudgeItem) -> str | None:
    if row.offset is None or row.offset.reason is None:
        return None
    return f"- Length bias on {row.spec.item}: {row.offset.reason}."


def _bias_markdown(
    reliability: BattleReliability | None, title: str = "Position and length bias"
) -> list[str]:
    if reliability is None:
        return []
    return [
        f"### {title}",
        "",
        *markdown_table(BIAS_HEADERS, [bias_cells(row) for row in reliability.judges]),
        "",
        *(f"- {line}" for line in reasons(reliability)),
        "",
    ]


def _confusion_markdown(title: str, scale: Sequence[str], matrix: list[list[int]]) -> list[str]:
    rows = [[label, *map(str, counts)] for label, counts in zip(scale, matrix, strict=True)]
    return [f"**{title}**", "", *markdown_table(["", *scale], rows), ""]


def plot_alphas(calibration: Calibration, path: Path) -> Path:
    """Alpha per item with its interval: people, and each judge with people; the threshold
    as a dashed line."""
    items = [row.spec.item for row in calibration.people]
    series: list[tuple[str, list[tuple[float, float, float]]]] = [
        ("people", [_triple(row.agreement) for row in calibration.people])
    ]
    series += [
        (judge.name, [_triple(row.agreement) for row in judge.items])
        for judge in calibration.judges
    ]
    figure = Figure(
        figsize=(7.5, max(3.0, 0.32 * len(items) * len(series) + 1.5)), layout="constrained"
    )
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    step = 1.0 / (len(series) + 1)
    y = np.arange(len(items), dtype=float)
    for k, (name, values) in enumerate(series):
        offset = y + (k - (len(series) - 1) / 2) * step
        points = np.array(values, dtype=float).reshape(-1, 3)
        axes.hlines(offset, points[:, 1], points[:, 2], linewidth=2, color=f"C{k}")
        axes.plot(points[:, 0], offset, "o", color=f"C{k}", label=Path(name).name)
    axes.axvline(calibration.threshold, linestyle="--", color="grey",
                 label=f"threshold {calibration.threshold:g}")  # fmt: skip
    axes.set_yticks(y, items)
    axes.invert_yaxis()
    axes.set_xlabel("Krippendorff's alpha (95 % bootstrap interval)")
    lowest = np.nanmin([v[1] for _, values in series for v in values] + [-0.2])
    axes.set_xlim(lowest - 0.05, 1.05)
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="lower left", fontsize="small")
    figure.savefig(path, dpi=120)
    return path


def _triple(agreement: Agreement) -> tuple[float, float, float]:
    return agreement.alpha, agreement.alpha_lower, agreement.alpha_upper


def write_calibration_report(
    out: str | Path, calibration: Calibration, settings: dict[str, Any]
) -> dict[str, Any]:
    """Write ``agreement.json``, ``agreement.md`` and ``agreement.png``; return the payload."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    plot = plot_alphas(calibration, folder / "agreement.png")
    payload = calibration_payload(calibration, settings)
    payload["plots"] = [plot.name]
    (folder / "agreement.json").write_bytes(
        orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    markdown = calibration_markdown(calibration, settings, plot.name)
    (folder / "agreement.md").write_text("\n".join(markdown) + "\n", encoding="utf-8")
    return payload
