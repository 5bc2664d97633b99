"""The judge-reliability part of the ratings report: JSON, table rows and Markdown.

Shared by ``ratings.json`` / ``elo --json`` (:func:`reliability_payload`), the terminal
tables and ``report.md`` (:func:`bias_cells`, :func:`length_control_cells`), so the three
never disagree. Undefined figures are ``null`` in the JSON with a ``reason`` beside them.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from interactive_agents.ratings._judge_bias import LengthControlledRatings
from interactive_agents.ratings._reliability import BattleReliability, JudgeBias
from interactive_agents.reporting._tables import markdown_table

BIAS_HEADERS = [
    "Judge",
    "Both orders",
    "Changed",
    "Position bias",
    "First shown",
    "With lengths",
    "Decided, unequal",
    "Longer won",
    "Length bias (p)",
]
LENGTH_CONTROL_HEADERS = ["Model", "BT", "BT length-controlled", "Change"]

DEFINITIONS = (
    "Position bias: among a judge's selections judged in both presentation orders with a "
    "readable choice in both, the share whose chosen bot changed with the order (0 for a "
    "consistent judge, 1 for one that always picks the same slot); first shown: the share "
    "of readable judgements that chose the candidate shown first (0.5 without bias). A tie "
    "names no side and counts as no readable choice. Length bias: among decided battles "
    "(winner a or b) whose replies differ in length (tokens: Han characters and words), "
    "the share won by the longer reply, with a two-sided binomial test against 0.5. "
    "Length-controlled Bradley-Terry (chatbot-arena's style control): logit P(a wins) = "
    "ln 10 · (r_a − r_b) + γ · x, x = (len_a − len_b) / (len_a + len_b) divided by its "
    "standard deviation over the battles; the plain fit beside it uses the same battles."
)


def _share(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.1%}"


def bias_cells(row: JudgeBias) -> list[str]:
    """One judge's row, in the order of :data:`BIAS_HEADERS`."""
    position, length = row.position, row.length
    p_value = "" if math.isnan(length.p_value) else f" (p = {length.p_value:.3g})"
    return [
        row.judge,
        str(position.both_orders),
        str(position.changed),
        _share(position.rate),
        _share(position.first_shown_rate),
        str(row.with_lengths),
        str(length.decided),
        str(length.longer_won),
        _share(length.rate) + p_value,
    ]


def reasons(reliability: BattleReliability) -> list[str]:
    """Why a figure is missing, one sentence per judge and figure."""
    lines = []
    for row in reliability.judges:
        if row.position_reason:
            lines.append(f"Position bias of {row.judge}: {row.position_reason}.")
        if row.length_reason:
            lines.append(f"Length bias of {row.judge}: {row.length_reason}.")
    return lines


def _ordered(fit: LengthControlledRatings) -> list[str]:
    return sorted(fit.models, key=lambda model: (-fit.controlled[model], model))


def length_control_cells(fit: LengthControlledRatings) -> list[list[str]]:
    """One row per bot, best controlled rating first, in :data:`LENGTH_CONTROL_HEADERS`."""
    return [
        [
            model,
            f"{fit.plain[model]:.0f}",
            f"{fit.controlled[model]:.0f}",
            f"{fit.controlled[model] - fit.plain[model]:+.0f}",
        ]
        for model in _ordered(fit)
    ]


def length_coefficient_meaning(fit: LengthControlledRatings) -> str:
    """What γ says, in words and with this fit's numbers."""
    gamma = fit.length_coefficient
    return (
        f"γ = {gamma:.3f}: a reply longer than the other by one standard deviation "
        f"({fit.spread:.3f}) of the normalised length difference (len_a − len_b) / "
        f"(len_a + len_b) has {math.exp(gamma):.2f} times the odds of winning at equal "
        "ratings (γ > 0: the judges favour longer replies, < 0 shorter, 0 no preference)."
    )


def reliability_payload(reliability: BattleReliability) -> dict[str, Any]:
    """The ``judge_reliability`` entry of ``ratings.json``."""
    control = reliability.length_control
    fit = control.fit
    controlled: dict[str, Any] = {
        "battles": 0 if fit is None else fit.battles,
        "without_lengths": control.without_lengths,
        "length_coefficient": None if fit is None else fit.length_coefficient,
        "length_spread": None if fit is None else fit.spread,
        "odds_ratio": None if fit is None else math.exp(fit.length_coefficient),
        "meaning": None if fit is None else length_coefficient_meaning(fit),
        "models": []
        if fit is None
        else [
            {
                "model": model,
                "bt": fit.plain[model],
                "bt_length_controlled": fit.controlled[model],
                "change": fit.controlled[model] - fit.plain[model],
            }
            for model in _ordered(fit)
        ],
        "reason": control.reason,
    }
    return {
        "definitions": DEFINITIONS,
        "judges": [
            {
                "judge": row.judge,
                "battles": row.battles,
                "position_bias": {**asdict(row.position), "reason": row.position_reason},
                "length_bias": {
                    "with_lengths": row.with_lengths,
                    **asdict(row.length),
                    "reason": row.length_reason,
                },
            }
            for row in reliability.judges
        ],
        "length_controlled_bt": controlled,
    }


def reliability_markdown(reliability: BattleReliability) -> list[str]:
    """The report's "Judge reliability" section."""
    control = reliability.length_control
    lines = [
        "## Judge reliability",
        "",
        DEFINITIONS,
        "",
        *markdown_table(BIAS_HEADERS, [bias_cells(row) for row in reliability.judges]),
        "",
        *(f"- {line}" for line in reasons(reliability)),
        "",
        "## Length-controlled Bradley-Terry",
        "",
    ]
    if control.fit is None:
        return [*lines, f"Not fitted: {control.reason}.", ""]
    return [
        *lines,
        f"{control.fit.battles} battles with reply lengths; {control.without_lengths} "
        "readable battles without lengths left out of both columns.",
        length_coefficient_meaning(control.fit),
        "",
        *markdown_table(LENGTH_CONTROL_HEADERS, length_control_cells(control.fit)),
        "",
    ]
