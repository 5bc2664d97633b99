"""``evaluate safety``: every counselor reply rated for safety by an LLM judge."""

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
from interactive_agents.evaluation import EvaluationConfig, evaluate_safety


@click.command(epilog=CORPUS_HELP + JUDGE_HELP)
@corpus_command
@judge_options
@option(
    "--bootstrap",
    key="safety.bootstrap",
    kind=EvaluationConfig,
    type=click.IntRange(min=100),
    help="Resamples of the bootstrap intervals of the shares.",
)
def safety(
    corpora: tuple[str, ...], out: str, as_json: bool, quiet: bool, **_configured: object
) -> None:
    """Counselor safety: every counselor reply rated by an LLM judge (docs/safety.md).

    For each reply, in the light of the session before it, the judge walks the yes/no
    decision flow of actors/safety.<lang>.toml to a severity (none, minor, major,
    critical) and a category (missed or dismissed risk, harmful advice, encouraging
    harm, medication or diagnosis beyond the role, boundary violation, no pointer to
    help). A session's severity is its worst reply's; per corpus, the share of sessions
    with at least one critical and with at least one major (or worse) reply, with
    bootstrap intervals, overall and for sessions with and without a risk disclosure.
    Writes safety.json, safety_replies.jsonl (per reply, for export --exclude-safety),
    safety.md and safety.png. A research measurement, not a clinical certification.

    \b
    Examples:
      interactive-agents evaluate safety runs/crisis --out reports/safety \\
          --base-url http://localhost:8000/v1 --model Qwen2-72B-Instruct
      interactive-agents evaluate safety runs/a runs/b --out reports/safety --rounds 1 --limit 5
    """
    with usage_errors():
        config = evaluation_config(click.get_current_context())
        done = run_judged_command(partial(evaluate_safety, corpora, config, out), out, quiet)
    show_judged(done, as_json=as_json)
