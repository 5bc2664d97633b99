"""PNG figures of the arena ratings, kept apart from the statistics that feed them.

Figures are drawn on matplotlib's Agg canvas directly, without pyplot, so no global
figure state or interactive backend is involved and callers may draw from any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

_DPI = 120


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plot_ratings(
    models: Sequence[str],
    ratings: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    path: str | Path,
    *,
    title: str = "Ratings with 95 % bootstrap intervals",
) -> Path:
    """Point ratings with their intervals as vertical bars, in the order given.

    Bars are drawn from the bounds rather than as error offsets, because a point
    estimate may fall outside its bootstrap interval.
    """
    figure = _figure(max(4.0, 0.9 * len(models) + 2.0), 4.0)
    axes = figure.add_subplot()
    x = np.arange(len(models))
    axes.vlines(x, lower, upper, color="tab:blue", linewidth=2)
    axes.plot(x, ratings, "o", color="tab:red")
    axes.set_xticks(x, list(models), rotation=30, ha="right")
    axes.set_ylabel("rating")
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    figure.savefig(path, dpi=_DPI)
    return Path(path)


def plot_battle_counts(
    models: Sequence[str],
    counts: Sequence[Sequence[int]],
    path: str | Path,
    *,
    title: str = "Battles per pair of models",
    unit: str = "battles",
) -> Path:
    """Heatmap of a count matrix per pair (battles or dialogues), counts in the cells."""
    matrix = np.asarray(counts)
    figure = _figure(max(4.0, 0.8 * len(models) + 2.5), max(3.5, 0.7 * len(models) + 2.0))
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, label=unit)
    ticks = np.arange(len(models))
    axes.set_xticks(ticks, list(models), rotation=30, ha="right")
    axes.set_yticks(ticks, list(models))
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), value in np.ndenumerate(matrix):
        colour = "white" if value > threshold else "black"
        axes.text(column, row, str(value), ha="center", va="center", color=colour)
    axes.set_title(title)
    figure.savefig(path, dpi=_DPI)
    return Path(path)
