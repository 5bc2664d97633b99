"""The ``interactive-agents`` command: a thin click shell over the library.

Each subcommand lives in its own module and is imported only when it is used, so that
``interactive-agents simulate`` never pays for the imports of ``evaluate`` (scipy,
matplotlib, torch) and a missing optional extra only affects its own command.
"""

from __future__ import annotations

import importlib

import click

from interactive_agents.errors import install_hint

# name -> ("module:attribute" relative to this package, the extra it needs, short help).
SUBCOMMANDS: dict[str, tuple[str, str | None, str]] = {
    "simulate": ("_simulate:simulate", None, "Run counselor-client sessions for role cards."),
    "models": ("_models:models", None, "Show the embedded local model and how to use others."),
    "evaluate": (
        "_evaluate:evaluate",
        "eval",
        "Judge corpora: stats, overlap, semantic, quality, topics, WAI, safety.",
    ),
    "elo": ("_elo:elo", "eval", "Elo and Bradley-Terry ratings from arena battles."),
    "agreement": ("_agreement:agreement", "eval", "Judges calibrated against people's ratings."),
    "bench": (
        "_bench:bench",
        None,
        "Load-test an OpenAI-compatible server with counseling traffic.",
    ),
    "export": ("_export:export", None, "Turn dialogues into training data (ShareGPT / OpenAI)."),
    "train": ("_train:train", "train", "Fine-tune a counselor bot (full or LoRA)."),
    "serve": ("_serve:serve", "local", "Serve counselor bots with vLLM or llama.cpp."),
    "arena": ("_arena:arena", None, "Rank counselor bots: Algorithm 2 with an LLM judge."),
    "annotate": ("_annotate:annotate", "web", "People judge battles and rate sessions."),
    "repair": ("_repair:repair", None, "Quarantine damaged lines of a run directory, then resume."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List subcommands from the table above, importing none of them, each with the
        optional extra it needs."""
        rows = [(name, _listed_help(*SUBCOMMANDS[name][1:])) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
            formatter.write_paragraph()
            formatter.write_text(
                "[EXTRA]: the optional extra the command needs, installed with "
                "pip install 'interactive-agents[EXTRA]' ('.[EXTRA]' in a clone). "
                "The embedded model (no --base-url) needs [local], evaluate semantic "
                "[embed], --ray [ray]."
            )

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = SUBCOMMANDS.get(cmd_name)
        if entry is None:
            return None
        target, extra, short_help = entry
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(f"{__name__}.{module_name}")
        except ModuleNotFoundError as exc:
            if (exc.name or "").partition(".")[0] == "interactive_agents":
                raise  # a bug of ours, not a missing extra: show it as it is
            return _missing_extra(cmd_name, extra, short_help, exc)
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command


def _listed_help(extra: str | None, short_help: str) -> str:
    """A command's line in the listing: its short help and the extra it needs."""
    return f"{short_help} [{extra}]" if extra else short_help


def _missing_extra(
    name: str, extra: str | None, short_help: str, error: ModuleNotFoundError
) -> click.Command:
    """A stand-in command that explains which optional extra to install."""
    hint = install_hint(extra) if extra else "reinstall the package"

    @click.command(
        name,
        short_help=short_help,
        help=f"{short_help}\n\nNot available here ({error}): {hint}",
        context_settings={"ignore_unknown_options": True},
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def unavailable(args: tuple[str, ...]) -> None:
        raise click.ClickException(f"'{name}' is not available here ({error}); {hint}")

    return unavailable


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)
@click.version_option(package_name="interactive-agents")
def main() -> None:
    """Simulate counselor-client sessions between LLMs, at scale.

    \b
    Start here:
      interactive-agents simulate --recipe quickstart      # offline, embedded model
      interactive-agents simulate --cards cards.jsonl --out runs/a \\
          --base-url http://localhost:8000/v1 --model Qwen2-7B-Instruct --language zh
    """
