"""Flags that set configuration fields: the CLI's only job between the shell and a config.

Every such flag is a :class:`ConfigOption` naming one dotted key of the command's
configuration (``--client-temperature`` sets ``client.sampling.temperature``). It has no
default of its own: a flag not given leaves the recipe's value, or the configuration's
default, which is the one ``--help`` shows. :func:`overrides` collects what was given,
and the command hands it with its recipe to the one builder
(:func:`interactive_agents.build_config`).

The endpoint flags are declared once here, with a role prefix (:func:`endpoint_options`),
and so are the sampling flags (:func:`sampling_options`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import click

from interactive_agents import build_config
from interactive_agents.errors import ConfigError
from interactive_agents.llm import EndpointConfig

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C")
CONFIG = "config"  # the group of the flags that set the command's configuration


class ConfigOption(click.Option):
    """An option setting the dotted ``key`` of the configuration group ``group``."""

    def __init__(
        self,
        param_decls: Sequence[str],
        *,
        key: str,
        group: str = CONFIG,
        default_text: str | None = None,
        **attrs: Any,
    ) -> None:
        attrs.setdefault("default", None)
        super().__init__(param_decls, **attrs)
        self.key = key
        self.group = group
        self.default_text = default_text

    def sets(self, field: str) -> bool:
        """Whether this option sets the dotted ``field``."""
        return self.key == field

    def get_help_extra(self, ctx: click.Context) -> Any:
        """The configuration's default, as ``[default: VALUE]`` (the flag has none)."""
        extra = super().get_help_extra(ctx)
        extra.pop("default", None)
        if self.default_text is not None:
            extra["default"] = self.default_text
        return extra


def option(*decls: str, key: str, kind: type | None = None, **attrs: Any) -> Callable[[F], F]:
    """A :class:`ConfigOption`; with ``kind``, its help shows the default of ``key`` there."""
    if kind is not None and "default_text" not in attrs:
        attrs["default_text"] = default_text(kind, key)
    return click.option(*decls, cls=ConfigOption, key=key, **attrs)


