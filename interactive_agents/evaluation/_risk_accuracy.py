"""How well the risk detector finds risk, measured against hand labels (docs/safety.md).

For each risk category, and for *any* risk, a text is a true positive when the detector
and the label both find the category in it, and so on. Precision and recall come with
95 % Wilson score intervals, and, when the labelled texts were drawn in strata (more
posts with risk keywords than without), with estimates weighted back to the pool: each
text counts for the number of pool texts it stands for. A figure the labels cannot give
(no positive found, or none labelled) is None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from interactive_agents.method._risk import RISK_CATEGORIES, RiskDetector


@dataclass(frozen=True, slots=True)
class LabelledText:
    """A text, the risk categories a person found in it, and the pool texts it stands for."""

    text: str
    risk: frozenset[str]
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class DetectorScore:
    """The detector on one category (or ``any``) over the labelled texts."""

    category: str
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    precision: float | None
    precision_interval: tuple[float, float] | None
    recall: float | None
    recall_interval: tuple[float, float] | None
    weighted_precision: float | None
    weighted_recall: float | None


def _ratio(hits: float, total: float) -> float | None:
    return hits / total if total else None


def _wilson(hits: int, total: int) -> tuple[float, float] | None:
    if not total:
        return None
    from scipy.stats import binomtest  # the eval extra

    interval = binomtest(hits, total).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)


def score_risk_detector(
    detector: RiskDetector, items: Sequence[LabelledText]
) -> list[DetectorScore]:
    """Precision and recall per risk category and for any risk, in that order."""
    found = [frozenset(cue.category for cue in detector.scan(item.text)) for item in items]
    scores = []
    for category in (*RISK_CATEGORIES, "any"):
        counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        weighted = {"tp": 0.0, "fp": 0.0, "fn": 0.0, "tn": 0.0}
        for item, detected in zip(items, found, strict=True):
            labelled = bool(item.risk) if category == "any" else category in item.risk
            flagged = bool(detected) if category == "any" else category in detected
            cell = ("t" if labelled == flagged else "f") + ("p" if flagged else "n")
            counts[cell] += 1
            weighted[cell] += item.weight
        tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
        scores.append(
            DetectorScore(
                category,
                tp,
                fp,
                fn,
                counts["tn"],
                _ratio(tp, tp + fp),
                _wilson(tp, tp + fp),
                _ratio(tp, tp + fn),
                _wilson(tp, tp + fn),
                _ratio(weighted["tp"], weighted["tp"] + weighted["fp"]),
                _ratio(weighted["tp"], weighted["tp"] + weighted["fn"]),
            )
        )
    return scores
