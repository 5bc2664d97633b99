"""What every ``evaluate`` subcommand shares: the corpora and report flags, the flags of
settings used by several subcommands, the configuration, and how results are shown."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich import box
from rich.console import Console
from rich.table import Table

from interactive_agents.cli._errors import EXIT_INTERRUPTED
from interactive_agents.cli._options import configuration, option
from interactive_agents.cli._progress import print_json
from interactive_agents.evaluation import (
    DRAWS,
    LANGUAGE_CHOICES,
    TEST_KINDS,
    Evaluation,
    EvaluationConfig,
    ReportTable,
)

F = TypeVar("F", bound=Callable[..., Any])

CORPUS_HELP = """
\b
CORPUS is an engine run directory (holding dialogues.jsonl), a ShareGPT/OpenAI
`messages` file (JSON list or JSON Lines), a raw dialogue file (a JSON list of
{"role": "client"|"counselor", "content"}), or a folder of such files; the layout is
detected. Each CORPUS is reported separately, side by side.
"""


def apply_decorators(command: F, decorators: list[Callable[[F], F]]) -> F:
    """``command`` under ``decorators``, the first one outermost (as written above it)."""
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def corpus_command(command: F) -> F:
    """The corpora, the report folder and the output: what every subcommand takes."""
    return apply_decorators(
        command,
        [
            click.argument(
                "corpora", metavar="CORPUS...", nargs=-1, required=True, type=click.Path()
            ),
            click.option(
                "--out",
                required=True,
                type=click.Path(file_okay=False),
                help="Folder for the JSON, Markdown and PNG report (created if missing).",
            ),
            option(
                "--skip-invalid",
                key="skip_invalid",
                kind=EvaluationConfig,
                is_flag=True,
                help="Leave malformed records out (and count them) instead of stopping.",
            ),
            option(
                "--limit",
                key="limit",
                type=click.IntRange(min=1),
                default_text="all",
                help="Only the first N dialogues of each corpus.",
            ),
            click.option(
                "--json", "as_json", is_flag=True, help="Print the JSON result instead of a table."
            ),
        ],
    )


def quiet_option(help: str) -> Callable[[F], F]:
    """``--quiet``: what it leaves out differs (the judged commands still print a table)."""
    return click.option("--quiet", "-q", is_flag=True, help=help)


def language_option(help: str) -> Callable[[F], F]:
    """``--language``: zh, en, or auto (detected per corpus)."""
    return option(
        "--language",
        key="language",
        kind=EvaluationConfig,
        type=click.Choice(LANGUAGE_CHOICES),
        help=help,
    )


def seed_option(help: str) -> Callable[[F], F]:
    """``--seed``: one seed, of the random groups or of the judge's calls."""
    return option("--seed", key="seed", kind=EvaluationConfig, type=int, help=help)


def actors_dir_option(help: str) -> Callable[[F], F]:
    """``--actors-dir``: custom prompt cards (the judges') or phrase lists (quality)."""
    return option(
        "--actors-dir",
        key="actors_dir",
        type=click.Path(exists=True, file_okay=False),
        default_text="the bundled actors/",
        help=help,
    )


def card_comparison_options(table: str) -> Callable[[F], F]:
    """The mapping-versus-random design of ``table`` (overlap, semantic): seed, test, draw."""

    def decorate(command: F) -> F:
        return apply_decorators(
            command,
            [
                seed_option("Seed of the random group."),
                option(
                    "--test",
                    key=f"{table}.test",
                    kind=EvaluationConfig,
                    type=click.Choice(TEST_KINDS),
                    help="Student's t-test (as the paper) or the paired t-test (same sessions).",
                ),
                option(
                    "--draw",
                    key=f"{table}.draw",
                    kind=EvaluationConfig,
                    type=click.Choice(DRAWS),
                    help="Random cards: an independent draw per dialogue, or a permutation "
                    "(each card used once, never a dialogue's own).",
                ),
            ],
        )

    return decorate


def evaluation_config(ctx: click.Context) -> EvaluationConfig:
    """The configuration: ``evaluate --recipe``, then the flags given to the subcommand."""
    recipe = ctx.parent.params.get("recipe") if ctx.parent is not None else None
    return configuration(EvaluationConfig, ctx, recipe)


@contextmanager
def interruptible(command: str) -> Iterator[None]:
    """Ctrl-C in a command without an answer cache: say so, exit 130 (nothing to resume)."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(f"interrupted: evaluate {command} stopped before writing its report", err=True)
        sys.exit(EXIT_INTERRUPTED)


def print_table(table: ReportTable) -> None:
    """A summary table on stdout, unwrapped when stdout is not a terminal (logs)."""
    shown = Table(*table.headers, title=table.title, box=box.SIMPLE_HEAD, pad_edge=False)
    for row in table.rows:
        shown.add_row(*row)
    Console(width=None if sys.stdout.isatty() else 160).print(shown)


def show(evaluation: Evaluation[Any], *, as_json: bool, quiet: bool = False) -> None:
    """The JSON report (``--json``), or the summary table and where the report is."""
    if as_json:
        print_json(evaluation.payload)
        return
    if quiet:
        return
    print_table(evaluation.table)
    click.echo(f"Report: {evaluation.report}")
