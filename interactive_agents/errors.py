"""The one exception tree of the engine.

```
EngineError
├── InputError                  bad user input; names file, record and field
│   ├── CardError               a role card that cannot be read or validated
│   └── ConfigError             a recipe or flag that cannot be used
├── RunDirectoryError           a run directory that cannot be resumed as asked
│   ├── RunLockedError          another process is writing to the run directory
│   └── RunStorageError         the run directory cannot be written (disk full, I/O error)
├── BackendError                an LLM endpoint call that failed for good
│   ├── RateLimitedError        429 after every retry
│   ├── EndpointTimeoutError    no answer in time after every retry
│   ├── ServerError             5xx or a dropped connection after every retry
│   ├── BadResponseError        an answer that is not a chat completion
│   └── EndpointUnusableError   the endpoint cannot serve this run at all: the run stops
│       ├── PermanentEndpointError  401, 403, 404, a 400 naming the model, bad host or URL
│       └── EndpointDownError       the endpoint stayed unreachable past the outage limit
├── SessionError                a session that could not go on (refiner gave up, empty client)
├── LocalServerError            the embedded llama.cpp server could not start
├── SessionCancelledError       a submitted dialogue that was cancelled before it finished
├── ActorStoppedError           a request to an actor that has stopped
└── ShardFailedError            a shard of a sharded run died or stopped on its own
```
Lower-level errors are mapped to the most specific class with ``raise ... from exc``.
A message that needs an optional extra names it with :func:`install_hint`.
"""

from __future__ import annotations

__all__ = [
    "ActorStoppedError",
    "BackendError",
    "BadResponseError",
    "CardError",
    "ConfigError",
    "EndpointDownError",
    "EndpointTimeoutError",
    "EndpointUnusableError",
    "EngineError",
    "InputError",
    "LocalServerError",
    "PermanentEndpointError",
    "RateLimitedError",
    "RunDirectoryError",
    "RunLockedError",
    "RunStorageError",
    "ServerError",
    "SessionCancelledError",
    "SessionError",
    "ShardFailedError",
    "install_hint",
]


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class InputError(EngineError):
    """Bad input, located as precisely as we can: file, record and field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: str | int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.record = record
        self.field = field
        self.reason = message
        where = []
        if file is not None:
            where.append(str(file))
        if record is not None:
            where.append(f"record {record}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class CardError(InputError):
    """A role card that cannot be read or validated."""


class ConfigError(InputError):
    """A recipe, option or environment setting that cannot be used."""


class RunDirectoryError(EngineError):
    """A run directory whose manifest does not match the run asked for."""


class RunLockedError(RunDirectoryError):
    """Another live process holds the run directory's lock (one writer per run)."""


class RunStorageError(RunDirectoryError):
    """Writing the run directory failed (disk full, permissions, an I/O error)."""


class BackendError(EngineError):
    """An LLM call that failed for good (after the retries it was allowed)."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        self.status = status
        self.url = url
        super().__init__(message)


class RateLimitedError(BackendError):
    """The endpoint kept answering 429."""


class EndpointTimeoutError(BackendError):
    """The endpoint did not answer within the configured timeout."""


class ServerError(BackendError):
    """The endpoint answered 5xx or dropped the connection."""


class BadResponseError(BackendError):
    """The endpoint answered, but not with a usable chat completion."""


class EndpointUnusableError(BackendError):
    """No dialogue can succeed on this endpoint now: the whole run stops at once.

    The runner records no card as failed for it, so the corrected re-run (or, for an
    outage, the resumed one) does every unfinished dialogue.
    """


class PermanentEndpointError(EndpointUnusableError):
    """An answer no retry can change: 401, 403, 404, a 400 naming the model, an
    unresolvable host or a malformed URL."""


class EndpointDownError(EndpointUnusableError):
    """The endpoint kept failing (refused, 5xx, timeouts) for longer than the outage limit."""


class SessionError(EngineError):
    """A session that cannot continue for a reason of its own, not the endpoint's."""


class SessionCancelledError(EngineError):
    """The dialogue was cancelled before it finished; nothing was recorded for it."""


class LocalServerError(EngineError):
    """The embedded llama.cpp server is missing or did not come up."""


class ActorStoppedError(EngineError):
    """A message was sent to an actor that is no longer running."""


class ShardFailedError(EngineError):
    """A shard of a sharded run stopped early (its process died, or it was stopped on its
    own); the other shards' records are kept and a re-run of the command finishes it."""


def install_hint(extra: str) -> str:
    """``pip install 'interactive-agents[EXTRA]'``, and the form for a clone: the package
    is installed from a clone or a git URL until it is published, so both are named."""
    return f"pip install 'interactive-agents[{extra}]' (in a clone: pip install -e '.[{extra}]')"
