"""Recipes: TOML tables turned into typed, frozen configurations, the same way for every
command.

Each command's configuration (``RunConfig``, ``ArenaConfig``, ``EvaluationConfig``,
``TrainConfig``, ``BenchConfig``) is a frozen dataclass built by :func:`build` from a
recipe (a TOML path, the name of a bundled recipe, or a table given in code) and dotted
overrides (``{"client.sampling.temperature": 0.9}``; the CLI maps each flag to one such
key). So a table means the same thing in every recipe: ``[endpoint]`` is an
:class:`~interactive_agents.llm.EndpointConfig` shared by every role, ``[ROLE.endpoint]``
overrides it for one role, ``[ROLE.sampling]`` is that role's sampling.

A configuration class may declare, as class variables:

- ``SHARED``: a table that is the default of others (``{"endpoint": ("client.endpoint",
  "counselor.endpoint")}``); a role's own table wins key by key;
- ``PATHS``: keys holding paths, read relative to the recipe's folder when the file is
  there (so a recipe can name the cards beside it);
- ``MOVED``: keys of older recipes and where each now lives; such a key is refused with
  an error naming its new place, never silently ignored.

Unknown keys are refused too, and every error names the recipe file and the dotted
field. Checks that span fields live in each class's ``__post_init__`` and raise
:class:`FieldError`, so a configuration built in code is checked exactly as one read
from a recipe.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from interactive_agents._resources import read_toml, resolve
from interactive_agents.errors import ConfigError

C = TypeVar("C")
Recipe = str | Path | Mapping[str, Any] | None


class FieldError(ConfigError, ValueError):
    """A ConfigError that msgspec, converting a recipe, locates like its own errors.

    msgspec wraps a ValueError raised while building a nested object in a
    ValidationError pointing at that object; :func:`build` adds the field named here.
    """


def build(kind: type[C], recipe: Recipe = None, overrides: Mapping[str, Any] | None = None) -> C:
    """The configuration ``kind`` from ``recipe``, then ``overrides`` (None: not given)."""
    raw, source = read_recipe(recipe)
    if source is not None:
        _anchor_paths(raw, getattr(kind, "PATHS", ()), Path(source).parent)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            _set_override(raw, dotted, value, source)
    _refuse_moved(raw, getattr(kind, "MOVED", {}), source)
    raw = _inherit_shared(raw, kind, source)
    _refuse_unknown(raw, kind, source)
    _fill_defaults(raw, kind())
    config = _convert(raw, kind, source)
    for name, value in _integers(dataclasses.asdict(config)):  # type: ignore[call-overload]
        if not -(2**63) <= value < 2**63:
            raise ConfigError(
                "out of range (a 64-bit integer, as the manifest stores it)",
                file=source,
                field=name,
            )
    return config


def read_recipe(recipe: Recipe) -> tuple[dict[str, Any], str | None]:
    """A recipe as a raw table (a copy), and the file it came from (None: given in code)."""
    if recipe is None:
        return {}, None
    if isinstance(recipe, Mapping):
        return copy.deepcopy(dict(recipe)), None
    path = resolve(recipe, "runners", (".toml",))
    return read_toml(path, "recipe"), str(path)


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``dotted == "a.b"``, creating tables."""
    *parents, last = dotted.split(".")
    node = data
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value


def get_dotted(data: Mapping[str, Any], dotted: str) -> Any:
    """``data["a"]["b"]`` for ``"a.b"``; a KeyError when any part is missing."""
    node: Any = data
    for name in dotted.split("."):
        if not isinstance(node, Mapping) or name not in node:
            raise KeyError(dotted)
        node = node[name]
    return node


def field_default(kind: type, dotted: str) -> Any:
    """The default of a dotted field of ``kind`` (nested defaults followed)."""
    value: Any = kind()
    for name in dotted.split("."):
        value = getattr(value, name)
    return value


def _anchor_paths(raw: dict[str, Any], keys: tuple[str, ...], folder: Path) -> None:
    """Relative paths in a recipe are relative to the recipe, unless they name built-ins.

    ``keys`` are dotted (``topics.topic_set``).
    """
    for key in keys:
        try:
            value = get_dotted(raw, key)
        except KeyError:
            continue
        if isinstance(value, str) and not Path(value).is_absolute():
            candidate = folder / value
            if candidate.exists():
                set_dotted(raw, key, str(candidate))


def _set_override(raw: dict[str, Any], dotted: str, value: Any, source: str | None) -> None:
    """An override on top of the recipe; a recipe value that is not a table is reported."""
    try:
        set_dotted(raw, dotted, value)
    except (AttributeError, TypeError) as exc:
        parent = dotted.rpartition(".")[0]
        raise ConfigError("expected a table", file=source, field=parent) from exc


