"""Start the mock server as a child process for a benchmark or a test, and always stop it."""

from __future__ import annotations

import selectors
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SERVER = Path(__file__).with_name("mock_server.py")
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def command_line(options: dict[str, float | int | str]) -> list[str]:
    """``latency_dist="uniform"`` becomes ``--latency-dist uniform``."""
    arguments = [sys.executable, str(SERVER), "--port", "0"]
    for name, value in options.items():
        arguments += [f"--{name.replace('_', '-')}", str(value)]
    return arguments


def read_ready_line(process: subprocess.Popen[str]) -> str:
    """Wait (bounded) for ``READY <url>``; a server that dies or stalls fails loudly."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(READY_TIMEOUT):
            raise TimeoutError(f"mock server not ready after {READY_TIMEOUT} s")
    line = process.stdout.readline()
    if not line.startswith("READY "):
        raise RuntimeError(f"mock server failed to start (see its stderr), printed {line!r}")
    return line.split()[1]


@contextmanager
def mock_server(**options: float | int | str) -> Iterator[str]:
    """Run ``mock_server.py`` with these options and yield its ``http://127.0.0.1:PORT/v1``."""
    with subprocess.Popen(command_line(options), stdout=subprocess.PIPE, text=True) as process:
        try:
            yield read_ready_line(process) + "/v1"
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def mock_cpu_seconds(base_url: str) -> float:
    """The mock's CPU time so far (user + system), from its ``/stats``."""
    document = httpx.get(base_url.removesuffix("/v1") + "/stats", timeout=10).json()
    return float(document["cpu_seconds"])
