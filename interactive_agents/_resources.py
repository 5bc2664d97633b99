"""Where the bundled ``actors/`` and ``runners/`` folders are, and how input files are read.

In a wheel they are package data under ``interactive_agents/_bundled``; in a checkout
(editable install) they are the top-level folders of the repository. A user names a
built-in card or recipe by name (``quickstart``) and a custom one by path.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from interactive_agents.errors import ConfigError, InputError

_PACKAGE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """The bundled folder ``name`` (``actors`` or ``runners``)."""
    for candidate in (_PACKAGE / "_bundled" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise ConfigError(f"the bundled folder {name!r} is missing from this installation")


def resolve(name_or_path: str | Path, folder: str, suffixes: tuple[str, ...]) -> Path:
    """A path as given if it exists, else a bundled file ``folder/name{suffix}``.

    ``folder`` is relative to the bundled data, e.g. ``runners`` or ``runners/cards``.
    """
    path = Path(name_or_path)
    if path.exists():
        return path
    base = bundled_dir(folder)
    for suffix in ("", *suffixes):
        candidate = base / f"{name_or_path}{suffix}"
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in base.iterdir() if p.suffix in suffixes)
    raise ConfigError(
        f"no such file, and nothing of that name in the built-in {folder} ({', '.join(known)})",
        file=str(name_or_path),
    )


def read_toml(
    path: str | Path, what: str = "file", error: type[InputError] = ConfigError
) -> dict[str, Any]:
    """A TOML file as a table, or an ``error`` naming the file and saying why.

    Besides unreadable files and bad syntax, tomllib lets through two errors of its own
    that must not become tracebacks: RecursionError for tables nested thousands deep and
    ValueError for an integer longer than Python converts (``sys.set_int_max_str_digits``).
    """
    try:
        return parse_toml(Path(path).read_bytes().decode("utf-8"))
    except OSError as exc:
        raise error(f"cannot read the {what}: {exc.strerror or exc}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise error(f"the {what} is not UTF-8 text: {exc}", file=str(path)) from exc
    except ValueError as exc:  # TOMLDecodeError is a ValueError
        raise error(f"the {what} is not valid TOML: {exc}", file=str(path)) from exc


def string_list(value: object, path: str | Path, field: str) -> tuple[str, ...]:
    """A card's list of non-empty strings (phrases, aliases, patterns), or a ConfigError
    naming the file and the field."""
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ConfigError("expected a list of non-empty strings", file=str(path), field=field)
    return tuple(value)


def parse_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``, with nesting too deep reported as the ValueError it is."""
    try:
        return tomllib.loads(text)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def natural_key(path: Path) -> tuple[tuple[int, str], ...]:
    """Sort ``train_2`` before ``train_10``; any file name at all is a valid key.

    Only ASCII digits count as numbers (``"²".isdigit()`` is true, ``int("²")`` fails),
    and every part is an (int, str) pair, so names never compare an int with a str.
    """
    return tuple(
        (int(part), "") if part.isascii() and part.isdigit() else (-1, part)
        for part in re.split(r"([0-9]{1,18})", path.name, flags=re.ASCII)
        if part
    )
