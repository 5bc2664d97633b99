"""``--recipe FILE`` for a command group: a TOML file of option values, as click defaults.

Top-level keys apply to every subcommand that has the option; a table named after a
subcommand (``[topics]``) applies to that one and wins over the top level. Keys are the
long option names without dashes (``base_url``, ``max_tokens``, ``test``); options given
on the command line win over the recipe. An unknown key is bad input (exit 2) naming the
file and the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from interactive_agents._resources import read_toml
from interactive_agents.errors import ConfigError


def _option_names(command: click.Command) -> dict[str, str]:
    """Recipe key -> click parameter name, for every long option of ``command``."""
    names = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name is not None:
            for flag in (*param.opts, *param.secondary_opts):
                if flag.startswith("--"):
                    names[flag[2:].replace("-", "_")] = param.name
    return names


def recipe_default_map(group: click.Group, path: Path) -> dict[str, dict[str, Any]]:
    """The ``default_map`` for ``group``'s subcommands from the recipe at ``path``."""
    data = read_toml(path, "recipe")
    commands = {name: _option_names(command) for name, command in group.commands.items()}
    shared = {key: value for key, value in data.items() if not isinstance(value, dict)}
    tables = {key: value for key, value in data.items() if isinstance(value, dict)}
    for name in tables:
        if name not in commands:
            raise ConfigError(
                f"no subcommand {name!r} (one of {', '.join(commands)})", file=str(path), field=name
            )
    for key in shared:
        if not any(key in names for names in commands.values()):
            raise ConfigError("no subcommand has this option", file=str(path), field=key)
    defaults: dict[str, dict[str, Any]] = {}
    for name, names in commands.items():
        own = tables.get(name, {})
        for key in own:
            if key not in names:
                raise ConfigError(
                    f"no option --{key.replace('_', '-')} for {name}",
                    file=str(path),
                    field=f"{name}.{key}",
                )
        values = {**{k: v for k, v in shared.items() if k in names}, **own}
        defaults[name] = {names[key]: value for key, value in values.items()}
    return defaults
