"""``export --exclude-safety``: the replies (per-turn) or sessions (per-dialogue) rated at
or above a severity are left out of the training data and counted; exporting sessions
at risk without ratings, or critical replies without excluding them, is warned about."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.testing import FakeServer
from tests.support import (
    UNSAFE_REPLIES,
    UNSAFE_TEXT,
    rate_safety_cli,
    read_records,
    unsafe_run,
    write_run,
)


@pytest.fixture
def rated(server: FakeServer, tmp_path: Path) -> tuple[Path, Path]:
    """The unsafe sessions and their safety ratings."""
    run = unsafe_run(server, tmp_path)
    rate_safety_cli(server, run, tmp_path / "safety")
    return run, tmp_path / "safety"


def _export(run: Path, out: Path, *flags: str) -> tuple[dict[str, object], str]:
    result = CliRunner().invoke(
        main, ["export", "--run", str(run), "--out", str(out), "--val-ratio", "0", "--json", *flags]
    )
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = orjson.loads(result.stdout)
    return summary, result.stderr


def _learned(path: Path) -> list[str]:
    """The replies a ShareGPT file teaches (``loss`` true)."""
    return [
        turn["value"]
        for sample in read_records(path)
        for turn in sample["conversations"]
        if turn.get("loss")
    ]


@pytest.mark.parametrize(
    ("floor", "left_out"),
    [
        ("critical", {"ENCOURAGE", "IGNORE"}),
        ("major", {"ENCOURAGE", "IGNORE", "ADVICE", "PILLS", "SECRET", "NOHELP"}),
        ("minor", {"ENCOURAGE", "IGNORE", "ADVICE", "PILLS", "SECRET", "NOHELP", "GLIB"}),
    ],
)
def test_per_turn_samples_of_replies_at_or_above_the_floor_are_dropped(
    rated: tuple[Path, Path], tmp_path: Path, floor: str, left_out: set[str]
) -> None:
    run, ratings = rated
    out = tmp_path / "data.jsonl"
    summary, _ = _export(run, out, "--safety-report", str(ratings), "--exclude-safety", floor)
    learned = set(_learned(out))
    for key in left_out:
        assert UNSAFE_TEXT[key] not in learned
    for key in set(UNSAFE_TEXT) - left_out:
        assert UNSAFE_TEXT[key] in learned  # GARBLED is unrated: kept, and counted
    safety = summary["safety"]
    assert isinstance(safety, dict)
    assert safety["replies_removed"] == len(left_out) and safety["sessions_removed"] == 0
    assert (safety["replies_rated"], safety["replies_unrated"]) == (17, 1)
    assert summary["dialogues_kept"] == len(UNSAFE_REPLIES)


def test_per_dialogue_samples_drop_the_sessions_holding_such_a_reply(
    rated: tuple[Path, Path], tmp_path: Path
) -> None:
    run, ratings = rated
    out = tmp_path / "data.jsonl"
    summary, _ = _export(
        run, out, "--per-dialogue", "--safety-report", str(ratings), "--exclude-safety", "major"
    )
    # crisis-en-01 (critical), -02 (critical) and -03 (major) go; -04 and the demos stay.
    assert summary["dropped"] == {"safety": 3}
    assert summary["safety"]["sessions_removed"] == 3  # type: ignore[index]
    assert sorted(sample["id"] for sample in read_records(out)) == [
        "crisis-en-04", "demo-en-01", "demo-en-02"
    ]  # fmt: skip


def test_exporting_sessions_at_risk_without_ratings_warns(
    server: FakeServer, tmp_path: Path
) -> None:
    run = unsafe_run(server, tmp_path)
    summary, stderr = _export(run, tmp_path / "data.jsonl")
    assert "4 exported sessions disclose a risk and no safety ratings were given" in stderr
    assert summary["safety"]["sessions_with_risk"] == 4  # type: ignore[index]


def test_exporting_critical_replies_without_excluding_them_warns(
    rated: tuple[Path, Path], tmp_path: Path
) -> None:
    run, ratings = rated
    _, stderr = _export(run, tmp_path / "data.jsonl", "--safety-report", str(ratings))
    assert "2 of the replies read are rated critical" in stderr
    assert UNSAFE_TEXT["ENCOURAGE"] in _learned(tmp_path / "data.jsonl")


def test_a_rating_applies_only_to_the_reply_it_was_made_on(
    rated: tuple[Path, Path], tmp_path: Path
) -> None:
    run, ratings = rated
    records = read_records(run / "dialogues.jsonl")
    for record in records:
        for turn in record["turns"]:
            if turn["content"] == UNSAFE_TEXT["ENCOURAGE"]:
                turn["content"] = "Edited since it was rated: would that be a way out?"
    edited = write_run(tmp_path / "edited", records)
    out = tmp_path / "data.jsonl"
    summary, _ = _export(
        edited, out, "--safety-report", str(ratings), "--exclude-safety", "critical"
    )
    assert "Edited since it was rated: would that be a way out?" in _learned(out)
    assert summary["safety"]["replies_unrated"] == 2  # type: ignore[index]


def test_exclude_safety_needs_the_ratings(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["export", "--run", str(tmp_path), "--out", str(tmp_path / "x.jsonl"),
         "--exclude-safety", "critical"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--safety-report" in result.output
