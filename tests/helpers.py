"""Small helpers shared by the integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import orjson
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.llm._endpoint import ChatEndpoint
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._retry import RetryPolicy
from interactive_agents.method._config import RunConfig, build_config

CLI = [sys.executable, "-m", "interactive_agents"]


def config_for(*urls: str, **overrides: Any) -> RunConfig:
    """A run against the scripted server(s); dotted overrides as in recipes."""
    settings: dict[str, Any] = {
        "language": "en",
        "max_turns": 3,
        "endpoint.base_urls": list(urls),
        "endpoint.model": "scripted",
        "endpoint.timeout": 5.0,
    }
    settings.update(overrides)
    return build_config(None, settings)


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def refused_simulate(tmp_path: Path, *flags: str) -> str:
    """``simulate`` of one card with ``flags``, against an endpoint nothing listens on: it
    must be refused with exit 2 before anything is written. Returns what it printed."""
    cards = tmp_path / "cards.jsonl"
    cards.write_text('{"chief_complaint": "I cannot sleep."}\n', encoding="utf-8")
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        ["simulate", "--cards", str(cards), "--out", str(out), "--model", "m",
         "--base-url", "http://127.0.0.1:9/v1", *flags],
    )  # fmt: skip
    assert result.exit_code == 2
    assert not out.exists()
    return result.output


def run_cli(
    args: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The command in a process of its own, to its end (bounded: a hung run fails)."""
    return subprocess.run([*CLI, *args], capture_output=True, check=False, env=env, timeout=240)


def start_cli(args: list[str], *, group: bool = False) -> subprocess.Popen[bytes]:
    """The command started in a process of its own; with ``group`` in a process group of
    its own too, so that a signal can reach a sharded run's parent and shards at once."""
    return subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=group
    )


def wait_for_records(
    path: Path, count: int, process: subprocess.Popen[bytes], timeout: float = 60.0
) -> None:
    """Until ``path`` holds ``count`` records; the process dying or stalling fails."""
    deadline = time.monotonic() + timeout
    while len(read_records(path)) < count:
        assert process.poll() is None, process.stderr.read() if process.stderr else b""
        assert time.monotonic() < deadline, "the run made no progress"
        time.sleep(0.05)


def kill_when_recorded(
    args: list[str], records: Path, count: int, *, group: bool = False, timeout: float = 60.0
) -> None:
    """Start the command and SIGKILL it once ``records`` holds ``count`` records, as a
    crash would; with ``group`` its whole process group (a sharded run's shards too)."""
    process = start_cli(args, group=group)
    wait_for_records(records, count, process, timeout)
    if group:
        os.killpg(process.pid, signal.SIGKILL)
    else:
        process.send_signal(signal.SIGKILL)
    process.communicate()


class VirtualTime:
    """A clock and a sleep for :class:`RetryPolicy`: every wait is recorded and passes at
    once (the clock jumps), and actions can be scheduled at a virtual instant, such as a
    server coming back after an outage."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        self._due: list[tuple[float, Callable[[], object]]] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += max(0.0, seconds)
        while self._due and self._due[0][0] <= self.now:
            _, action = self._due.pop(0)
            action()
        await anyio.lowlevel.checkpoint()

    def at(self, when: float, action: Callable[[], object]) -> None:
        self._due = sorted([*self._due, (when, action)], key=lambda item: item[0])

    def endpoint(self, config: EndpointConfig, **policy: Any) -> ChatEndpoint:
        """The endpoint of ``config`` on this virtual time."""
        retry = RetryPolicy.for_endpoint(config, sleep=self.sleep, clock=self.clock, **policy)
        return ChatEndpoint(config, retry=retry)


def write_bots_registry(path: Path, url: str, *, extra: str = "") -> Path:
    """A ``[bots.NAME]`` registry of bots alpha and beta, both served at ``url``."""
    path.write_text(
        "".join(
            f'[bots.{name}]\nbase_urls = ["{url}"]\nmodel = "{name}"\n{extra}'
            for name in ("alpha", "beta")
        ),
        encoding="utf-8",
    )
    return path
