"""``evaluate wai``: the counselor's working alliance, WAI-O-S rated by an LLM judge."""

from __future__ import annotations

from functools import partial

import click

from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._evaluate._common import CORPUS_HELP, corpus_command, evaluation_config
from interactive_agents.cli._evaluate._judge import (
    JUDGE_HELP,
    judge_options,
    run_judged_command,
    show_judged,
)
from interactive_agents.cli._options import option
from interactive_agents.evaluation import ALPHA_LEVELS, EvaluationConfig, evaluate_wai


@click.command(epilog=CORPUS_HELP + JUDGE_HELP)
@corpus_command
@judge_options
@option(
    "--alpha-level",
    key="wai.alpha_level",
    kind=EvaluationConfig,
    type=click.Choice(ALPHA_LEVELS),
    help="Level of measurement of Krippendorff's alpha across the rounds.",
)
def wai(
    corpora: tuple[str, ...], out: str, as_json: bool, quiet: bool, **_configured: object
) -> None:
    """Counselor evaluation: WAI-O-S working alliance rated by an LLM judge (docs/method.md).

    The judge rates the 12 items one per call, in several rounds, from 1 to 7; items 4
    and 10 are reversed; Goal, Task and Bond are scored per dialogue, summarised per
    corpus, compared with t-tests and drawn as box plots. How far the judge agrees with
    itself across the rounds is Krippendorff's alpha (over all items and per item; it
    needs --rounds 2 or more, and is null with the reason otherwise).

    \b
    Examples:
      interactive-agents evaluate wai runs/a runs/b --out reports/wai \\
          --base-url http://gpu1:8000/v1 --base-url http://gpu2:8000/v1 --model Qwen2-72B-Instruct
      interactive-agents evaluate wai runs/a --out reports/wai --rounds 1 --limit 5   # local
    """
    with usage_errors():
        config = evaluation_config(click.get_current_context())
        done = run_judged_command(partial(evaluate_wai, corpora, config, out), out, quiet)
    show_judged(done, as_json=as_json)
