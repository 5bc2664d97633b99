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
from interactive_agents.cli._options import entries_option, option
from interactive_agents.evaluation import evaluate_quality


@click.command(epilog=CORPUS_HELP)
@corpus_command
@language_option("The runs' language (prompts, phrase lists, drift); auto: detected per corpus.")
@actors_dir_option("A folder of custom prompt cards and quality phrase lists.")
@option(
    "--labels",
    key="quality.labels",
    type=click.Path(exists=True, dir_okay=False),
    default_text="none",
    help="Hand labels of the sessions (JSON Lines: id, labels, closings): the report adds "
    "each flag's precision and recall and each terminator mode's premature endings.",
)
@entries_option(
    "--threshold",
    key="quality.thresholds",
    default_text="those of docs/quality.md",
    help="Override a flag threshold (e.g. echo=0.5, closure_turns=5); repeatable.",
)
def quality(corpora: tuple[str, ...], out: str, as_json: bool, **_configured: object) -> None:
    """Quality flags per session: echo, repetition, role flip, prompt leakage, language
    drift, premature disclosure and closure, degenerate sessions and template tokens
    (definitions: docs/quality.md).

    Flags stored in the records by simulate --quality-flags are used when they were
    computed under the same rules and thresholds from the same transcript; the others
    are computed (stored_flags in quality.json says how many were read). With --labels,
    the flags are measured against a person's labels of the same sessions.

    \b
    Examples:
      interactive-agents evaluate quality runs/a runs/b --out reports/quality
      interactive-agents evaluate quality runs/a --out reports/quality \\
          --language zh --threshold echo=0.5 --threshold closure_turns=5
      interactive-agents evaluate quality tests/fixtures/quality_labels/en.jsonl \\
          tests/fixtures/quality_labels/zh.jsonl \\
          --labels tests/fixtures/quality_labels/labels.jsonl --out reports/labels
    """
    with interruptible("quality"), usage_errors():
        config = evaluation_config(click.get_current_context())
        done = evaluate_quality(corpora, config, out)
    show(done, as_json=as_json)
