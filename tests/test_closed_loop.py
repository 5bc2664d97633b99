"""The closed loop of issue 6 on the CPU: simulate, export, train, serve, simulate again.

Runs ``runners/closed_loop.sh`` as a user would, on the embedded model; the trained and
merged bot is converted to GGUF, served by llama.cpp, and answers as the counselor of a
new simulation through the engine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from .support import read_records

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(1200)
def test_the_closed_loop_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "loop"
    bin_dir = str(Path(sys.executable).parent)
    environment = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "DIALOGUES": "2",
                   "STEPS": "4"}  # fmt: skip
    result = subprocess.run(
        ["bash", str(ROOT / "runners" / "closed_loop.sh"), str(out)],
        capture_output=True,
        env=environment,
        check=False,
        timeout=1150,
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    summary = orjson.loads(result.stdout.decode().strip().splitlines()[-1])
    assert summary["models"]["counselor"] == "closed_loop_bot"
    assert (out / "model" / "merged").is_dir() and (out / "data" / "train.jsonl").is_file()
    (record,) = read_records(out / "with-bot" / "dialogues.jsonl")
    assert record["models"]["counselor"] == "closed_loop_bot"
    assert record["usage"]["completion_tokens"] > 0
    assert all(turn["content"].strip() for turn in record["turns"])
