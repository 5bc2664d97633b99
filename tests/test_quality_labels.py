"""The quality flags and the terminator against sessions of the embedded models labelled
by hand (tests/fixtures/quality_labels: the guide, the sessions, the labels).

The figures of docs/quality.md#measured-precision-and-recall come from the command this
test runs; the floors below (the figures measured on 2026-12-06, 201 sessions, rounded
down) keep them from falling: one more miss or one more wrong flag of any of them fails.
All 201 sessions were read while the rules were written (``split: development``), so
these are development figures: they meet the issue's targets (precision 0.8 and recall
0.9 for role_flip, echo, repetition and prompt_leakage) by construction, and the honest
figures are those of a held-out set labelled without the rules in view.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner

from interactive_agents.cli import main

from .support import FIXTURES

LABELLED = FIXTURES / "quality_labels"
FLOORS = {  # flag: (least precision, least recall) on every labelled session
    "role_flip": (1.0, 0.9),
    "echo": (0.84, 0.95),
    "repetition": (0.81, 0.91),
    "prompt_leakage": (0.93, 0.93),
    "degenerate": (0.99, 0.88),
    "template_token": (1.0, 1.0),
    "language_drift": (0.88, 1.0),
}
TARGETS = {"role_flip", "echo", "repetition", "prompt_leakage"}  # precision 0.8, recall 0.9
LABELLED_SESSIONS = 201


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``evaluate quality`` on the labelled sessions, with the labels."""
    out = tmp_path_factory.mktemp("labelled")
    args = [
        "evaluate", "quality", str(LABELLED / "en.jsonl"), str(LABELLED / "zh.jsonl"),
        "--labels", str(LABELLED / "labels.jsonl"), "--out", str(out), "--json",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def _labels() -> list[dict[str, Any]]:
    lines = (LABELLED / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_the_labelled_set_is_what_the_issue_asks_for() -> None:
    labels = _labels()
    sessions = [
        json.loads(line)
        for name in ("en.jsonl", "zh.jsonl")
        for line in (LABELLED / name).read_text(encoding="utf-8").splitlines()
    ]
    assert len(labels) >= LABELLED_SESSIONS and len(sessions) == len(labels)
    assert {s["id"] for s in sessions} == {label["id"] for label in labels}
    assert {s["language"] for s in sessions} == {"zh", "en"}
    assert len({s["model"] for s in sessions}) == 4
    assert len({s["recipe"] for s in sessions}) >= 3
    guide = (LABELLED / "GUIDE.md").read_text(encoding="utf-8")
    for flag in ("echo", "repetition", "role_flip", "prompt_leakage", "degenerate"):
        assert f"## {flag}" in guide
    # Every flag of the targets is present often enough for its figures to mean something.
    present = Counter(name for label in labels for name, on in label["labels"].items() if on)
    assert all(present[flag] >= 10 for flag in TARGETS), present


@pytest.mark.parametrize("flag", sorted(FLOORS))
def test_flag_precision_and_recall_do_not_fall(measured: dict[str, Any], flag: str) -> None:
    (row,) = [r for r in measured["measured"]["flags"] if r["flag"] == flag and r["split"] == "all"]
    least_precision, least_recall = FLOORS[flag]
    assert row["precision"] >= least_precision, row
    assert row["recall"] >= least_recall, row


def test_the_target_flags_meet_the_issues_targets(measured: dict[str, Any]) -> None:
    rows = [r for r in measured["measured"]["flags"] if r["flag"] in TARGETS]
    development = [r for r in rows if r["split"] == "development"]
    assert {r["flag"] for r in development} == TARGETS
    for row in development:
        assert row["precision"] >= 0.8 and row["recall"] >= 0.9, row


def test_the_default_terminator_ends_fewer_sessions_prematurely(measured: dict[str, Any]) -> None:
    modes = {r["mode"]: r for r in measured["measured"]["terminator"]}
    assert modes["substring"]["premature"] > modes["farewell"]["premature"]
    assert modes["farewell"]["premature"] <= modes["closing"]["premature"]
