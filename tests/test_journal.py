"""Turn-level resume: the per-turn journal lets a killed run continue every unfinished
dialogue after its last completed turn, with the record an uninterrupted run writes."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from interactive_agents.errors import RunDirectoryError
from interactive_agents.method._cards import RoleCard, load_cards
from interactive_agents.runtime._engine import Engine
from interactive_agents.testing import Call, FakeServer

from .support import (
    RESUMABLE,
    base_args,
    config_for,
    dialogue_of,
    kill_when_recorded,
    read_records,
    run_cli,
    uninterrupted_run,
    without_timings,
)

ROOT = Path(__file__).resolve().parents[1]
DEMO = load_cards(ROOT / "runners" / "cards" / "demo_en.jsonl").cards
MAX_TURNS = 4
LLM_TURNS = 2 * MAX_TURNS - 1  # a counselor reply per turn, a client line between them


def rejecting_script(call: Call) -> str:
    """Deterministic replies; the counselor's second turn is rejected for some seeds and
    the client echoes the counselor at its third for others, so rejections (and the
    refiner or client guard giving up) must survive the journal too."""
    if call.role == "client":
        if call.turn == 3 and call.body["seed"] % 2:
            return call.last_user
        return f"It is still hard, part {call.turn}."
    if call.turn == 2 and call.body["seed"] % 3:
        return "Two ideas.\nFirst, rest."
    return f"What do you notice about that, part {call.turn}?"


async def play(server: FakeServer, run_dir: Path, cards: list[RoleCard]) -> list[dict[str, Any]]:
    """Run ``cards``; returns the journal as it stood when the last record was made (a
    run that records every dialogue it journaled removes the journal on closing)."""
    config = config_for(server.base_url, max_turns=MAX_TURNS, **{"client_guard.enabled": True})
    async with Engine(config, run_dir=run_dir) as engine:
        async for _ in engine.run(cards):
            pass
        return read_records(run_dir / "journal.jsonl")


def write_journal(run_dir: Path, lines: list[dict[str, Any]], tail: bytes = b"") -> None:
    data = b"".join(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE) for line in lines)
    (run_dir / "journal.jsonl").write_bytes(data + tail)


@pytest.mark.anyio
@pytest.mark.parametrize("kept", [1, 2, 4, LLM_TURNS])
async def test_a_journaled_dialogue_continues_after_its_last_turn(
    server: FakeServer, tmp_path: Path, kept: int
) -> None:
    server.script = rejecting_script
    cards = DEMO[:3]
    whole = tmp_path / "whole"
    lines = await play(server, whole, cards)
    assert not (whole / "journal.jsonl").exists()
    expected = read_records(whole / "dialogues.jsonl")
    assert any(r["refiner"]["rejections"] for r in expected)  # the script did reject
    assert any(t["rejected"] for r in expected for t in r["turns"] if t["role"] == "client")

    # A run killed after ``kept`` turns of every dialogue: its manifest and journal only.
    cut = tmp_path / "cut"
    cut.mkdir()
    shutil.copy(whole / "manifest.json", cut / "manifest.json")
    journal: list[dict[str, Any]] = []
    for card in cards:
        journal.extend([line for line in lines if line["id"] == card.id][:kept])
    write_journal(cut, journal)
    server.calls.clear()
    await play(server, cut, cards)

    assert without_timings(read_records(cut / "dialogues.jsonl")) == without_timings(expected)
    # Exactly the calls after the journaled turns were made, none of those before.
    journaled = {line["id"]: line["usage"]["calls"] for line in journal}
    assert len(server.calls) == sum(r["usage"]["calls"] - journaled[r["id"]] for r in expected)


@pytest.mark.anyio
async def test_the_journal_keeps_only_unrecorded_dialogues_and_cuts_a_torn_line(
    server: FakeServer, tmp_path: Path
) -> None:
    cards = DEMO[:2]
    lines = await play(server, tmp_path, cards)
    assert Counter(line["id"] for line in lines) == {card.id: LLM_TURNS for card in cards}
    # Lines of the recorded dialogues left behind, a later dialogue's first turn, then a
    # line torn by a kill.
    unfinished = {**lines[0], "id": "later-card", "turn": 1}
    write_journal(tmp_path, [*lines, unfinished], b'{"id": "later-card", "tu')
    server.calls.clear()

    await play(server, tmp_path, cards)
    assert server.calls == []  # both are recorded: their journal lines are obsolete
    # Kept for a run that plays the later card.
    assert read_records(tmp_path / "journal.jsonl") == [unfinished]
    (quarantined,) = read_records(tmp_path / "quarantine.jsonl")
    assert quarantined["file"] == "journal.jsonl" and quarantined["raw"].endswith('"tu')


@pytest.mark.anyio
async def test_a_journal_with_a_gap_is_refused_naming_file_and_line(
    server: FakeServer, tmp_path: Path
) -> None:
    first, _, third, *_ = await play(server, tmp_path / "whole", DEMO[:1])
    shutil.copy(tmp_path / "whole" / "manifest.json", tmp_path / "manifest.json")
    write_journal(tmp_path, [first, third])
    with pytest.raises(RunDirectoryError, match=r"journal\.jsonl, line 2: turn 3 of"):
        await play(server, tmp_path, DEMO[:1])


@pytest.mark.slow
def test_sigkill_at_half_way_redoes_at_most_one_call_per_dialogue_in_flight(
    server: FakeServer, tmp_path: Path
) -> None:
    count, out = 120, tmp_path / "run"
    cards, needed, expected = uninterrupted_run(server, tmp_path, count)
    command = [*base_args(server, out, cards), *RESUMABLE]
    kill_when_recorded(command, out / "dialogues.jsonl", count // 2)
    recorded = {r["id"] for r in read_records(out / "dialogues.jsonl")}
    assert len(recorded) < count
    in_flight = {dialogue_of(call) for call in server.calls} - recorded
    assert in_flight  # the kill caught dialogues half-way
    restarted = sum(1 for call in server.calls if dialogue_of(call) in in_flight)

    resumed = run_cli(command)
    assert resumed.returncode == 0, resumed.stderr
    records = read_records(out / "dialogues.jsonl")
    assert sorted(r["id"] for r in records) == sorted(c["id"] for c in read_records(cards))
    assert without_timings(records) == without_timings(expected)
    assert not (out / "journal.jsonl").exists()  # every dialogue is recorded
    redone = len(server.calls) - needed
    assert 0 <= redone <= len(in_flight) <= restarted
