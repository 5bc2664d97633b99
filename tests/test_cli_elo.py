"""The ``elo`` command end to end on temporary battle files (agreement: test_calibration_cli.py)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from click.testing import CliRunner, Result

from interactive_agents.arena._battles import Battle, Winner, write_battles
from interactive_agents.cli._elo import elo

FAST = ["--bootstrap", "50", "--shuffles", "5"]
ROW_FIELDS = {
    "model",
    "rank",
    "bt",
    "bt_lower",
    "bt_upper",
    "elo",
    "elo_time_order",
    "elo_lower",
    "elo_upper",
    "upvotes",
    "occurrences",
    "average_upvotes",
    "battles",
    "battle_upvotes",
    "battle_upvote_rate",
    "sufficient",
    "notes",
}


def _arena(path: Path, judge: str = "qwen", battles: int = 120) -> Path:
    """Battles where A usually beats B and B usually beats C; every 20th is unparsable."""
    rng = np.random.default_rng(4)
    strength = {"A": 1.0, "B": 0.6, "C": 0.3}
    records = []
    for t in range(battles):
        a, b = (str(x) for x in rng.choice(list(strength), size=2, replace=False))
        p_a = strength[a] / (strength[a] + strength[b])
        winner: Winner = "unparsable" if t % 20 == 0 else ("a" if rng.random() < p_a else "b")
        records.append(Battle(f"d{t // 6}", t % 6, a, b, "ab", winner, judge, "", float(t)))
    write_battles(path, records)
    return path


def _run(command: Any, args: list[str]) -> Result:
    return CliRunner().invoke(command, args, catch_exceptions=False)


def test_elo_writes_every_file_and_prints_json(tmp_path: Path) -> None:
    battles = _arena(tmp_path / "battles.jsonl")
    out = tmp_path / "report"
    result = _run(elo, [str(battles), "--out", str(out), "--json", *FAST])
    assert result.exit_code == 0, result.output
    for name in ("ratings.json", "battle_counts.csv", "report.md"):
        assert (out / name).stat().st_size > 0
    for name in ("ratings_bt.png", "ratings_elo.png", "battle_counts.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    printed = orjson.loads(result.stdout)
    assert printed == orjson.loads((out / "ratings.json").read_bytes())
    assert (printed["battles"], printed["excluded_unparsable"], printed["skipped_invalid"]) == (
        114,
        6,
        0,
    )
    assert printed["settings"] == {
        "files": [str(battles)],
        "k": 4.0,
        "shuffles": 5,
        "bootstrap": 50,
        "seed": 0,
        "l2": 0.0,
        "anchor": None,
        "rubrics": [],
    }
    assert [row["model"] for row in printed["models"]] == ["A", "B", "C"]
    assert all(set(row) == ROW_FIELDS for row in printed["models"])
    assert printed["pairs"]["models"] == ["A", "B", "C"]
    counts = printed["pairs"]["battle_counts"]
    assert sum(map(sum, counts)) == 2 * 114
    assert printed["pairs"]["win_fractions"][0][0] is None  # a model never meets itself


def test_battle_counts_csv_and_report_agree_with_the_json(tmp_path: Path) -> None:
    out = tmp_path / "report"
    _run(elo, [str(_arena(tmp_path / "b.jsonl")), "--out", str(out), *FAST])
    ratings = orjson.loads((out / "ratings.json").read_bytes())
    with (out / "battle_counts.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["model", "A", "B", "C"]
    assert [[int(x) for x in row[1:]] for row in rows[1:]] == ratings["pairs"]["battle_counts"]
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "114 battles rated; 6 unparsable battles excluded" in report
    assert "![Battles per pair](battle_counts.png)" in report


def test_elo_table_names_every_model(tmp_path: Path) -> None:
    result = _run(elo, [str(_arena(tmp_path / "b.jsonl")), *FAST])
    assert result.exit_code == 0
    assert "Arena ratings: 20 dialogues, 114 battles, 6 unparsable excluded" in result.stdout
    for header in ("Rank", "BT 95 % CI", "Occurrences", "Avg upvotes"):
        assert header in result.stdout
    assert all(f" {model} " in result.stdout for model in "ABC")
    assert not (tmp_path / "ratings.json").exists()


def test_the_same_seed_gives_the_same_ratings(tmp_path: Path) -> None:
    battles = str(_arena(tmp_path / "b.jsonl"))
    first = _run(elo, [battles, "--json", "--seed", "3", *FAST]).stdout
    assert first == _run(elo, [battles, "--json", "--seed", "3", *FAST]).stdout
    assert first != _run(elo, [battles, "--json", "--seed", "4", *FAST]).stdout


def test_a_malformed_line_names_file_line_and_field(tmp_path: Path) -> None:
    battles = _arena(tmp_path / "b.jsonl", battles=4)
    lines = battles.read_bytes().splitlines()
    lines[2] = lines[2].replace(b'"winner":"', b'"winner":"x')
    battles.write_bytes(b"\n".join(lines) + b"\n")
    result = _run(elo, [str(battles), *FAST])
    assert result.exit_code == 2
    assert f"{battles}, record 3, field 'winner'" in result.stderr
    skipped = _run(elo, [str(battles), "--skip-invalid", "--json", *FAST])
    assert skipped.exit_code == 0
    assert orjson.loads(skipped.stdout)["skipped_invalid"] == 1
    assert "Skipped 1 invalid line(s); first: " in skipped.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--anchor", "Z"], "'Z' is not among the rated bots"),
        (["--k", "0"], "Invalid value for '--k'"),
        (["--bootstrap", "0"], "Invalid value for '--bootstrap'"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = _run(elo, [str(_arena(tmp_path / "b.jsonl", battles=10)), *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    missing = _run(elo, [str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2
    assert "does not exist" in missing.stderr


def test_nothing_to_rate_writes_a_report_saying_why(tmp_path: Path) -> None:
    only_unparsable = tmp_path / "u.jsonl"
    refused = Battle("d", 1, "A", "B", "ab", "unparsable", "j", refused=("ab",))
    write_battles(only_unparsable, [Battle("d", 0, "A", "B", "ab", "unparsable", "j"), refused])
    out = tmp_path / "report"
    result = _run(elo, [str(only_unparsable), "--out", str(out), "--json"])
    assert result.exit_code == 1
    why = "no usable battles to rate: 2 read, 2 unparsable (1 of them refused by the judge)"
    assert f"nothing rated: {why}" in result.stderr
    payload = orjson.loads((out / "ratings.json").read_bytes())
    assert payload == orjson.loads(result.stdout)
    assert payload["ranking"]["unusable"] == why and payload["models"] == []
    assert payload["judge_answers"] == {"judgements": 2, "unparsable": 1, "refused": 1}
    assert f"**Nothing could be rated:** {why}." in (out / "report.md").read_text("utf-8")


def test_one_battle_is_not_a_ranking(tmp_path: Path) -> None:
    one = tmp_path / "one.jsonl"
    write_battles(one, [Battle("d", 0, "A", "B", "ab", "a", "human")])
    out = tmp_path / "report"
    result = _run(elo, [str(one), "--out", str(out), *FAST])
    assert result.exit_code == 0
    assert "(insufficient data: see the warnings)" in result.stdout
    assert "+0/+0" not in result.stdout  # no interval from a degenerate bootstrap
    assert "warning: too few battles for a ranking: A (1), B (1)" in result.stderr
    assert "A never lost; B never won" in result.stderr
    payload = orjson.loads((out / "ratings.json").read_bytes())
    assert payload["ranking"]["sufficient"] is False
    top = payload["models"][0]
    assert (top["rank"], top["bt"], top["elo_lower"], top["sufficient"]) == (
        None,
        None,
        None,
        False,
    )
    assert "## Insufficient data: read the ranking with care" in (out / "report.md").read_text(
        "utf-8"
    )


def test_help_shows_examples() -> None:
    result = _run(elo, ["--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output


def test_elo_refuses_battles_of_different_rubrics_unless_forced(tmp_path: Path) -> None:
    """Battles judged with another judge card or model are not rated together silently."""
    first = _arena(tmp_path / "first.jsonl")
    second = tmp_path / "second.jsonl"
    records = [orjson.loads(line) for line in first.read_bytes().splitlines()]
    write_battles(first, [Battle(**{**r, "rubric": "aaaa1111"}) for r in records])
    write_battles(second, [Battle(**{**r, "rubric": "bbbb2222"}) for r in records])
    refused = CliRunner().invoke(elo, [str(first), str(second), *FAST])
    assert refused.exit_code == 2
    assert "different rubrics" in refused.output and "--force-mix-rubrics" in refused.output
    forced = _run(elo, [str(first), str(second), "--force-mix-rubrics", "--json", *FAST])
    assert forced.exit_code == 0, forced.output
    assert orjson.loads(forced.stdout)["settings"]["rubrics"] == ["aaaa1111", "bbbb2222"]
    same = _run(elo, [str(first), "--json", *FAST])
    assert orjson.loads(same.stdout)["settings"]["rubrics"] == ["aaaa1111"]
