"""The fake started as a child process, so that its CPU time is not the caller's."""

from __future__ import annotations

import selectors
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from interactive_agents.testing._command import command_arguments
from interactive_agents.testing._options import ServerOptions

READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def read_ready_line(process: subprocess.Popen[str]) -> list[str]:
    """The URLs of ``READY URL…``, waited for (bounded): a server that dies or stalls fails."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(READY_TIMEOUT):
            raise TimeoutError(f"the fake server was not ready after {READY_TIMEOUT:g} s")
    line = process.stdout.readline()
    if not line.startswith("READY "):
        raise RuntimeError(f"the fake server did not start (see its stderr), printed {line!r}")
    return line.split()[1:]


@contextmanager
def spawn(options: ServerOptions | None = None, *, replicas: int = 1) -> Iterator[list[str]]:
    """Run ``python -m interactive_agents.testing`` with ``options`` and ``replicas``;
    yields each replica's base URL (``http://127.0.0.1:PORT/v1``); stopped on leaving."""
    command = [sys.executable, "-m", "interactive_agents.testing"]
    command += [*command_arguments(options or ServerOptions()), "--replicas", str(replicas)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            yield [url + "/v1" for url in read_ready_line(process)]
        finally:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
