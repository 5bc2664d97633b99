"""Exec a command that dies with its parent.

Usage: ``python -m interactive_agents.llm.local._orphan_guard PARENT_PID -- COMMAND...``.

Linux's parent-death signal survives ``exec``: once set, the kernel kills the command
when the process that started it dies, even by SIGKILL, so a local model server never
outlives the engine. Elsewhere the command just runs (the engine still stops it on exit).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, signum: int) -> bool:
    """Have the kernel send ``signum`` to this process when ``parent`` dies (Linux; a
    no-op elsewhere). False if the parent is already gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signum)
        return os.getppid() == parent  # else the parent died before the signal was armed
    return True


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit(
            "usage: python -m interactive_agents.llm.local._orphan_guard PARENT_PID -- COMMAND..."
        )
    parent, command = int(argv[0]), argv[2:]
    if not die_with_parent(parent, signal.SIGKILL):
        sys.exit(1)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
