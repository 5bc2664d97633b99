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
from matplotlib.patches import Patch

from interactive_agents.corpora._readers import Corpus
from interactive_agents.evaluation._consistency import ConsistencyResult
from interactive_agents.evaluation._stats import dialogue_turns
from interactive_agents.evaluation._topics import TopicResult
from interactive_agents.evaluation._wai import FACTORS, WaiResult

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


def topic_bars(results: Sequence[TopicResult], path: Path) -> Path:
    """Each corpus's share of every topic (all rounds pooled), bars side by side."""
    ids = list(results[0].distribution) if results else []
    positions = np.arange(len(ids), dtype=np.float64)
    width = 0.8 / max(len(results), 1)
    figure = Figure(figsize=(max(6.4, 0.22 * len(ids) + 2), 5.2), layout="constrained")
    axes = figure.add_subplot()
    for index, result in enumerate(results):
        shares = [result.distribution.get(topic, 0.0) for topic in ids]
        shares = [0.0 if np.isnan(share) else share for share in shares]
        label = f"{result.corpus} (H = {result.entropy_mean:.2f} ± {result.entropy_std:.2f} bits)"
        offset = (index - (len(results) - 1) / 2) * width
        axes.bar(positions + offset, shares, width=width, label=label)
    axes.set_xticks(positions, ids, rotation=90, fontsize=7)
    axes.set_xlim(-0.6, len(ids) - 0.4)
    axes.set_ylabel("share of topic assignments")
    axes.set_title("Topic distribution of the client utterances")
    axes.legend()
    return _save(figure, path)


def wai_boxplot(results: Sequence[WaiResult], path: Path) -> Path:
    """Goal, Task and Bond scores per dialogue, one box per corpus, like Figure 4."""
    colours = [f"C{index % 10}" for index in range(len(results))]
    width = 0.8 / max(len(results), 1)
    figure = Figure(figsize=(max(6.4, 1.2 * len(results) + 4), 4.6), layout="constrained")
    axes = figure.add_subplot()
    for index, result in enumerate(results):
        offset = (index - (len(results) - 1) / 2) * width
        data, positions = [], []
        for group, factor in enumerate(FACTORS):
            values = result.factor_values(factor)
            if values:
                data.append(values)
                positions.append(group + offset)
        if not data:
            continue
        boxes = axes.boxplot(
            data,
            positions=positions,
            widths=width * 0.85,
            patch_artist=True,
            showmeans=True,
            medianprops={"color": "black"},
            meanprops={"marker": "^", "markerfacecolor": "white", "markeredgecolor": "black"},
        )
        for box in boxes["boxes"]:
            box.set_facecolor(colours[index])
            box.set_alpha(0.6)
    axes.set_xticks(range(len(FACTORS)), [factor.capitalize() for factor in FACTORS])
    axes.set_xlim(-0.6, len(FACTORS) - 0.4)
    axes.set_ylim(0.8, 7.2)
    axes.set_ylabel("WAI-O-S factor score (1-7)")
    axes.set_title("Working alliance (WAI-O-S) per dialogue")
    handles = [Patch(facecolor=colour, alpha=0.6) for colour in colours]
    axes.legend(handles, [result.corpus for result in results], loc="lower right")
    return _save(figure, path)


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=120)
    return path
