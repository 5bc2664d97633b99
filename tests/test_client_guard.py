"""The client guard through ``simulate``: rejected client lines are asked again and kept."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import ConfigError
from interactive_agents.method._client_guard import ClientGuard
from interactive_agents.method._config import build_config
from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._quality import load_quality_rules
from interactive_agents.method._records import Turn
from interactive_agents.testing import Call, FakeServer

from .support import base_args, read_records

COUNSELOR = "What goes through your mind when the deadline gets close, part {turn}?"


def _simulate(
    server: FakeServer, tmp_path: Path, bad_lines: int, guard: str | None
) -> tuple[Counter[int], dict[str, Any]]:
    """One dialogue against a client that misbehaves ``bad_lines`` times per turn.

    The client echoes the counselor, then speaks as the counselor, alternately, and then
    behaves. ``guard`` is the recipe's ``[client_guard]`` table body (None: no recipe).
    """
    asked: Counter[int] = Counter()

    def script(call: Call) -> str:
        if call.role == "counselor":
            return COUNSELOR.format(turn=call.turn)
        asked[call.turn] += 1
        attempt = asked[call.turn]
        if attempt <= bad_lines:
            if attempt % 2 == 1:
                return call.last_user  # a verbatim echo of the counselor
            return "As your counselor, I think we should look at your sleep first."
        return f"My chest gets tight and I stare at the screen, part {call.turn}."

    server.script = script
    out = tmp_path / "run"
    args = [*base_args(server, out), "--limit", "1"]
    if guard is not None:
        recipe = tmp_path / "guard.toml"
        recipe.write_text(f"[client_guard]\n{guard}\n")
        args += ["--recipe", str(recipe)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (record,) = read_records(out / "dialogues.jsonl")
    return asked, record


def test_the_guard_rejects_echo_and_role_flip_and_keeps_them(
    server: FakeServer, tmp_path: Path
) -> None:
    asked, record = _simulate(server, tmp_path, 2, "enabled = true\nmax_attempts = 3")
    clients = [t for t in record["turns"] if t["role"] == "client"][1:]
    assert len(clients) == 2 and all(asked[turn] == 3 for turn in (2, 3))
    for turn in clients:
        assert turn["content"].startswith("My chest gets tight")
        assert turn["refiner_gave_up"] is False
        reasons = [r["reason"] for r in turn["rejected"]]
        assert reasons[0].startswith("echoes the counselor") and reasons[1] == (
            "speaks as the counselor"
        )
        assert turn["rejected"][0]["content"].startswith("What goes through your mind")


def test_when_attempts_run_out_the_last_line_is_kept_and_flagged(
    server: FakeServer, tmp_path: Path
) -> None:
    asked, record = _simulate(server, tmp_path, 10, "enabled = true\nmax_attempts = 2")
    last_client = [t for t in record["turns"] if t["role"] == "client"][-1]
    assert asked[3] == 2 and last_client["refiner_gave_up"] is True
    assert len(last_client["rejected"]) == 2
    assert last_client["content"] == last_client["rejected"][-1]["content"]


def test_off_by_default_nothing_is_rejected(server: FakeServer, tmp_path: Path) -> None:
    asked, record = _simulate(server, tmp_path, 1, None)
    echoed = record["turns"][2]
    assert echoed["content"] == record["turns"][1]["content"] and echoed["rejected"] == []
    assert set(asked.values()) == {1}
    (tmp_path / "off").mkdir()
    _, disabled = _simulate(server, tmp_path / "off", 1, "enabled = false")
    assert disabled["turns"][2]["rejected"] == []


def test_the_guard_changes_the_fingerprint_only_when_on() -> None:
    plain, off = build_config(), build_config(None, {"client_guard.enabled": False})
    on = build_config(None, {"client_guard.enabled": True})
    assert plain.fingerprint("p") == off.fingerprint("p") != on.fingerprint("p")
    with pytest.raises(ConfigError, match=r"client_guard\.max_attempts"):
        build_config(None, {"client_guard.max_attempts": 0})


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_guard_lets_ordinary_lines_through(language: str) -> None:
    guard = ClientGuard(load_quality_rules(load_prompts(language)))
    counselor = {
        "en": "How have you been sleeping since the move?",
        "zh": "搬家以后你的睡眠怎么样？",
    }[language]
    line = {"en": "Badly, I wake up at four most nights.", "zh": "不太好，我经常凌晨四点就醒了。"}
    turns = [Turn("client", "hi"), Turn("counselor", counselor)]
    assert guard.check(line[language], turns).accepted
    assert not guard.check(counselor, turns).accepted
    cue = load_prompts(language).counselor.cue("early", 2, 10).content
    assert guard.check(cue, turns).reason == "repeats the prompt or the stage cue"
