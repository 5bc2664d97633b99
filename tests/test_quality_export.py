"""``export --exclude-flag / --max-flags``: flagged sessions stay out, and the summary says why."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from interactive_agents.cli import main

from .support import CLEAN_EN, session_record, write_run

ECHOING = [*[t.content for t in CLEAN_EN[:4]], CLEAN_EN[3].content, "Tell me more about that."]
# Echoes the counselor and speaks as the counselor: two flags.
FLIPPED = [*ECHOING, "As your counselor, I think you should rest.", "Why do you say so?"]


def _export(tmp_path: Path, *extra: str) -> dict[str, object]:
    run = tmp_path / "run"
    if not run.exists():
        records = [
            session_record("clean", [t.content for t in CLEAN_EN] + ["Go on."]),
            session_record("echo", ECHOING),
            session_record("flip", FLIPPED),
        ]
        write_run(run, records)
    out = tmp_path / "data.jsonl"
    args = ["export", "--run", str(run), "--out", str(out), "--val-ratio", "0", "--json", "-q"]
    result = CliRunner().invoke(main, [*args, *extra])
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = orjson.loads(result.stdout)
    return summary


def _exported_ids(tmp_path: Path) -> set[str]:
    lines = (tmp_path / "data.jsonl").read_bytes().splitlines()
    return {orjson.loads(line)["id"].rsplit("-", 1)[0] for line in lines}


def test_exclude_flag_removes_the_sessions_raising_it(tmp_path: Path) -> None:
    summary = _export(tmp_path, "--exclude-flag", "role_flip")
    assert summary["dialogues_kept"] == 2
    assert summary["dropped"] == {"quality_flags": 1}
    assert summary["removed_by_flag"] == {"role_flip": 1}
    assert _exported_ids(tmp_path) == {"clean", "echo"}
    both = _export(tmp_path, "--exclude-flag", "echo", "--exclude-flag", "role_flip")
    assert both["removed_by_flag"] == {"echo": 2, "role_flip": 1}
    assert both["dialogues_kept"] == 1 and _exported_ids(tmp_path) == {"clean"}


def test_max_flags_removes_sessions_with_too_many(tmp_path: Path) -> None:
    summary = _export(tmp_path, "--max-flags", "1")
    assert summary["dialogues_kept"] == 2 and summary["removed_by_flag"] == {
        "echo": 1,
        "role_flip": 1,
    }
    assert _export(tmp_path, "--max-flags", "0")["dialogues_kept"] == 1


def test_without_the_filters_nothing_is_flagged_or_removed(tmp_path: Path) -> None:
    summary = _export(tmp_path)
    assert summary["dialogues_kept"] == 3 and summary["removed_by_flag"] == {}


def test_an_unknown_flag_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "--run", str(tmp_path), "--out", "x.jsonl", "--exclude-flag", "loud"]
    )
    assert result.exit_code == 2 and "echo" in result.output
