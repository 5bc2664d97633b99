"""The quality flags and the terminator against sessions of the embedded models labelled
by hand (tests/fixtures/quality_labels: the guide, the sessions, the labels).

The figures of docs/quality.md#measured-precision-and-recall come from the command this
test runs, on four sets: the 201 sessions of the first two rounds (``en.jsonl``,
``zh.jsonl``), the 111 of the third (``fresh_*.jsonl``) and the 102 of the fourth
(``round4_*.jsonl``), each labelled blind and later read to change the rules, so
development sets now, on which the rules meet the issue's targets (precision 0.8 and
recall 0.9 for role_flip, echo, repetition and prompt_leakage); and the fifth round
(``round5_*.jsonl``), labelled blind while the present rules were written and never read
for them: the honest figures. The floors (the figures measured on 2026-12-06, rounded
down) keep all four from falling: one more miss or one more wrong flag of any of them
fails.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from interactive_agents.cli import main

from .support import FIXTURES

LABELLED = FIXTURES / "quality_labels"
SETS = {  # set: (its corpora, its labels)
    "rounds 1-2": (("en.jsonl", "zh.jsonl"), "labels.jsonl"),
    "round 3": (("fresh_en.jsonl", "fresh_zh.jsonl"), "fresh_labels.jsonl"),
    "round 4": (("round4_en.jsonl", "round4_zh.jsonl"), "round4_labels.jsonl"),
    "round 5": (("round5_en.jsonl", "round5_zh.jsonl"), "round5_labels.jsonl"),
}
SPLITS = {
    "rounds 1-2": "development",
    "round 3": "development",
    "round 4": "development",
    "round 5": "held-out",
}
FLOORS = {  # set: {flag: (least precision, least recall)}
    "rounds 1-2": {
        "role_flip": (1.0, 0.91),
        "echo": (0.89, 0.95),
        "repetition": (0.8, 0.94),
        "prompt_leakage": (0.93, 0.93),
        "degenerate": (0.97, 0.94),
        "template_token": (1.0, 1.0),
        "language_drift": (0.88, 1.0),
    },
    "round 3": {
        "role_flip": (0.98, 0.98),
        "echo": (0.9, 0.9),
        "repetition": (0.88, 0.94),
        "prompt_leakage": (1.0, 0.94),
        "degenerate": (0.98, 0.76),
        "template_token": (1.0, 1.0),
        "language_drift": (1.0, 1.0),
        "premature_closure": (0.9, 0.9),
    },
    "round 4": {
        "role_flip": (1.0, 0.96),
        "echo": (0.9, 1.0),
        "repetition": (0.93, 0.91),
        "prompt_leakage": (0.88, 0.93),
        "degenerate": (1.0, 0.77),
        "template_token": (1.0, 1.0),
        "language_drift": (1.0, 1.0),
        "premature_closure": (1.0, 0.8),
    },
    "round 5": {
        "role_flip": (0.98, 0.9),
        "echo": (0.82, 0.89),
        "repetition": (0.86, 0.97),
        "prompt_leakage": (0.92, 0.92),
        "degenerate": (1.0, 0.65),
        "template_token": (1.0, 1.0),
        "language_drift": (1.0, 1.0),
        "premature_closure": (0.85, 0.85),
    },
}
TARGETS = {"role_flip", "echo", "repetition", "prompt_leakage"}  # precision 0.8, recall 0.9
LABELLED_SESSIONS = 200


def _evaluate(corpora: tuple[str, ...], labels: Path, out: Path) -> dict[str, Any]:
    """``evaluate quality`` on labelled corpora, with their labels: the JSON."""
    args = [
        "evaluate", "quality", *(str(LABELLED / name) for name in corpora),
        "--labels", str(labels), "--out", str(out), "--json",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


@pytest.fixture(scope="module", params=sorted(SETS))
def measured(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``evaluate quality`` on one labelled set, with its labels: (set, the JSON)."""
    corpora, labels = SETS[request.param]
    out = tmp_path_factory.mktemp("labelled")
    return request.param, _evaluate(corpora, LABELLED / labels, out)


def _lines(name: str) -> list[dict[str, Any]]:
    lines = (LABELLED / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_the_labelled_set_is_what_the_issue_asks_for() -> None:
    labels = [label for _, name in SETS.values() for label in _lines(name)]
    sessions = [s for corpora, _ in SETS.values() for name in corpora for s in _lines(name)]
    assert len(labels) >= LABELLED_SESSIONS and len(sessions) == len(labels)
    assert len({s["id"] for s in sessions}) == len(sessions)
    assert {s["id"] for s in sessions} == {label["id"] for label in labels}
    assert {s["language"] for s in sessions} == {"zh", "en"}
    assert len({s["model"] for s in sessions}) == 4
    assert len({s["recipe"] for s in sessions}) >= 3
    guide = (LABELLED / "GUIDE.md").read_text(encoding="utf-8")
    for flag in ("echo", "repetition", "role_flip", "prompt_leakage", "degenerate"):
        assert f"## {flag}" in guide
    # Each set says whether it was read to write the rules (README.md), and every flag
    # of the targets is present often enough in each for its figures to mean something.
    for round_, (_, name) in SETS.items():
        assert {label["split"] for label in _lines(name)} == {SPLITS[round_]}
        present = Counter(n for label in _lines(name) for n, on in label["labels"].items() if on)
        assert all(present[flag] >= 10 for flag in TARGETS), (round_, present)


def test_flag_precision_and_recall_do_not_fall(measured: tuple[str, dict[str, Any]]) -> None:
    round_, payload = measured
    rows = {r["flag"]: r for r in payload["measured"]["flags"] if r["split"] == "all"}
    for flag, (least_precision, least_recall) in FLOORS[round_].items():
        assert rows[flag]["precision"] >= least_precision, rows[flag]
        assert rows[flag]["recall"] >= least_recall, rows[flag]


def test_the_default_terminator_ends_sessions_where_they_end(tmp_path: Path) -> None:
    """On every labelled session at once: the default (``farewell``, with the sign-offs)
    ends fewer sessions too early than the paper's substring match, and ends most of
    the sessions that close at their first closing."""
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "".join((LABELLED / name).read_text(encoding="utf-8") for _, name in SETS.values()),
        encoding="utf-8",
    )
    corpora = tuple(name for names, _ in SETS.values() for name in names)
    payload = _evaluate(corpora, labels, tmp_path / "out")
    modes = {r["mode"]: r for r in payload["measured"]["terminator"]}
    farewell, substring = modes["farewell"], modes["substring"]
    assert farewell["premature"] * 2 <= substring["premature"]
    assert farewell["closing"] >= 10 and farewell["missed"] * 3 <= farewell["closing"]
    assert substring["missed"] * 2 > substring["closing"]  # the paper's phrases hold no sign-off
