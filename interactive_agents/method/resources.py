"""Where the bundled ``actors/`` and ``runners/`` folders are.

In a wheel they are package data under ``interactive_agents/_bundled``; in a checkout
(editable install) they are the top-level folders of the repository. A user names a
built-in card or recipe by name (``quickstart``) and a custom one by path.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from interactive_agents.errors import ConfigError

_PACKAGE = Path(__file__).resolve().parents[1]


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


def read_toml(path: str | Path, what: str = "file") -> dict[str, Any]:
    """A TOML file as a table, or a ConfigError naming the file and saying why."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the {what}: {exc.strerror or exc}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the {what} is not UTF-8 text: {exc}", file=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"the {what} is not valid TOML: {exc}", file=str(path)) from exc
