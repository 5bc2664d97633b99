"""The ``interactive-agents`` command: a thin click shell over the library.

Each subcommand lives in its own module and is imported only when it is used, so that
``interactive-agents simulate`` never pays for the imports of ``evaluate`` (scipy,
matplotlib, torch) and a missing optional extra only affects its own command.
"""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute", relative to this package.
SUBCOMMANDS: dict[str, str] = {
    "simulate": "simulate:simulate",
    "models": "models:models",
    "evaluate": "evaluate:evaluate",
    "elo": "elo:elo",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"{__name__}.{module_name}")
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="interactive-agents")
def main() -> None:
    """Simulate counselor-client sessions between LLMs, at scale.

    \b
    Start here:
      interactive-agents simulate --recipe quickstart      # offline, embedded model
      interactive-agents simulate --cards cards.jsonl --out runs/a \\
          --base-url http://localhost:8000/v1 --model Qwen2-7B-Instruct --language zh
    """
