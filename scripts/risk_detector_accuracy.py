"""The risk detector's precision and recall on the hand-labelled real posts.

    python scripts/risk_detector_accuracy.py [--reference ../shared/data/reference]

Reads ``tests/fixtures/risk_labels.jsonl`` (labels, the sampling and the guide:
``tests/fixtures/risk_labels.md``), checks each labelled post against the reference
pools by its SHA-1, runs the Chinese detector of ``actors/risk.zh.toml`` on every post
and prints one Markdown table per labelled set, the figures quoted in docs/safety.md.
Weights: each post stands for its stratum's pool posts (the keyword stratum is recomputed
from the pools with the guide's keyword list) divided by the posts drawn from it.
"""

from __future__ import annotations

import argparse
import hashlib
from collections import Counter
from pathlib import Path

import orjson

from interactive_agents.evaluation import DetectorScore, LabelledText, score_risk_detector
from interactive_agents.method import load_risk_detector

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "fixtures" / "risk_labels.jsonl"
KEYWORDS = (
    "死", "自杀", "轻生", "自残", "割", "跳楼", "伤害", "杀", "打我", "被打", "家暴", "虐待",
    "性侵", "猥亵", "强奸", "报复", "消失", "活着", "解脱", "霸凌", "欺负",
)  # fmt: skip
SETS = ("development", "heldout")


def labelled_sets(reference: Path) -> dict[str, list[LabelledText]]:
    """Each labelled set as texts with their labels and stratum weights."""
    pools = {
        split: orjson.loads((reference / f"client_pool_{split}.json").read_bytes())
        for split in ("train", "test")
    }
    rows = [orjson.loads(line) for line in LABELS.read_bytes().splitlines() if line.strip()]
    keyword = {
        (split, index)
        for split, posts in pools.items()
        for index, post in enumerate(posts)
        if any(word in post for word in KEYWORDS)
    }
    sizes = {"keyword": len(keyword), "rest": sum(map(len, pools.values())) - len(keyword)}
    sets: dict[str, list[LabelledText]] = {}
    for name in SETS:
        members = [row for row in rows if row["set"] == name]
        drawn = Counter(row["stratum"] for row in members)
        texts = []
        for row in members:
            post = pools[row["split"]][row["index"]]
            if hashlib.sha1(post.encode()).hexdigest()[:12] != row["sha1"]:
                raise SystemExit(f"{row['split']}[{row['index']}] is not the post labelled")
            weight = sizes[row["stratum"]] / drawn[row["stratum"]]
            texts.append(LabelledText(post, frozenset(row["risk"]), weight))
        sets[name] = texts
        for stratum, count in drawn.items():  # the next set is drawn from what is left
            sizes[stratum] -= count
    return sets


def _cell(value: float | None, interval: tuple[float, float] | None = None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" + ("" if interval is None else f" ({interval[0]:.2f}–{interval[1]:.2f})")


def table(scores: list[DetectorScore]) -> list[str]:
    lines = [
        "| risk | labelled | found | TP | FP | FN | precision (95 % CI) | recall (95 % CI) "
        "| weighted precision | weighted recall |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        labelled, found = s.true_positives + s.false_negatives, s.true_positives + s.false_positives
        lines.append(
            f"| {s.category} | {labelled} | {found} | {s.true_positives} | {s.false_positives} "
            f"| {s.false_negatives} | {_cell(s.precision, s.precision_interval)} "
            f"| {_cell(s.recall, s.recall_interval)} | {_cell(s.weighted_precision)} "
            f"| {_cell(s.weighted_recall)} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=ROOT.parent / "shared/data/reference")
    args = parser.parse_args()
    detector = load_risk_detector("zh")
    assert detector is not None
    for name, texts in labelled_sets(args.reference).items():
        print(f"\n{name}: {len(texts)} posts, {sum(1 for t in texts if t.risk)} with a risk\n")
        print("\n".join(table(score_risk_detector(detector, texts))))


if __name__ == "__main__":
    main()
