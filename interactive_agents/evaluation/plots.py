"""PNG figures of the evaluation reports.

Drawn on matplotlib's Agg canvas through the object API (no pyplot): no display is
needed, no global figure state is kept, and nothing here computes a statistic.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .consistency import ConsistencyResult
from .corpora import Corpus
from .stats import dialogue_turns

METRIC_LABELS = {"overlap": "vocabulary overlap rate", "semantic": "cosine similarity"}


def consistency_histogram(result: ConsistencyResult, path: Path) -> Path:
    """Mapping and random groups on shared bins, like Figure 2a of the paper."""
    mapping = np.array([s.mapping for s in result.scores])
    random = np.array([s.random for s in result.scores])
    bins = np.histogram_bin_edges(np.concatenate([mapping, random]), bins="auto").tolist()
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    axes.hist(mapping, bins=bins, alpha=0.6, label=f"mapping (mean {result.mapping.mean:.3f})")
    axes.hist(random, bins=bins, alpha=0.6, label=f"random (mean {result.random.mean:.3f})")
    axes.set_xlabel(METRIC_LABELS.get(result.metric, result.metric))
    axes.set_ylabel("dialogues")
    axes.set_title(f"{result.corpus}: p = {result.p_value:.3g}")
    axes.legend()
    return _save(figure, path)


def turns_histogram(corpora: Sequence[Corpus], path: Path) -> Path:
    """Turns per conversation of each corpus, on shared integer-wide bins."""
    turns = [np.array([dialogue_turns(d) for d in c.dialogues]) for c in corpora]
    everything = np.concatenate([np.zeros(1), *turns])
    bins = np.arange(0.0, float(everything.max()) + 1.5).tolist()
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    for corpus, values in zip(corpora, turns, strict=True):
        axes.hist(values, bins=bins, alpha=0.6, label=corpus.name)
    axes.set_xlabel("turns per conversation")
    axes.set_ylabel("conversations")
    axes.legend()
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=120)
    return path