def _entries(
    _ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """``NAME=VALUE`` values as (NAME, VALUE) pairs; the builder checks names and values."""
    pairs = []
    for value in values:
        name, equals, text = value.partition("=")
        if not name or not equals or not text:
            raise click.BadParameter(f"{value!r}: expected NAME=VALUE", param=param)
        pairs.append((name, text))
    return tuple(pairs)


class EntriesOption(ConfigOption):
    """A repeatable ``NAME=VALUE`` option setting entries of the table ``key``, one dotted
    key each (``--threshold echo=0.5``: ``quality.thresholds.echo``), so the recipe's
    other entries stay as they are."""

    def __init__(self, param_decls: Sequence[str], **attrs: Any) -> None:
        attrs.setdefault("metavar", "NAME=VALUE")
        super().__init__(param_decls, multiple=True, callback=_entries, **attrs)

    def sets(self, field: str) -> bool:
        return field == self.key or field.startswith(f"{self.key}.")


def entries_option(*decls: str, key: str, **attrs: Any) -> Callable[[F], F]:
    """An :class:`EntriesOption` for the table ``key``."""
    return click.option(*decls, cls=EntriesOption, key=key, **attrs)


def default_text(kind: type, dotted: str) -> str | None:
    """How ``--help`` shows a field's default (None: it has none worth showing)."""
    value: Any = kind()
    for name in dotted.split("."):
        value = getattr(value, name)
    if value is None or value in ((), ""):
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def overrides(ctx: click.Context, group: str = CONFIG) -> dict[str, Any]:
    """The dotted keys set by the flags of ``group`` given on the command line."""
    given: dict[str, Any] = {}
    for param in ctx.command.params:
        if not isinstance(param, ConfigOption) or param.group != group or param.name is None:
            continue
        value = ctx.params.get(param.name)
        unset_flag = param.is_flag and not param.secondary_opts and value is False
        if value is None or value == () or unset_flag:
            continue
        if isinstance(param, EntriesOption):
            given.update({f"{param.key}.{name}": text for name, text in value})
            continue
        given[param.key] = list(value) if isinstance(value, tuple) else value
    return given


def configuration(
    kind: type[C],
    ctx: click.Context,
    recipe: str | Mapping[str, Any] | None = None,
    *,
    group: str = CONFIG,
) -> C:
    """The configuration ``kind``: ``recipe`` (a file, or a table such as the command's
    arguments), then the flags of ``group`` given.

    An error names the field, and the flags that set it (``--client-model`` or
    ``--model`` for ``client.endpoint.model``).
    """
    try:
        return build_config(recipe, overrides(ctx, group), kind=kind)
    except ConfigError as exc:
        flags = _flags_setting(ctx, exc.field)
        if not flags:
            raise
        hint = f"{exc.reason} (set it with {' or '.join(flags)})"
        raise ConfigError(hint, file=exc.file, record=exc.record, field=exc.field) from exc


def _flags_setting(ctx: click.Context, field: str | None) -> list[str]:
    """The flags of ``ctx``'s command that set ``field``, its own before shared ones."""
    if field is None:
        return []
    shared = field.split(".", 1)[1] if field.count(".") >= 2 else None
    found = []
    for wanted in (field, shared):
        for param in ctx.command.params:
            if isinstance(param, ConfigOption) and wanted is not None and param.sets(wanted):
                found.append(param.opts[0])
    return found


def recipe_option(builtins: str) -> Callable[[F], F]:
    """``--recipe``: the TOML the flags override (a path or a bundled recipe's name)."""
    return click.option(
        "--recipe", metavar="FILE|NAME", help=f"A TOML recipe: a path or a built-in ({builtins})."
    )


# The eight basic endpoint flags: (flag, EndpointConfig field, click type, help). Their
# values are checked by the configuration, whose error names the field and the flag.
_BASIC: list[tuple[str, str, Any, str]] = [
    ("base-url", "base_urls", str, "OpenAI-compatible base URL; repeat for replicas"),
    ("model", "model", str, "Model name sent with every request"),
    ("api-key-env", "api_key_env", str, "NAME of the environment variable holding the key"),
    ("concurrency", "concurrency", int, "Requests in flight at once"),
    ("rpm", "rpm", int, "Requests per minute (0: no limit)"),
    ("tpm", "tpm", int, "Tokens per minute (0: no limit)"),
    ("timeout", "timeout", float, "Seconds per request"),
    ("max-retries", "max_retries", int, "Retries on 429, 5xx, timeouts"),
]
# Fault handling and replica routing: shared flags only.
_FAULTS: list[tuple[str, str, Any, str]] = [
    ("max-retry-wait", "max_retry_wait", float, "Longest wait between retries"),
    ("health-window", "health_window", float, "Seconds failing before a pause"),
    ("outage-limit", "outage_limit", float, "Seconds down before exit 75"),
    ("max-response-bytes", "max_response_bytes", int, "Largest reply (0: any)"),
    ("oversize", "oversize", click.Choice(["reject", "truncate"]), "What a too-large reply gets"),
    ("routing", "routing", click.Choice(["affinity", "fewest"]), "Replica routing policy"),
    ("routing-epsilon", "routing_epsilon", float, "Affinity's load bound: (1 + e) x the mean"),
    ("replica-capacity", "replica_capacity", int, "Requests per replica"),
]
_DEFAULT_CONCURRENCY = "64; 1 for the embedded model"


def endpoint_options(
    table: str = "endpoint", flags: str = "", *, faults: bool = False
) -> Callable[[F], F]:
    """The endpoint flags ``--{flags}base-url`` ... setting the table ``table``.

    ``endpoint_options()`` gives the shared flags (``[endpoint]``, every role),
    ``endpoint_options("client.endpoint", "client-")`` the client's own, which win over
    the shared ones key by key. ``faults`` adds fault handling and replica routing.
    """
    shared = flags == ""
    whose = "every role" if table == "endpoint" else table.split(".")[0]
    rows = _BASIC + (_FAULTS if faults else [])

    def decorate(command: F) -> F:
        if faults:
            command = option(
                "--cache-hint/--no-cache-hint",
                key=f"{table}.cache_hint",
                default_text="off",
                help="Send each dialogue role as prompt_cache_key (hosted APIs).",
            )(command)
        for flag, name, click_type, help_text in reversed(rows):
            shown = _shown_default(name) if shared else None
            fallback = "" if shared else f"; default: --{flag}"
            command = option(
                f"--{flags}{flag}",
                key=f"{table}.{name}",
                type=click_type,
                multiple=name == "base_urls",
                default_text=shown,
                help=f"{help_text} ({whose}{fallback}).",
            )(command)
        return command

    return decorate


def _shown_default(name: str) -> str | None:
    if name == "concurrency":
        return _DEFAULT_CONCURRENCY
    return default_text(EndpointConfig, name)


def sampling_options(
    table: str, flags: str, *, kind: type, base: str | None = None, whose: str | None = None
) -> Callable[[F], F]:
    """``--{flags}temperature``, ``--{flags}top-p``, ``--{flags}max-tokens`` setting
    ``{table}.sampling`` (``table`` "": the top-level ``[sampling]``; ``base``: another
    table, for ``whose`` replies); the help shows the defaults of ``kind``, the
    command's configuration class."""
    base = base or (f"{table}.sampling" if table else "sampling")
    whose = whose or table or "every request"
    rows = [
        ("temperature", click.FloatRange(0, 2), "Sampling temperature"),
        ("top-p", click.FloatRange(0, 1, min_open=True), "Nucleus sampling top-p"),
        ("max-tokens", click.IntRange(min=1), "Most tokens per reply"),
    ]

    def decorate(command: F) -> F:
        for flag, click_type, help_text in reversed(rows):
            key = f"{base}.{flag.replace('-', '_')}"
            command = option(
                f"--{flags}{flag}",
                key=key,
                kind=kind,
                type=click_type,
                help=f"{help_text} ({whose}).",
            )(command)
        return command

    return decorate
