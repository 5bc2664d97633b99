"""How every command ends: exit codes, and bad input reported as one line on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from interactive_agents.errors import EngineError

EXIT_FAILURES = 1  # the run completed, but some items failed (see the failure records)
EXIT_USAGE = 2  # bad input or configuration, or a part that could not start
EXIT_STORAGE = 74  # the run directory could not be written (sysexits EX_IOERR)
EXIT_UNAVAILABLE = 75  # an endpoint stayed down past the outage limit; re-run to resume
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM; re-run the same command to resume


class UsageFailure(click.ClickException):
    """An engine error shown as ``Error: <file, record, field: reason>``, exit code 2."""

    exit_code = EXIT_USAGE


@contextmanager
def usage_errors() -> Iterator[None]:
    """Turn the engine's errors (InputError naming file, record and field included)
    and unreadable files into a clean message and exit code 2."""
    try:
        yield
    except (EngineError, OSError) as exc:
        raise UsageFailure(str(exc)) from exc
