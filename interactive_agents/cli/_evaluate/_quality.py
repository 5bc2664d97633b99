"""``evaluate quality``: the quality flags of every session, and their rates."""

from __future__ import annotations

import click

from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._evaluate._common import (
    CORPUS_HELP,
    actors_dir_option,
    corpus_command,
    evaluation_config,
    interruptible,
    language_option,
    show,
)
from interactive_agents.cli._options import entries_option
from interactive_agents.evaluation import evaluate_quality


@click.command(epilog=CORPUS_HELP)
@corpus_command
@language_option("The runs' language (prompts, phrase lists, drift); auto: detected per corpus.")
@actors_dir_option("A folder of custom prompt cards and quality phrase lists.")
@entries_option(
    "--threshold",
    key="quality.thresholds",
    default_text="those of docs/quality.md",
    help="Override a flag threshold (e.g. echo=0.5, closure_turns=5); repeatable.",
)
def quality(corpora: tuple[str, ...], out: str, as_json: bool, **_configured: object) -> None:
    """Quality flags per session: echo, repetition, role flip, prompt leakage, language
    drift, premature disclosure and premature closure (definitions: docs/quality.md).

    Flags stored in the records by simulate --quality-flags are used when they were
    computed under the same rules and thresholds from the same transcript; the others
    are computed (stored_flags in quality.json says how many were read).

    \b
    Examples:
      interactive-agents evaluate quality runs/a runs/b --out reports/quality
      interactive-agents evaluate quality runs/a --out reports/quality \\
          --language zh --threshold echo=0.5 --threshold closure_turns=5
    """
    with interruptible("quality"), usage_errors():
        config = evaluation_config(click.get_current_context())
        done = evaluate_quality(corpora, config, out)
    show(done, as_json=as_json)
