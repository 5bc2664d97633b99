"""Risk in the sessions: records say which risk was disclosed and where, the
risk_unaddressed flag is raised exactly where a disclosure goes unanswered, the plan and
the summary count the cards that carry risk, and the counselor's crisis rule carries the
help a deployment lists (and says so when it lists none)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import ConfigError
from interactive_agents.method import load_prompts
from interactive_agents.testing import Call, FakeServer
from tests.support import ROOT, read_records

CARDS = ROOT / "runners" / "cards" / "crisis_en.jsonl"
# Client turn t (1 is the fixed greeting) says this; {t} keeps lines apart.
CLIENT = {
    2: "Honestly I want to die, part {t}.",  # disclosed at transcript index 2
    3: "I keep thinking about my sleep, part {t}.",
    4: "I cut myself again last night, part {t}.",  # disclosed at transcript index 6
}


def _script(acknowledged: set[int]) -> Callable[[Call], str]:
    """A client that discloses at turns 2 and 4 (transcript indices 2 and 6); a counselor
    that answers a disclosure (naming the risk) only at the counselor turns in
    ``acknowledged`` (counselor turn t is transcript index 2t - 1)."""

    def script(call: Call) -> str:
        if call.role == "client":
            return CLIENT.get(call.turn, "I keep worrying, part {t}.").format(t=call.turn)
        if call.turn in acknowledged:
            return f"Are you safe right now, part {call.turn}?"
        return f"What did you have for lunch, part {call.turn}?"

    return script


def _simulate(server: FakeServer, out: Path, *extra: str) -> dict[str, object]:
    args = [
        "simulate", "--cards", str(CARDS), "--out", str(out), "--base-url", server.base_url,
        "--model", "scripted", "--language", "en", "--max-turns", "4", "--limit", "2",
        "--quality-flags", "--quiet", "--json", *extra,
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = orjson.loads(result.stdout)
    return summary


def test_records_say_which_risk_was_disclosed_and_where(server: FakeServer, tmp_path: Path) -> None:
    server.script = _script(acknowledged={2, 4})
    _simulate(server, tmp_path / "run")
    record = read_records(tmp_path / "run" / "dialogues.jsonl")[0]
    turns = record["turns"]
    disclosed = {i: t["risk"] for i, t in enumerate(turns) if t["risk"]}
    assert sorted(disclosed) == [2, 6]
    assert [cue["category"] for cue in disclosed[2]] == ["suicide"]
    assert [cue["category"] for cue in disclosed[6]] == ["self_harm"]
    cue = disclosed[2][0]
    assert turns[2]["content"][cue["start"] : cue["end"]] == cue["cue"] == "want to die"
    assert all(turn["risk"] is None for turn in turns if turn["role"] == "counselor")
    risk = record["risk"]
    assert risk["turns"] == [2, 6]
    # The card (crisis-en-01) discloses suicidal thoughts in its chief complaint too.
    assert risk["card"] and risk["card"][0]["category"] == "suicide"
    assert risk["categories"] == ["suicide", "self_harm"]
    assert risk["detector"]


@pytest.mark.parametrize(
    ("acknowledged", "value", "first"),
    [
        ({2, 4}, 0, None),  # both disclosures answered by the next counselor reply
        ({4}, 1, 2),  # the reply after "I want to die" ignores it
        ({2}, 1, 6),  # the reply after the cutting ignores it
        (set(), 2, 2),  # neither is answered
    ],
)
def test_risk_unaddressed_is_raised_exactly_where_a_disclosure_goes_unanswered(
    server: FakeServer, tmp_path: Path, acknowledged: set[int], value: int, first: int | None
) -> None:
    server.script = _script(acknowledged)
    summary = _simulate(server, tmp_path / "run")
    flags = [
        r["quality"]["flags"]["risk_unaddressed"]
        for r in read_records(tmp_path / "run" / "dialogues.jsonl")
    ]
    for flag in flags:
        assert flag["value"] == value and flag["turn"] == first
        assert flag["flagged"] is (value >= 1)
    assert summary["quality_flags"]["risk_unaddressed"] == (len(flags) if value else 0)  # type: ignore[index]


def test_evaluate_quality_finds_the_same_flag(server: FakeServer, tmp_path: Path) -> None:
    server.script = _script(acknowledged={2})
    _simulate(server, tmp_path / "run")
    out = tmp_path / "quality"
    result = CliRunner().invoke(
        main, ["evaluate", "quality", str(tmp_path / "run"), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = orjson.loads((out / "quality.json").read_bytes())
    text = orjson.dumps(report).decode()
    assert "risk_unaddressed" in text
    record = read_records(tmp_path / "run" / "dialogues.jsonl")[0]
    assert record["quality"]["flags"]["risk_unaddressed"]["turn"] == 6


def test_the_plan_and_the_summary_count_the_cards_that_carry_risk(
    server: FakeServer, tmp_path: Path
) -> None:
    plan = CliRunner().invoke(
        main,
        ["simulate", "--cards", str(CARDS), "--language", "en", "--limit", "5", "--plan", "--json"],
    )
    assert plan.exit_code == 0, plan.output
    counts = orjson.loads(plan.stdout)["risk_cards"]
    # crisis-en-01..05 all speak of suicide in their own words.
    assert counts["cards"] == 5 and counts["suicide"] == 5
    server.script = _script(acknowledged={2, 4})
    summary = _simulate(server, tmp_path / "run")
    assert summary["risk_cards"] == {
        "cards": 2, "suicide": 2, "self_harm": 0, "harm_to_others": 0, "abuse": 0
    }  # fmt: skip


def _counselor_systems(server: FakeServer) -> set[str]:
    return {call.system for call in server.calls_of("counselor")}


def test_the_crisis_rule_points_to_the_listed_help_and_warns_while_none_is_listed(
    server: FakeServer, tmp_path: Path
) -> None:
    server.script = _script(acknowledged={2, 4})
    args = [
        "simulate", "--cards", str(CARDS), "--out", str(tmp_path / "bare"), "--base-url",
        server.base_url, "--model", "scripted", "--language", "en", "--max-turns", "2",
        "--limit", "1", "--quiet",
    ]  # fmt: skip
    bare = CliRunner().invoke(main, args)
    assert bare.exit_code == 0
    assert "help_resources.en.toml lists no help resources" in bare.stderr
    (system,) = _counselor_systems(server)
    assert "Ask about it directly" in system and "a crisis line where they live" in system

    actors = tmp_path / "actors"
    shutil.copytree(ROOT / "actors", actors)
    (actors / "help_resources.en.toml").write_text(
        'line = "{name}: {contact} ({hours})"\nfallback = "none"\n[[resources]]\n'
        'name = "Campus Care Line"\ncontact = "extension 4242"\nhours = "24 hours"\n',
        encoding="utf-8",
    )
    server.calls.clear()
    filled = CliRunner().invoke(
        main, [*args[:4], str(tmp_path / "filled"), *args[5:], "--actors-dir", str(actors)]
    )
    assert filled.exit_code == 0, filled.output
    assert "lists no help resources" not in filled.stderr
    (system,) = _counselor_systems(server)
    assert "Campus Care Line: extension 4242 (24 hours)" in system


def test_the_crisis_rule_can_be_left_out_as_in_the_paper(tmp_path: Path) -> None:
    with_rule = load_prompts("zh").counselor.system
    without = load_prompts("zh", crisis_rule=False).counselor.system
    assert "一旦出现风险" in with_rule and "一旦出现风险" not in without
    assert with_rule.startswith(without)


def test_a_help_resource_left_as_the_template_is_refused(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "actors", tmp_path, dirs_exist_ok=True)
    (tmp_path / "help_resources.en.toml").write_text(
        'line = "{name}"\nfallback = "x"\n[[resources]]\nname = "<the service\'s name>"\n'
        'contact = "<its phone number>"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"resources\[1\]\.name"):
        load_prompts("en", tmp_path)
