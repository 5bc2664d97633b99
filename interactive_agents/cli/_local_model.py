"""``--local-model``: which embedded model runs the roles that have no ``--base-url``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from interactive_agents.cli._options import option
from interactive_agents.errors import LocalServerError
from interactive_agents.llm import DEFAULT_LOCAL_MODEL, check_model_spec

F = TypeVar("F", bound=Callable[..., Any])


def _check(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A registry name or an existing file: refused before any card is read, not later."""
    if value is not None:
        try:
            check_model_spec(value)
        except LocalServerError as exc:
            raise click.BadParameter(str(exc)) from exc
    return value


def local_model_option(role: str, key: str = "local_model") -> Callable[[F], F]:
    """The option setting ``key``, its help naming what the model plays (``role``)."""
    return option(
        "--local-model",
        key=key,
        metavar="NAME|FILE",
        callback=_check,
        help=f"The embedded model for {role}: a name from `interactive-agents models` "
        f"(default {DEFAULT_LOCAL_MODEL}, or $INTERACTIVE_AGENTS_LOCAL_MODEL) or a GGUF file.",
    )
