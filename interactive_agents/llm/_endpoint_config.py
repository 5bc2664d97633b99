"""One OpenAI-compatible endpoint as configured, and the checks of its URL and key name.

Checked when the configuration is built (a recipe, flags, a bots registry or code),
so a bad value is reported once with its field, never as an error in every dialogue.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from interactive_agents._recipes import FieldError
from interactive_agents.llm._redaction import redact_userinfo


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """One OpenAI-compatible model, possibly served by several replicas.

    No ``base_urls`` means the embedded local model, started by the engine.
    ``concurrency`` defaults to 1 for the local server (it answers one request at a
    time) and 64 for a remote one; ``rpm``/``tpm`` of 0 mean unlimited.

    Faults: a transient failure (429, 5xx, timeout, reset, a 200 that is not a chat
    completion) is retried up to ``max_retries`` times, each wait at most
    ``max_retry_wait`` seconds (a ``Retry-After`` header lengthens a wait, never past
    that). An endpoint failing (refused, 5xx, timeouts) for ``health_window`` seconds is
    paused: one probe at a time, no retries spent, until it answers; failing for
    ``outage_limit`` seconds stops the run (``EndpointDownError``). A reply over
    ``max_response_bytes`` is refused as transient (``oversize = "reject"``) or cut
    (``"truncate"``, flagged on the completion); 0 means no limit.

    Routing over replicas: ``affinity`` (default) keeps each stream (one role of one
    dialogue) on one replica, where its history is in the prefix cache: assigned on its
    first call by consistent hashing with bounded loads (no replica given more than
    ``1 + routing_epsilon`` times the mean of the live streams), moved only while that
    replica is unhealthy or full (``replica_capacity`` requests in flight; 0: never
    full). ``fewest`` sends each call to the replica with the fewest in flight.
    ``cache_hint`` sends the stream as ``prompt_cache_key``, which hosted APIs use the
    same way.
    """

    base_urls: tuple[str, ...] = ()
    model: str = ""
    api_key_env: str | None = None
    concurrency: int | None = None
    rpm: int = 0
    tpm: int = 0
    timeout: float = 120.0
    max_retries: int = 6
    max_retry_wait: float = 30.0
    health_window: float = 10.0
    outage_limit: float = 300.0
    max_response_bytes: int = 1_000_000
    oversize: Literal["reject", "truncate"] = "reject"
    routing: Literal["affinity", "fewest"] = "affinity"
    routing_epsilon: float = 0.1
    replica_capacity: int = 0
    cache_hint: bool = False

    @property
    def is_local(self) -> bool:
        return not self.base_urls

    @property
    def max_concurrency(self) -> int:
        if self.concurrency is not None:
            return self.concurrency
        return 1 if self.is_local else 64

    def key(self) -> tuple[tuple[str, ...], str, str | None]:
        """Roles whose endpoints share this key share one backend and one scheduler."""
        return (self.base_urls, self.model, self.api_key_env)

    def __post_init__(self) -> None:
        """However it is built (recipe, flags, a registry, code), an endpoint is usable."""
        for url in self.base_urls:
            check_url(url, field="base_urls")
        if self.api_key_env is not None:
            check_variable_name(self.api_key_env, field="api_key_env")
        for name in ("rpm", "tpm", "max_response_bytes"):
            if getattr(self, name) < 0:
                raise FieldError("must not be negative (0: no limit)", field=name)
        for name in ("max_retries", "max_retry_wait", "health_window", "outage_limit"):
            if getattr(self, name) < 0:
                raise FieldError("must not be negative", field=name)
        if self.timeout <= 0:
            raise FieldError("must be positive", field="timeout")
        if self.routing_epsilon <= 0:
            raise FieldError("must be positive", field="routing_epsilon")
        if self.concurrency is not None and self.concurrency < 1:
            raise FieldError("must be at least 1", field="concurrency")
        if self.replica_capacity < 0:
            raise FieldError("must not be negative (0: unknown)", field="replica_capacity")


_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_url(
    url: object, *, field: str, file: str | None = None, record: str | None = None
) -> str:
    """``url`` if it is a usable http(s) base URL, else a ConfigError naming the field.

    Caught here, when the configuration is built, rather than as a ValueError in every
    dialogue: a port out of range, an unclosed IPv6 bracket, no scheme or host, spaces,
    credentials (they belong in an environment variable), a query or a fragment.
    """

    def fail(message: str) -> typing.NoReturn:
        raise FieldError(message, file=file, record=record, field=field)

    if not isinstance(url, str):
        fail(f"expected a URL string, got {type(url).__name__}")
    masked = redact_userinfo(url)  # the message may end up anywhere: never a password
    shown = repr(masked) if len(masked) <= 200 else f"{masked[:200]!r}..."
    if not url.isprintable() or any(char.isspace() for char in url):
        fail(f"{shown} is not a URL: it contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        fail(f"{shown} is not a valid URL: {exc}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"{shown} is not an http(s) URL with a host (e.g. http://localhost:8000/v1)")
    if port == 0:
        fail(f"{shown} has port 0")
    if parts.username is not None or parts.password is not None:
        fail(
            f"{shown}: credentials do not belong in a URL: put the key in a variable (api_key_env)"
        )
    if parts.query or parts.fragment:
        fail(f"{shown} is a base URL and may have no query or fragment")
    return url


def check_variable_name(
    name: object, *, field: str, file: str | None = None, record: str | None = None
) -> str:
    """``name`` if it can name an environment variable, else a ConfigError.

    The value is never echoed: what was passed may be the secret key itself, and the
    message ends up on terminals and in logs.
    """
    if not isinstance(name, str) or _VARIABLE_NAME.fullmatch(name) is None:
        raise FieldError(
            "must be the NAME of the environment variable holding the key (letters, digits "
            "and _, not starting with a digit), never the key itself",
            file=file,
            record=record,
            field=field,
        )
    return name
