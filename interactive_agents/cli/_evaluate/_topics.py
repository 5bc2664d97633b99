"""``evaluate topics``: client diversity, the entropy of the topics an LLM assigns."""

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
from interactive_agents.evaluation import EvaluationConfig, evaluate_topics


@click.command(epilog=CORPUS_HELP + JUDGE_HELP)
@corpus_command
@judge_options
@option(
    "--topics",
    key="topics.topic_set",
    metavar="NAME_OR_PATH",
    default_text="the bundled 60 topics of the prompt's language",
    help="Topic set (TOML).",
)
@option(
    "--max-topics",
    key="topics.max_topics",
    kind=EvaluationConfig,
    type=click.IntRange(min=1),
    help="Most topics the rater may assign to one dialogue.",
)
def topics(
    corpora: tuple[str, ...], out: str, as_json: bool, quiet: bool, **_configured: object
) -> None:
    """Client diversity: entropy of the topics an LLM assigns to the clients (docs/method.md).

    In each round, the rater assigns topics from the topic set to every dialogue's
    client utterances; the entropy of each round's topic distribution is reported as
    mean ± std over rounds, compared between corpora with a t-test and plotted.

    \b
    Examples:
      interactive-agents evaluate topics runs/a ../shared/data/reference/dialogues \\
          --out reports/topics --base-url http://localhost:8000/v1 --model Qwen2-7B-Instruct
      interactive-agents evaluate topics runs/a --out reports/topics --limit 20   # local model
    """
    with usage_errors():
        config = evaluation_config(click.get_current_context())
        done = run_judged_command(partial(evaluate_topics, corpora, config, out), out, quiet)
    show_judged(done, as_json=as_json)
