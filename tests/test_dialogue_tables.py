"""Table 4 and Figure 14 as the paper defines them, on a battle list worked out by hand."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.arena._battles import Battle, ShownOrder, Winner, write_battles
from interactive_agents.cli._elo import elo
from interactive_agents.ratings._dialogue_tables import dialogue_tables
from interactive_agents.ratings._systems import rate


def _b(
    dialogue: str,
    turn: int,
    bots: str,
    winner: Winner,
    order: ShownOrder = "ab",
    judge: str = "qwen",
) -> Battle:
    return Battle(dialogue, turn, bots[0], bots[1], order, winner, judge, "", float(turn))


BATTLES = [
    # d1, A vs B, judged in both orders at turns 0 and 2.
    _b("d1", 0, "AB", "a"),
    _b("d1", 0, "AB", "a", "ba"),  # both orders chose A: one upvote for A
    _b("d1", 1, "AB", "b"),  # B
    _b("d1", 2, "AB", "a"),
    _b("d1", 2, "AB", "b", "ba"),  # both-order disagreement: nobody
    _b("d1", 3, "AB", "tie"),  # tie: nobody
    _b("d1", 4, "AB", "unparsable"),  # unreadable: nobody
    # d2, A vs C: A, A, C.
    _b("d2", 0, "AC", "a"),
    _b("d2", 1, "AC", "a"),
    _b("d2", 2, "AC", "b"),
    # d3, B vs C: C.
    _b("d3", 0, "BC", "b"),
    # The history d1 labelled by a human is another dialogue: B.
    _b("d1", 0, "BA", "a", judge="human"),
]
# Dialogues: qwen/d1, qwen/d2, qwen/d3, human/d1 = 4.
# Occurrences: A in qwen/d1, qwen/d2, human/d1 = 3; B in qwen/d1, qwen/d3, human/d1 = 3;
# C in qwen/d2, qwen/d3 = 2 (sum 8 = 2 x 4 dialogues).
# Upvotes per dialogue: A (1, 2, 0) = 3; B (1, 0, 1) = 2; C (1, 1) = 2.
# Pairs in dialogues: A-B 2, A-C 1, B-C 1 (upper triangle sums to 4 dialogues).


def test_tables_count_dialogues_by_hand() -> None:
    tables = dialogue_tables(BATTLES, ["A", "B", "C"])
    assert (tables.dialogues, tables.selections) == (4, 10)
    assert tables.occurrences.tolist() == [3, 3, 2]
    assert tables.upvotes.tolist() == [3, 2, 2]
    assert tables.upvotes_per_dialogue == ((1, 2, 0), (1, 0, 1), (1, 1))
    assert [tables.average_upvotes(i) for i in range(3)] == pytest.approx([1.0, 2 / 3, 1.0])
    assert tables.dialogue_counts.tolist() == [[0, 2, 1], [2, 0, 1], [1, 1, 0]]
    assert int(np.triu(tables.dialogue_counts).sum()) == tables.dialogues
    assert (tables.ties, tables.disagreements, tables.unparsable) == (1, 1, 1)


def test_leaderboard_keeps_the_per_battle_figures_under_their_own_names() -> None:
    report = rate(BATTLES, np.random.default_rng(0), shuffles=5, rounds=20)
    rows = {row.model: row for row in report.rows}
    # Paper's Table 4, in dialogues.
    assert [(rows[m].upvotes, rows[m].occurrences) for m in "ABC"] == [(3, 3), (2, 3), (2, 2)]
    assert rows["B"].average_upvotes == pytest.approx(2 / 3)
    # Per battle: 11 readable battles. A is in 10 (6 readable in qwen/d1, 3 in d2, 1
    # human) and wins 5 (d1 t0 twice, d1 t2 ab, d2 t0 and t1); B is in 8 and wins 3
    # (d1 t1, d1 t2 ba, human); C is in 4 and wins 2. The tie is a battle without a win.
    assert [(rows[m].battles, rows[m].battle_upvotes) for m in "ABC"] == [(10, 5), (8, 3), (4, 2)]
    assert rows["A"].battle_upvote_rate == pytest.approx(0.5)
    assert report.battle_counts.tolist() == [[0, 7, 3], [7, 0, 1], [3, 1, 0]]
    assert report.tables.dialogue_counts.tolist() == [[0, 2, 1], [2, 0, 1], [1, 1, 0]]


def test_elo_report_states_the_counting_rules(tmp_path: Path) -> None:
    battles = tmp_path / "battles.jsonl"
    assert write_battles(battles, BATTLES) == len(BATTLES)
    out = tmp_path / "report"
    args = [str(battles), "--out", str(out), "--bootstrap", "20", "--shuffles", "5", "--json"]
    result = CliRunner().invoke(elo, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    payload = orjson.loads(result.stdout)
    assert payload["dialogues"] == 4
    assert payload["selections"] == {
        "total": 10,
        "ties": 1,
        "both_order_disagreements": 1,
        "unparsable": 1,
    }
    assert payload["upvotes_per_dialogue"] == {"A": [1, 2, 0], "B": [1, 0, 1], "C": [1, 1]}
    assert payload["pairs"]["dialogue_counts"] == [[0, 2, 1], [2, 0, 1], [1, 1, 0]]
    with (out / "dialogue_counts.csv").open(encoding="utf-8") as handle:
        assert list(csv.reader(handle))[1] == ["A", "0", "2", "1"]
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "both-order disagreement" in markdown
    assert "1 ties, 1 both-order disagreements, 1 unparsable" in markdown
    assert "## Dialogues per pair (Figure 14)" in markdown
    assert "| A | 0 | 2 | 1 |" in markdown
    assert (out / "dialogue_counts.png").read_bytes().startswith(b"\x89PNG")
