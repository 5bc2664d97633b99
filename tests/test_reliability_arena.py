"""Judge reliability on a real arena run: a judge that always picks the first candidate."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import orjson
from click.testing import CliRunner

from interactive_agents.arena._battles import read_battles
from interactive_agents.cli import main
from interactive_agents.ratings._judge_bias import judged_pairs, length_bias, position_bias
from interactive_agents.runtime.store._store import read_jsonl
from interactive_agents.testing import FakeServer

from .support import prefer_alpha, run_arena, scripted


def test_an_always_first_judge_has_position_bias_one(server: FakeServer, tmp_path: Path) -> None:
    server.script = scripted(lambda call: "The first one.\n**Final choice:** A")
    result = run_arena(server, tmp_path)
    assert result.exit_code == 0, result.output
    pairs = judged_pairs(read_jsonl(tmp_path / "run" / "dialogues.jsonl"))
    bias = position_bias(pairs)
    assert bias.both_orders == len(pairs) == 6
    assert bias.rate == 1.0 and bias.first_shown_rate == 1.0


def test_a_fair_judge_has_none_and_battles_carry_the_rubric(
    server: FakeServer, tmp_path: Path
) -> None:
    server.script = scripted(prefer_alpha)
    result = run_arena(server, tmp_path)
    assert result.exit_code == 0, result.output
    bias = position_bias(judged_pairs(read_jsonl(tmp_path / "run" / "dialogues.jsonl")))
    assert bias.rate == 0.0 and bias.first_shown_rate == 0.5
    rubrics = {b.rubric for b in read_battles(tmp_path / "run" / "battles.jsonl").battles}
    assert len(rubrics) == 1 and len(next(iter(rubrics))) == 16


def test_elo_reads_the_same_biases_from_the_arena_battles(
    server: FakeServer, tmp_path: Path
) -> None:
    server.script = scripted(lambda call: "The first one.\n**Final choice:** A")
    assert run_arena(server, tmp_path).exit_code == 0
    pairs = judged_pairs(read_jsonl(tmp_path / "run" / "dialogues.jsonl"))
    battles = read_battles(tmp_path / "run" / "battles.jsonl").battles
    assert [(b.length_a, b.length_b) for b in battles] == [(p.length_a, p.length_b) for p in pairs]
    assert [dict(p.choices) for p in pairs] == [b.choices for b in battles]

    args = ["elo", str(tmp_path / "run" / "battles.jsonl"), "--json", "--bootstrap", "20"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (row,) = orjson.loads(result.stdout)["judge_reliability"]["judges"]
    assert row["position_bias"] == {**asdict(position_bias(pairs)), "reason": None}
    assert row["position_bias"]["rate"] == 1.0
    length = length_bias(pairs)  # equal lengths and ties only: nothing decided
    assert (row["length_bias"]["decided"], length.decided) == (0, 0)
    assert row["length_bias"]["reason"].startswith("no decided battle")
