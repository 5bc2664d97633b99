"""The method's fidelity options through ``simulate`` against the scripted server.

paper_zh follows the paper (stage inferred, no cue, no resistance rule, Han-character
limit); the turn schedule, the terminator's first turn and the refiner's rules are
checked in the requests the server saw and in the records and manifest written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.method._card_text import card_text
from interactive_agents.method._cards import load_cards
from interactive_agents.testing import Call, FakeServer, Script

from .support import read_records

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "runners" / "cards" / "demo_en.jsonl"


def simulate(server: FakeServer, out: Path, *extra: str, cards: Path = DEMO) -> None:
    args = ["simulate", "--cards", str(cards), "--out", str(out), "--base-url", server.base_url]
    args += ["--model", "scripted", "--max-turns", "3", "--limit", "1", "--quiet", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def recipe(folder: Path, text: str) -> str:
    path = folder / "recipe.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def counselor_turns(run: Path) -> list[dict[str, Any]]:
    [record] = read_records(run / "dialogues.jsonl")
    return [t for t in record["turns"] if t["role"] == "counselor"]


def zh_script(call: Call) -> str:
    if call.role == "client":
        return f"我最近总是睡不好，第{call.turn}次跟人说这些。"
    return f"这种情况持续多久了？（第{call.turn}轮）"


def test_paper_zh_lets_the_counselor_infer_its_stage(
    server: FakeServer, fixtures: Path, tmp_path: Path
) -> None:
    server.script = zh_script
    run = tmp_path / "run"
    simulate(server, run, "--recipe", "paper_zh", cards=fixtures / "role_cards" / "train_1.txt")
    counselor_calls = server.calls_of("counselor")
    assert len(counselor_calls) == 3
    for call in counselor_calls:
        assert [m["role"] for m in call.messages].count("system") == 1
        assert "当前处于" not in str(call.messages[1:])
    turns = counselor_turns(run)
    assert [(t["stage"], t["stage_source"]) for t in turns] == [(None, "inferred")] * 3
    config = orjson.loads((run / "manifest.json").read_bytes())["config"]
    assert config["stages"]["source"] == "inferred"
    assert config["refiner"]["length_unit"] == "han" and config["refiner"]["max_length"] == 200
    assert config["terminator"]["first_turn"] == 2
    assert config["prompts"] == {"client_resistance": False, "crisis_rule": True}
    client_system = server.calls_of("client")[0].system
    assert "抵触程度如档案所写" not in client_system
    # The reference card's own separators: "中低。来访者…", not "中低，来访者…".
    source = (fixtures / "role_cards" / "train_1.txt").read_text(encoding="utf-8")
    assert "开放性：中低。来访者对自我内心" in source
    assert "开放性：中低。来访者对自我内心" in client_system


def test_the_turn_schedule_and_cue_remain_an_option(
    server: FakeServer, fixtures: Path, tmp_path: Path
) -> None:
    server.script = zh_script
    scheduled = recipe(
        tmp_path,
        'language = "zh"\n[stages]\nsource = "schedule"\nmiddle_from = 0.3\nlate_from = 0.6\n'
        'cue = "system"\n[prompts]\nclient_resistance = true\n',
    )
    run = tmp_path / "run"
    simulate(server, run, "--recipe", scheduled, cards=fixtures / "role_cards" / "train_1.txt")
    cues = [call.messages[-1] for call in server.calls_of("counselor")]
    assert all(cue["role"] == "system" for cue in cues)
    assert "前期" in cues[0]["content"] and "后期" in cues[2]["content"]
    turns = counselor_turns(run)
    assert [t["stage"] for t in turns] == ["early", "middle", "late"]
    assert {t["stage_source"] for t in turns} == {"schedule"}
    assert "抵触程度如档案所写" in server.calls_of("client")[0].system


def test_a_schedule_without_cue_records_the_stage_but_tells_nothing(
    server: FakeServer, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    simulate(server, run, "--recipe", "quickstart")
    assert all(call.messages[-1]["role"] == "user" for call in server.calls_of("counselor"))
    turns = counselor_turns(run)
    assert (turns[0]["stage"], turns[0]["stage_source"]) == ("early", "schedule")


def keep_it_up_first(call: Call) -> str:
    if call.role == "client":
        return "I don't know where to start."
    if call.turn == 1:
        return "Hello, I'm glad you came. Keep it up, you took a big step."
    return "What has been weighing on you most this week?"


def goodbye_at_two(call: Call) -> str:
    if call.role == "client":
        return "Thanks, that helps."
    return "Take care, and see you soon." if call.turn == 2 else "What brings you here?"


@pytest.mark.parametrize(
    ("first_turn", "script", "phrase", "turns"),
    [
        (None, keep_it_up_first, None, 3),  # default 2: the greeting reply is not checked
        (1, keep_it_up_first, "Keep it up", 1),  # Algorithm 1 as printed
        (None, goodbye_at_two, "Take care", 2),  # from turn 2 on, a phrase ends it
    ],
)
def test_where_the_terminator_starts_checking(
    server: FakeServer,
    tmp_path: Path,
    first_turn: int | None,
    script: Script,
    phrase: str | None,
    turns: int,
) -> None:
    server.script = script
    run = tmp_path / "run"
    option = "" if first_turn is None else f"[terminator]\nfirst_turn = {first_turn}\n"
    simulate(server, run, "--recipe", recipe(tmp_path, f'language = "en"\n{option}'))
    [record] = read_records(run / "dialogues.jsonl")
    assert record["termination"]["phrase"] == phrase
    assert record["termination"]["reason"] == ("max_turns" if phrase is None else "phrase")
    assert len(counselor_turns(run)) == turns
    manifest = orjson.loads((run / "manifest.json").read_bytes())
    assert manifest["config"]["terminator"]["first_turn"] == (first_turn or 2)


def test_a_bad_first_turn_names_the_field(tmp_path: Path) -> None:
    bad = recipe(tmp_path, "[terminator]\nfirst_turn = 3\n")
    result = CliRunner().invoke(main, ["simulate", "--recipe", bad])
    assert result.exit_code == 2 and "field 'terminator.first_turn'" in result.output


def test_the_refiner_rejects_comma_enumerations_and_unicode_line_breaks(
    server: FakeServer, tmp_path: Path
) -> None:
    candidates = iter(
        [
            "第一，先把作息调整好；第二，每天出去走走。",
            "我明白。\u2028你愿意多说一点吗？",
            "1,深呼吸,2,慢慢数到十。",
            "这种感觉第一次出现是3年前吗？",
        ]
    )

    def script(call: Call) -> str:
        if call.role == "client":
            return "我也说不清。"
        return next(candidates, "嗯，我在听。")

    server.script = script
    run = tmp_path / "run"
    simulate(server, run, "--language", "zh", "--refiner-attempts", "4", "--max-turns", "1")
    [turn] = counselor_turns(run)
    assert turn["content"] == "这种感觉第一次出现是3年前吗？"
    reasons = [r["reason"] for r in turn["rejected"]]
    assert reasons == [
        "enumerates items (Chinese ordinal items)",
        "contains a line break",
        "enumerates items (numbered items)",
    ]


def test_han_length_unit_counts_chinese_characters_only(server: FakeServer, tmp_path: Path) -> None:
    reply = "嗯，" * 150 + "好吗？"  # 152 Han characters, 303 characters in all

    def script(call: Call) -> str:
        return "我也说不清。" if call.role == "client" else reply

    server.script = script
    for unit, accepted in (("han", True), ("chars", False)):
        run = tmp_path / unit
        limit = recipe(tmp_path, f'language = "zh"\n[refiner]\nlength_unit = "{unit}"\n')
        simulate(server, run, "--recipe", limit, "--max-turns", "1", "--refiner-attempts", "1")
        [turn] = counselor_turns(run)
        assert (turn["content"] == reply) is accepted
        assert turn["refiner_gave_up"] is not accepted
        manifest = orjson.loads((run / "manifest.json").read_bytes())
        assert manifest["config"]["refiner"]["length_unit"] == unit


def test_reference_cards_render_back_as_their_text(fixtures: Path) -> None:
    """Every real card, loaded and rendered (evaluation's R), is its .txt file exactly."""
    cards = load_cards(fixtures / "role_cards").cards
    assert len(cards) == 4
    for card in cards:
        text = (fixtures / "role_cards" / f"{card.id}.txt").read_text(encoding="utf-8").strip()
        assert card_text(card.to_dict()) == f"{text}\n来访者的主诉问题：{card.chief_complaint}"