def _refuse_moved(raw: dict[str, Any], moved: Mapping[str, str], source: str | None) -> None:
    """A key of an older recipe is an error naming where it lives now."""
    for old, new in moved.items():
        try:
            value = get_dotted(raw, old)
        except KeyError:
            continue
        if isinstance(value, dict) and new.startswith(f"{old}."):
            continue  # already the new table
        raise ConfigError(f"this key moved: set {new!r} instead", file=source, field=old)


def _inherit_shared(raw: dict[str, Any], kind: type, source: str | None) -> dict[str, Any]:
    """Overlay each shared table (``[endpoint]``) with the tables that inherit from it."""
    for name, targets in getattr(kind, "SHARED", {}).items():
        shared = raw.pop(name, {})
        _refuse_unknown(shared, _field_type(kind, targets[0]), source, prefix=f"{name}.")
        for target in targets:
            parent_key, _, last = target.rpartition(".")
            if parent_key and not isinstance(raw.get(parent_key), dict):
                raw.setdefault(parent_key, {})
            parent = get_dotted(raw, parent_key) if parent_key else raw
            own = parent.get(last, {}) if isinstance(parent, dict) else None
            if isinstance(own, dict):
                parent[last] = {**shared, **own}
    return raw


def _fill_defaults(raw: dict[str, Any], default: Any) -> None:
    """A table given in part keeps the configuration's defaults for the keys it leaves out.

    msgspec would fill them from the nested class's own defaults, which are not always
    the configuration's (a client samples at most 256 tokens, a bare ``Sampling`` 512).
    """
    for key, value in raw.items():
        nested = getattr(default, key, None)
        if not isinstance(value, dict) or not dataclasses.is_dataclass(nested):
            continue
        for name, base in msgspec.to_builtins(nested).items():
            value.setdefault(name, base)
        _fill_defaults(value, nested)


def _field_type(kind: type, dotted: str) -> type:
    """The declared type of a dotted field of ``kind``."""
    current = kind
    for name in dotted.split("."):
        current = typing.get_type_hints(current)[name]
    return current


def _refuse_unknown(raw: Any, kind: type, source: str | None, prefix: str = "") -> None:
    """A misspelt key is an error, not a setting silently left at its default."""
    if not isinstance(raw, dict):
        raise ConfigError(
            f"expected a table, got {type(raw).__name__}", file=source, field=prefix.rstrip(".")
        )
    hints = typing.get_type_hints(kind)
    known = {f.name for f in dataclasses.fields(kind)}
    for key in sorted(raw, key=str):
        if key not in known:
            raise ConfigError(
                f"unknown key (known: {', '.join(sorted(known))})",
                file=source,
                field=f"{prefix}{key}",
            )
        nested = _dataclass_of(hints[key])
        if nested is not None and raw[key] is not None:
            _refuse_unknown(raw[key], nested, source, f"{prefix}{key}.")
        table_of = _table_values(hints[key])
        if table_of is not None and isinstance(raw[key], dict):
            for name, value in raw[key].items():
                _refuse_unknown(value, table_of, source, f"{prefix}{key}.{name}.")


def _dataclass_of(hint: Any) -> type | None:
    """The dataclass a field holds (``X`` or ``X | None``), if any."""
    candidates = (
        typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, _UnionType) else (hint,)
    )
    for candidate in candidates:
        if isinstance(candidate, type) and dataclasses.is_dataclass(candidate):
            return candidate
    return None


def _table_values(hint: Any) -> type | None:
    """The dataclass of a ``dict[str, X]`` field's values (tables of tables), if any."""
    if typing.get_origin(hint) is dict:
        return _dataclass_of(typing.get_args(hint)[1])
    return None


_UnionType = type(int | None)


def _convert(raw: dict[str, Any], kind: type[C], source: str | None) -> C:
    """``raw`` as ``kind``, every failure located by file and dotted field."""
    try:
        return msgspec.convert(raw, kind, strict=False)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `")
        where = path.rstrip("`")[2:]
        cause = exc.__cause__
        if isinstance(cause, FieldError):
            message = cause.reason
            where = ".".join(part for part in (where, cause.field) if part)
        raise ConfigError(message, file=source, field=where or None) from exc


def _integers(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, int]]:
    """Every integer setting, by dotted name."""
    for key, value in table.items():
        if isinstance(value, Mapping):
            yield from _integers(value, f"{prefix}{key}.")
        elif isinstance(value, int) and not isinstance(value, bool):
            yield f"{prefix}{key}", value
