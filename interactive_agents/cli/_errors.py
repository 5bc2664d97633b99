"""How every command ends: exit codes, and bad input reported as one line on stderr."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import click

from interactive_agents import runtime
from interactive_agents.errors import (
    EndpointDownError,
    EngineError,
    RunStorageError,
    ShardFailedError,
)
from interactive_agents.llm import redact

EXIT_FAILURES = 1  # the run completed, but some items failed (see the failure records)
EXIT_USAGE = 2  # bad input or configuration, or a part that could not start
EXIT_STORAGE = 74  # the run directory could not be written (sysexits EX_IOERR)
EXIT_UNAVAILABLE = 75  # an endpoint stayed down, or a shard died; re-run to resume
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM; re-run the same command to resume


def run_until_interrupted(main: Callable[..., Awaitable[int]], *args: object) -> int:
    """``main(*args)`` on the engine's event loop; a Ctrl-C that comes before the run
    installs its own handlers (while a server starts or the endpoints are probed) ends
    it with exit 130 too, not with click's "Aborted!" and 1."""
    try:
        return runtime.run_with_uvloop(main, *args)
    except KeyboardInterrupt:
        click.echo("interrupted while starting; re-run the same command to resume", err=True)
        return EXIT_INTERRUPTED


class UsageFailure(click.ClickException):
    """An engine error shown as ``Error: <file, record, field: reason>``, exit code 2."""

    exit_code = EXIT_USAGE


class StorageFailure(UsageFailure):
    """The run directory could not be written: exit code 74."""

    exit_code = EXIT_STORAGE


class UnavailableFailure(UsageFailure):
    """An endpoint stayed down past the outage limit, or a shard of the run died: exit
    code 75 (re-run to resume)."""

    exit_code = EXIT_UNAVAILABLE


def failure_of(error: BaseException) -> UsageFailure:
    """The one-line failure, with its exit code, of an error that stopped a command (any
    key, bearer token or URL password it quotes masked)."""
    message = redact(str(error))
    if isinstance(error, EndpointDownError | ShardFailedError):
        return UnavailableFailure(message)
    if isinstance(error, RunStorageError):
        return StorageFailure(message)
    return UsageFailure(message)


def _single(error: BaseException) -> BaseException:
    """The one error inside (nested) task-group exception groups, if there is just one."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


@contextmanager
def usage_errors() -> Iterator[None]:
    """Turn the engine's errors (InputError naming file, record and field included),
    unreadable files and a run stopped by its endpoint or its storage into one clean
    line and the matching exit code, also when a task group wrapped the error."""
    try:
        yield
    except (EngineError, OSError) as exc:
        raise failure_of(exc) from exc
    except BaseExceptionGroup as group:
        error = _single(group)
        if not isinstance(error, EngineError | OSError):
            raise
        raise failure_of(error) from error
