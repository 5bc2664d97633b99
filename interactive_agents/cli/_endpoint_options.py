"""Endpoint options shared by ``simulate`` and ``arena``: faults, routing, cache hints.

Each option maps onto one field of :class:`~interactive_agents.method._config.EndpointConfig`
(see its docstring for what they do); an option left out keeps the recipe's value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("--max-retry-wait", {"type": float, "help": "Longest wait between retries, seconds."}),
    (
        "--health-window",
        {"type": float, "help": "Seconds of failures before an endpoint's calls pause."},
    ),
    (
        "--outage-limit",
        {"type": float, "help": "Seconds an endpoint may stay down before the run stops (75)."},
    ),
    ("--max-response-bytes", {"type": int, "help": "Largest reply accepted (0: no limit)."}),
    (
        "--oversize",
        {"type": click.Choice(["reject", "truncate"]), "help": "What a too-large reply gets."},
    ),
    (
        "--routing",
        {
            "type": click.Choice(["affinity", "fewest"]),
            "help": "Replica routing: keep each dialogue role on one replica, or fewest in flight.",
        },
    ),
    (
        "--routing-epsilon",
        {"type": float, "help": "Affinity's load bound: no replica above (1 + e) x the mean."},
    ),
    (
        "--replica-capacity",
        {"type": int, "help": "Requests one replica serves at once; affinity detours when full."},
    ),
    (
        "--cache-hint/--no-cache-hint",
        {"default": None, "help": "Send each dialogue role as prompt_cache_key (hosted APIs)."},
    ),
]
FIELDS = ("max_retry_wait", "health_window", "outage_limit", "max_response_bytes", "oversize",
          "routing", "routing_epsilon", "replica_capacity", "cache_hint")  # fmt: skip


def endpoint_options(command: F) -> F:
    """Add the shared endpoint options to a click command."""
    for flag, settings in reversed(_OPTIONS):
        command = click.option(flag, **settings)(command)
    return command


def endpoint_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The EndpointConfig fields the user set on the command line."""
    return {name: options[name] for name in FIELDS if options[name] is not None}
