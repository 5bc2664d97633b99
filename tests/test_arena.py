"""The ``arena`` command end to end against the scripted loopback server.

The server plays every part, routed on the model name: ``client``, two bots and a
``judge`` whose answers are scripted per test (a fair judge, a position-biased one, an
unreadable one), so the history, the battles and the judging rules can be checked.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.arena._battles import read_battles
from interactive_agents.cli import main
from interactive_agents.testing import Call, FakeServer

from .support import DEMO, ROOT, prefer_alpha, read_records, run_arena, scripted, write_bots


def selections(tmp_path: Path) -> list[dict[str, Any]]:
    return [s for d in read_records(tmp_path / "run" / "dialogues.jsonl") for s in d["selections"]]


def test_selected_reply_becomes_history_and_both_orders_are_judged(tmp_path: Path) -> None:
    server = FakeServer(script=scripted(prefer_alpha))
    server.start()
    try:
        result = run_arena(server, tmp_path)
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout)["finished"] == 2
    dialogues = read_records(tmp_path / "run" / "dialogues.jsonl")
    for dialogue in dialogues:
        counselor = [t["content"] for t in dialogue["turns"] if t["role"] == "counselor"]
        assert counselor == [f"alpha asks question {n}?" for n in (1, 2, 3)]
    # The next client request carries the selected reply, never the other candidate.
    client_calls = [c for c in server.calls if c.body["model"] == "client"]
    assert len(client_calls) == 4
    for call in client_calls:
        assert call.last_user.startswith("alpha asks question")
        assert all("beta" not in m["content"] for m in call.messages)
    # Each battle was judged twice, once in each order, with the candidates swapped.
    judge_calls = [c for c in server.calls if c.body["model"] == "judge"]
    assert len(judge_calls) == 2 * 3 * 2
    for selection in selections(tmp_path):
        assert sorted(j["shown_order"] for j in selection["judgements"]) == ["ab", "ba"]
        assert selection["rule"] == "judge"
    battles = read_battles(tmp_path / "run" / "battles.jsonl").battles
    assert len(battles) == 6
    for battle in battles:
        assert (battle.bot_a if battle.winner == "a" else battle.bot_b) == "alpha"
        assert "listens better" in battle.reasoning  # the judge's whole answer is kept
    # beta has an empty system prompt: its requests carry none.
    beta = next(c for c in server.calls if c.body["model"] == "beta")
    assert beta.messages[0]["role"] == "user"

    ratings = CliRunner().invoke(
        main,
        ["elo", str(tmp_path / "run" / "battles.jsonl"), "--out", str(tmp_path / "elo"),
         "--json", "--bootstrap", "20"],
    )  # fmt: skip
    assert ratings.exit_code == 0, ratings.output
    assert (tmp_path / "elo" / "ratings.json").stat().st_size > 0


def test_a_position_biased_judge_yields_ties(server: FakeServer, tmp_path: Path) -> None:
    server.script = scripted(lambda call: "The first one.\n**Final choice:** A")
    result = run_arena(server, tmp_path)
    assert result.exit_code == 0, result.output
    battles = read_battles(tmp_path / "run" / "battles.jsonl").battles
    assert {b.winner for b in battles} == {"tie"}
    assert {s["rule"] for s in selections(tmp_path)} == {"random"}

    first = run_arena(server, tmp_path / "first", "--disagreement", "first")
    assert first.exit_code == 0, first.output
    for battle in read_battles(tmp_path / "first" / "run" / "battles.jsonl").battles:
        assert battle.winner == ("a" if battle.shown_order == "ab" else "b")


def test_unreadable_answers_are_retried(server: FakeServer, tmp_path: Path) -> None:
    def odd_seeds_only(call: Call) -> str:
        if call.body["seed"] % 2 == 0:
            return "Both replies have merits; it is hard to say."
        return prefer_alpha(call)

    server.script = scripted(odd_seeds_only)
    result = run_arena(server, tmp_path, "--one-order")
    assert result.exit_code == 0, result.output
    judgements = [j for s in selections(tmp_path) for j in s["judgements"]]
    assert {j["attempts"] for j in judgements} == {1, 2}
    judge_calls = [c for c in server.calls if c.body["model"] == "judge"]
    assert len(judge_calls) == sum(j["attempts"] for j in judgements)
    assert all(j["choice"] is not None for j in judgements)


def test_an_unparsable_battle_is_recorded_not_dropped(server: FakeServer, tmp_path: Path) -> None:
    server.script = scripted(lambda call: "I would rather not choose.")
    result = run_arena(server, tmp_path, "--judge-attempts", "2", "--undecided", "first_shown")
    # Every answer unreadable: the battles are recorded, and the run says it measured nothing.
    assert result.exit_code == 1, result.output
    summary = orjson.loads(result.stdout)
    assert (summary["judge_answers"], summary["unparsable_answers"]) == (12, 12)
    assert "not a measurement: 12 of 12 judgements (100.0%) could not be read" in result.stderr
    judge_calls = [c for c in server.calls if c.body["model"] == "judge"]
    assert len(judge_calls) == 2 * 3 * 2 * 2
    battles = read_battles(tmp_path / "run" / "battles.jsonl").battles
    assert len(battles) == 6 and {b.winner for b in battles} == {"unparsable"}
    for selection, battle in zip(selections(tmp_path), battles, strict=True):
        assert selection["rule"] == "first_shown"
        assert selection["selected"] == battle.shown_order[0]
        assert "rather not choose" in battle.reasoning


def test_resume_skips_finished_dialogues(server: FakeServer, tmp_path: Path) -> None:
    server.script = scripted(prefer_alpha)
    assert run_arena(server, tmp_path, "--limit", "1").exit_code == 0
    calls = len(server.calls)
    again = run_arena(server, tmp_path)
    assert again.exit_code == 0, again.output
    summary = orjson.loads(again.stdout)
    assert (summary["already_done"], summary["finished"]) == (1, 1)
    assert len(server.calls) == 2 * calls
    battles = read_battles(tmp_path / "run" / "battles.jsonl").battles
    assert len({(b.dialogue_id, b.turn) for b in battles}) == len(battles) == 6


def test_bad_input_names_file_bot_and_field(server: FakeServer, tmp_path: Path) -> None:
    result = run_arena(server, tmp_path, bots_extra="max_tokens = 0")
    assert result.exit_code == 2
    assert "bots.toml, record bots.alpha, field 'max_tokens'" in result.output
    missing = CliRunner().invoke(
        main, ["arena", "--bots", "b.toml", "--cards", "c.json", "--out", str(tmp_path)]
    )
    assert missing.exit_code == 2
    assert missing.output.startswith("Error: b.toml: cannot read the bots registry")
    no_model = CliRunner().invoke(
        main,
        [
            "arena",
            "--bots",
            "b.toml",
            "--cards",
            "c.json",
            "--out",
            str(tmp_path),
            "--base-url",
            "http://127.0.0.1:9/v1",
        ],
    )
    assert no_model.exit_code == 2 and "--client-model" in no_model.output


@pytest.mark.parametrize("language", ["zh", "en"])
def test_judge_cards_ask_for_reasoning_then_a_parsable_choice(language: str) -> None:
    from interactive_agents.arena._judge import load_judge_prompt

    prompt = load_judge_prompt(language)
    example = "最后的选择：<字母>" if language == "zh" else "Final choice: <letter>"
    assert example in prompt.user
    final = "最后的选择：B" if language == "zh" else "Final choice: B"
    assert prompt.parse(f"reasons here\n{final}").value == "B"
    assert prompt.parse(f"reasons here. {final}").value == "B"  # inline, after reasoning
    assert prompt.parse("no decision").status == "unparsable"
    assert prompt.parse(example).status == "unparsable"  # an echo of the example
    help_text = CliRunner().invoke(main, ["arena", "--help"]).output
    assert "Examples:" in help_text and "--both-orders / --one-order" in help_text


def test_chinese_arena_on_held_out_posts(
    server: FakeServer, tmp_path: Path, fixtures: Path
) -> None:
    server.script = scripted(lambda call: "回复B更有共情。\n最后的选择：**B**")
    bots = write_bots(tmp_path / "bots.toml", server.base_url)
    args = [
        "arena", "--bots", str(bots), "--cards", str(fixtures / "client_pool_test.json"),
        "--out", str(tmp_path / "run"), "--client-base-url", server.base_url,
        "--client-model", "client", "--judge-base-url", server.base_url,
        "--judge-model", "judge", "--language", "zh", "--max-turns", "2", "--limit", "3",
        "--one-order", "--guideline", "1", "--quiet",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    dialogues = read_records(tmp_path / "run" / "dialogues.jsonl")
    assert len(dialogues) == 3
    assert dialogues[0]["turns"][0]["content"] == "你好"
    judge_call = next(c for c in server.calls if c.body["model"] == "judge")
    assert "自主" in judge_call.messages[-1]["content"]
    for battle in read_battles(tmp_path / "run" / "battles.jsonl").battles:
        assert battle.winner == ("b" if battle.shown_order == "ab" else "a")


def test_the_bundled_registry_has_the_papers_sampling() -> None:
    from interactive_agents.arena._bots import load_bots

    bots = {bot.name: bot for bot in load_bots(ROOT / "runners" / "bots.paper.toml", "prompt")}
    assert (bots["simpsybot_D"].sampling.temperature, bots["simpsybot_D"].sampling.top_p) == (
        0.95,
        0.7,
    )
    assert bots["simpsybot_Q"].system_prompt == "prompt" and bots["SoulChat"].system_prompt is None


def test_a_recipe_sets_the_arena_and_options_override_it(tmp_path: Path) -> None:
    server = FakeServer(script=scripted(prefer_alpha))
    server.start()
    try:
        write_bots(tmp_path / "bots.toml", server.base_url)
        recipe = tmp_path / "arena.toml"
        recipe.write_text(
            f"""
