"""The LLM judge of ``evaluate topics`` and ``evaluate wai``: its flags, and the run
under a progress bar that a Ctrl-C ends with a summary (exit 130), ready to resume."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click
from rich.console import Console

from interactive_agents import runtime
from interactive_agents.cli._errors import EXIT_FAILURES, EXIT_INTERRUPTED
from interactive_agents.cli._evaluate._common import (
    actors_dir_option,
    apply_decorators,
    language_option,
    print_table,
    quiet_option,
    seed_option,
    show,
)
from interactive_agents.cli._local_model import local_model_option
from interactive_agents.cli._options import endpoint_options, option, sampling_options
from interactive_agents.cli._progress import Snapshot, live_progress
from interactive_agents.evaluation import EvaluationConfig, JudgedEvaluation, JudgeMonitor
from interactive_agents.judging import JudgeProgress

F = TypeVar("F", bound=Callable[..., Any])
Item = TypeVar("Item")

JUDGE_HELP = """
\b
The judge is any OpenAI-compatible endpoint (--base-url, repeatable for replicas,
with --model); without --base-url the embedded local model is started. Every judge
answer is appended to a cache file in --out, so running the same command again pays
only for the calls not made yet; a changed prompt, model, sampling or seed asks again.
Answers the judge wrote in another form than asked are read where they are (inline,
in markdown, after reasoning); answers that still cannot be read, or that the judge
refused, are counted per item, left out of every figure and listed in the report.
Exit codes: 0 done, 1 not a measurement (more than --max-unparsable of the answers
unreadable, or judgements without an answer: the report says which), 2 bad input, 130
interrupted (the answers so far are kept: run the same command again).
"""


class JudgedEvaluationCall(Protocol[Item]):
    """``evaluate_topics`` or ``evaluate_wai`` with corpora, configuration and folder bound."""

    def __call__(self, *, monitor: JudgeMonitor) -> Awaitable[JudgedEvaluation[Item]]: ...


def judge_options(command: F) -> F:
    """The judge's endpoint, sampling and tries, the rounds, and what the prompts read."""
    return apply_decorators(
        command,
        [
            endpoint_options("judge.endpoint"),
            sampling_options("judge", "", kind=EvaluationConfig),
            option(
                "--attempts",
                key="judge.attempts",
                kind=EvaluationConfig,
                type=click.IntRange(min=1),
                help="Answers asked per judgement when the answer cannot be parsed (1 + retries).",
            ),
            option(
                "--max-unparsable",
                key="judge.max_unparsable",
                kind=EvaluationConfig,
                type=click.FloatRange(0, 1),
                help="Largest share of unparsable or refused answers before the run "
                "counts as failed (exit 1).",
            ),
            option(
                "--rounds",
                key="rounds",
                kind=EvaluationConfig,
                type=click.IntRange(min=1),
                help="Independent rounds per judgement.",
            ),
            option(
                "--force-mix-rubrics",
                key="force_mix_rubrics",
                kind=EvaluationConfig,
                is_flag=True,
                help="Compare corpora scored with different judge cards or models anyway.",
            ),
            seed_option("Seed of the calls."),
            language_option("Language of the judge's prompt; auto: detected per corpus."),
            actors_dir_option("A folder of custom prompt cards (a copy of actors/)."),
            local_model_option("the judge (when no --base-url is given)"),
            quiet_option("No progress bar."),
        ],
    )


def _snapshot(progress: JudgeProgress) -> Snapshot:
    details = (
        f"calls {progress.calls} · cached {progress.cached} · "
        f"retries {progress.retries} · unparsable {progress.unparsable} · "
        f"refused {progress.refused} · errors {progress.errors}"
    )
    return progress.total or None, progress.done, details


def run_judged_command(
    evaluation: JudgedEvaluationCall[Item], out: str, quiet: bool
) -> JudgedEvaluation[Item]:
    """Run a judged evaluation under a progress bar; Ctrl-C: a summary and exit 130."""
    console = Console(stderr=True, quiet=quiet)

    def watch(live: JudgeProgress) -> AbstractAsyncContextManager[None]:
        snapshot = partial(_snapshot, live)
        return live_progress("judgements", snapshot, console, enabled=not quiet)

    def starting() -> None:
        console.print("starting the embedded model (llama.cpp server) ...")

    monitor = JudgeMonitor(watch=watch, on_local_start=starting)
    try:
        return runtime.run_with_uvloop(partial(evaluation, monitor=monitor))
    except KeyboardInterrupt:
        progress, run = monitor.progress, monitor.run
        click.echo(
            f"interrupted: {progress.done} of {progress.total} judgements done "
            f"({progress.calls} calls, {progress.cached} cached, {progress.unparsable} "
            f"unparsable, {progress.refused} refused, {progress.errors} errors); "
            f"every answer received is kept in {Path(out) / run.cache_file}; "
            "run the same command again to go on",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)


def show_judged(evaluation: JudgedEvaluation[Any], *, as_json: bool) -> None:
    """The summary (or JSON) and the t-tests, then what could not be read; exit 1 when
    the run is not a measurement (:attr:`JudgedEvaluation.failure`)."""
    show(evaluation, as_json=as_json)
    if evaluation.tests and not as_json:
        print_table(evaluation.tests_table)
    run = evaluation.run
    if evaluation.failure:
        click.echo(f"not a measurement: {evaluation.failure}; see {evaluation.report}", err=True)
        sys.exit(EXIT_FAILURES)
    if run.failed:
        click.echo(
            f"{run.unparsable} unparsable and {run.refused} refused answers "
            f"({run.unread_share:.1%}, within the {run.max_unparsable:.0%} allowed) are "
            f"left out of every figure: see {evaluation.report}",
            err=True,
        )
