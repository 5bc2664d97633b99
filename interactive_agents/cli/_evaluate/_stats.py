"""``evaluate stats``: dataset statistics, as Table 1."""

from __future__ import annotations

import click

from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._evaluate._common import (
    CORPUS_HELP,
    corpus_command,
    evaluation_config,
    interruptible,
    quiet_option,
    show,
)
from interactive_agents.evaluation import evaluate_stats


@click.command(epilog=CORPUS_HELP)
@corpus_command
@quiet_option("No progress bar and no table (the report is written).")
def stats(
    corpora: tuple[str, ...], out: str, as_json: bool, quiet: bool, **_configured: object
) -> None:
    """Dataset statistics, as Table 1: conversations, turns, utterances, lengths.

    \b
    Examples:
      interactive-agents evaluate stats runs/a --out reports/stats
      interactive-agents evaluate stats runs/a sharegpt.json raw/ --out reports/stats --json
    """
    with interruptible("stats"), usage_errors():
        config = evaluation_config(click.get_current_context())
        done = evaluate_stats(corpora, config, out)
    show(done, as_json=as_json, quiet=quiet)
