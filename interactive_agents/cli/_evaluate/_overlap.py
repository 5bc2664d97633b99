"""``evaluate overlap``: vocabulary overlap of client utterances with the role card."""

from __future__ import annotations

import click

from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._evaluate._common import (
    CORPUS_HELP,
    card_comparison_options,
    corpus_command,
    evaluation_config,
    interruptible,
    language_option,
    quiet_option,
    show,
)
from interactive_agents.cli._options import option
from interactive_agents.evaluation import evaluate_overlap


@click.command(epilog=CORPUS_HELP)
@corpus_command
@card_comparison_options("overlap")
@language_option("Word segmentation: jieba (zh), regex words (en), or chosen per corpus (auto).")
@option(
    "--stopwords",
    key="overlap.stopwords",
    type=click.Path(exists=True, dir_okay=False),
    default_text="none, as in Eq. 1",
    help="File of stop words to drop, one per line.",
)
@quiet_option("No progress bar and no table (the report is written).")
def overlap(
    corpora: tuple[str, ...], out: str, as_json: bool, quiet: bool, **_configured: object
) -> None:
    """Vocabulary overlap rate of client utterances with the role card (Eq. 1).

    Each dialogue is scored against its own card (mapping group) and a randomly drawn
    other card (random group); the groups are compared with a two-tailed t-test.

    \b
    Examples:
      interactive-agents evaluate overlap runs/a --out reports/overlap
      interactive-agents evaluate overlap runs/a runs/b --out reports/overlap \\
          --seed 7 --language zh --stopwords stopwords_zh.txt
    """
    with interruptible("overlap"), usage_errors():
        config = evaluation_config(click.get_current_context())
        done = evaluate_overlap(corpora, config, out)
    show(done, as_json=as_json, quiet=quiet)
