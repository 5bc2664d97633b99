"""The quality flags and the terminator against sessions of the embedded models labelled
by hand (tests/fixtures/quality_labels: the guide, the sessions, the labels).

The figures of docs/quality.md#measured-precision-and-recall come from the command this
test runs; the floors below (the figures measured on 2026-12-06, 201 sessions) keep them
from falling: one more miss or one more wrong flag of any of them fails. They are not the
issue's targets (precision 0.8 and recall 0.9 for role_flip, echo, repetition and
prompt_leakage): only template_token meets them on this set (docs/quality.md says which
sessions the flags miss, and why the Chinese sessions are flagged under English rules).
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
    "role_flip": (1.0, 0.65),
    "echo": (0.6, 0.95),
    "repetition": (0.57, 0.86),
    "prompt_leakage": (0.96, 0.81),
    "degenerate": (1.0, 0.66),
    "template_token": (1.0, 1.0),
}
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
    assert all(present[flag] >= 10 for flag in FLOORS), present


@pytest.mark.parametrize("flag", sorted(FLOORS))
def test_flag_precision_and_recall_do_not_fall(measured: dict[str, Any], flag: str) -> None:
    (row,) = [r for r in measured["measured"]["flags"] if r["flag"] == flag and r["split"] == "all"]
    least_precision, least_recall = FLOORS[flag]
    assert row["precision"] >= least_precision, row
    assert row["recall"] >= least_recall, row


def test_the_default_terminator_ends_fewer_sessions_prematurely(measured: dict[str, Any]) -> None:
    modes = {r["mode"]: r for r in measured["measured"]["terminator"]}
    assert modes["substring"]["premature"] > modes["farewell"]["premature"]
    assert modes["farewell"]["premature"] <= modes["closing"]["premature"]