bots = "bots.toml"
cards = "{DEMO}"
out = "{tmp_path / "run"}"
language = "en"
max_turns = 5
limit = 1
both_orders = false
[endpoint]
base_urls = ["{server.base_url}"]
[client.endpoint]
model = "client"
[judge.endpoint]
model = "judge"
""",
            encoding="utf-8",
        )
        old = tmp_path / "old.toml"
        old.write_text('guideline = "2"\n[client]\ntemperature = 0.8\n', encoding="utf-8")
        moved = CliRunner().invoke(main, ["arena", "--recipe", str(old)])
        result = CliRunner().invoke(
            main, ["arena", "--recipe", str(recipe), "--max-turns", "2", "--quiet", "--json"]
        )
        bad = CliRunner().invoke(main, ["arena", "--recipe", str(recipe), "--no-such", "1"])
        recipe.write_text("colour = 1\n" + recipe.read_text(), encoding="utf-8")
        unknown = CliRunner().invoke(main, ["arena", "--recipe", str(recipe)])
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    (dialogue,) = read_records(tmp_path / "run" / "dialogues.jsonl")
    assert len(dialogue["selections"]) == 2  # --max-turns beat the recipe's 5
    assert all(len(s["judgements"]) == 1 for s in dialogue["selections"])  # one order
    assert bad.exit_code == 2
    assert unknown.exit_code == 2 and "arena.toml" in unknown.output
    assert "'colour'" in unknown.output
    # A key of the older arena recipes names where it lives now.
    assert moved.exit_code == 2 and "old.toml" in moved.output
    assert "'client.temperature'" in moved.output and "client.sampling.temperature" in moved.output


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("repair", "beta asks question 1?"),
        ("accept_last", "beta\nasks question 1?"),
        ("fail", None),
    ],
)
def test_the_arena_honours_the_exhausted_policy(
    tmp_path: Path, policy: str, expected: str | None
) -> None:
    """beta's replies always break a line: the refiner rejects every one of them."""

    def judge_beta(call: Call) -> str:
        text = call.messages[-1]["content"]
        label = "A" if re.search(r"Candidate reply A:\s*beta", text) else "B"
        return f"Final choice: {label}"

    def script(call: Call) -> str:
        reply = scripted(judge_beta)(call)
        return reply.replace(" ", "\n", 1) if call.body["model"] == "beta" else reply

    server = FakeServer(script=script)
    server.start()
    try:
        result = run_arena(server, tmp_path, "--on-exhausted", policy, "--limit", "1")
    finally:
        server.stop()
    dialogues = read_records(tmp_path / "run" / "dialogues.jsonl")
    failures = read_records(tmp_path / "run" / "failures.jsonl")
    if expected is None:
        assert result.exit_code == 1 and dialogues == []
        assert "the refiner rejected 3 candidates of bot beta" in failures[0]["error"]["message"]
        return
    assert result.exit_code == 0, result.output
    first = dialogues[0]["selections"][0]
    a, b = first["candidate_a"], first["candidate_b"]
    beta = a if a["bot"] == "beta" else b
    assert beta["content"] == expected and beta["refiner_gave_up"]
    assert len(beta["rejected"]) == 3


def test_every_bots_sampling_can_be_set_over_the_registrys(
    server: FakeServer, tmp_path: Path
) -> None:
    """``[bot_sampling]`` in a recipe, or ``--bot-*`` flags over it, replace what the
    registry gives each bot; unset values keep the registry's (alpha's top_p 0.8)."""
    recipe = tmp_path / "arena.toml"
    recipe.write_text("[bot_sampling]\ntemperature = 0.2\nmax_tokens = 40\n", encoding="utf-8")
    server.script = scripted(prefer_alpha)
    result = run_arena(server, tmp_path, "--recipe", str(recipe), "--bot-max-tokens", "9")
    assert result.exit_code == 0, result.output
    bot_calls = [call for call in server.calls if call.body["model"] in {"alpha", "beta"}]
    assert bot_calls
    for call in bot_calls:
        assert (call.body["temperature"], call.body["max_tokens"]) == (0.2, 9)
    assert {call.body["top_p"] for call in bot_calls if call.body["model"] == "alpha"} == {0.8}
    bad = CliRunner().invoke(main, ["arena", "--recipe", str(recipe), "--bot-top-p", "0"])
    assert bad.exit_code == 2 and "--bot-top-p" in bad.output
