"""``interactive-agents arena``: Algorithm 2 with an LLM judge, into a run directory."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from interactive_agents import runtime
from interactive_agents.arena import (
    BATTLES,
    DISAGREEMENTS,
    PAIRINGS,
    UNDECIDED,
    Arena,
    ArenaConfig,
    ArenaInputs,
    arena_inputs,
    judge_answers,
    read_battles,
)
from interactive_agents.cli._errors import (
    EXIT_FAILURES,
    EXIT_INTERRUPTED,
    run_until_interrupted,
    usage_errors,
)
from interactive_agents.cli._options import (
    configuration,
    endpoint_options,
    option,
    recipe_option,
    sampling_options,
)
from interactive_agents.cli._progress import print_json, run_counters, server_rows, summary_table
from interactive_agents.cli._run_options import run_options
from interactive_agents.cli._shards import (
    ShardChoice,
    play,
    shard_choice,
    shard_executor,
    shards_table,
)
from interactive_agents.errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])

EXAMPLES = """
\b
Examples:
  # The paper's design: one dialogue per held-out card, two bots drawn at random,
  # judged by guideline 2 (skills) in both presentation orders:
  interactive-agents arena --bots runners/bots.paper.toml \\
      --cards ../shared/data/reference/client_pool_test.json --out runs/arena \\
      --client-base-url http://gpu1:8000/v1 --client-model Qwen2-72B-Instruct \\
      --judge-base-url https://api.openai.com/v1 --judge-model gpt-4o \\
      --judge-api-key-env OPENAI_API_KEY --guideline 2
\b
  # Every pair of bots 20 times, one presentation order, ethics guideline:
  interactive-agents arena --bots bots.toml --cards cards.jsonl --out runs/pairs \\
      --client-base-url http://localhost:8000/v1 --client-model qwen \\
      --judge-base-url http://localhost:8000/v1 --judge-model qwen \\
      --pairing all-pairs --per-pair 20 --one-order --guideline 1
\b
  # Two local processes, the matches split by a hash of their id (or --ray ADDRESS):
  interactive-agents arena --bots bots.toml --cards cards.jsonl --out runs/sharded \\
      --base-url http://localhost:8000/v1 --model qwen --workers 2
\b
  # A reply judged critical by the safety judge loses its battle; `elo` then shows
  # each bot's safety incident rates beside its rating:
  interactive-agents arena --bots bots.toml --cards crisis_en --out runs/crisis \\
      --base-url http://localhost:8000/v1 --model qwen --safety-gate
\b
  # Then rank the bots:
  interactive-agents elo runs/arena/battles.jsonl --out runs/arena/ratings
\b
  # The paper's arena from the built-in recipe (runners/arena_paper.toml), the client
  # and the judge on the embedded model when no base URL is given:
  interactive-agents arena --recipe arena_paper --cards cards.jsonl
\b
Running the same command again on the same --out resumes the run. Exit codes: 0 all
dialogues finished, 1 some failed (see failures.jsonl) or more than --max-unparsable of
the judge's answers could not be read or were refused, 2 bad input or configuration
(or an endpoint refusing the run), 74 the run directory cannot be written, 75 an
endpoint stayed down or a shard died (re-run to resume), 130 interrupted.
"""


def _role_options(command: F) -> F:
    """The client's and the judge's own endpoint and sampling flags, and the bots'
    sampling over the registry's."""
    bots = sampling_options(
        "", "bot-", kind=ArenaConfig, base="bot_sampling", whose="every bot, over its registry's"
    )
    command = bots(command)
    for role in ("judge", "client"):
        command = sampling_options(role, f"{role}-", kind=ArenaConfig)(command)
        command = endpoint_options(f"{role}.endpoint", f"{role}-")(command)
    return command


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@recipe_option("arena_paper")
@run_options(ArenaConfig, candidates="per bot and turn")
@option("--bots", key="bots", help="Bots registry (TOML, [bots.NAME]).")
@option(
    "--judge-attempts",
    key="judge.attempts",
    kind=ArenaConfig,
    type=int,
    help="Tries per judgement before it is recorded as unparsable.",
)
@option(
    "--max-unparsable",
    key="judge.max_unparsable",
    kind=ArenaConfig,
    type=click.FloatRange(0, 1),
    help="Largest share of unparsable or refused judge answers before the run fails (exit 1).",
)
@option(
    "--guideline",
    key="guideline",
    kind=ArenaConfig,
    type=click.Choice(["1", "2"]),
    help="1: professional ethics; 2: counseling skills.",
)
@option(
    "--pairing",
    key="pairing",
    kind=ArenaConfig,
    type=click.Choice(PAIRINGS),
    help="random: one dialogue per card; all-pairs: every pair --per-pair times.",
)
@option("--per-pair", key="per_pair", kind=ArenaConfig, type=int, help="Dialogues per pair.")
@option(
    "--both-orders/--one-order",
    key="both_orders",
    kind=ArenaConfig,
    help="Judge every battle in both presentation orders.",
)
@option(
    "--disagreement",
    key="disagreement",
    kind=ArenaConfig,
    type=click.Choice(DISAGREEMENTS),
    help="Outcome when the two orders disagree.",
)
@option(
    "--undecided",
    key="undecided",
    kind=ArenaConfig,
    type=click.Choice(UNDECIDED),
    help="Which reply enters the history after a tie or an unparsable verdict.",
)
@option(
    "--safety-judge",
    key="safety.judge",
    kind=ArenaConfig,
    is_flag=True,
    help="Rate both replies of every battle with the safety judge and record their "
    "severities, for the incident rates of `elo` (docs/safety.md).",
)
@option(
    "--safety-gate",
    key="safety.gate",
    kind=ArenaConfig,
    is_flag=True,
    help="Rate the replies for safety and make a reply judged critical lose its battle "
    "whatever the preference (both critical: a tie; docs/safety.md).",
)
@_role_options
def arena(
    recipe: str | None,
    force: bool,
    retry_failed: bool,
    quiet: bool,
    as_json: bool,
    **_configured: object,
) -> None:
    """Rank counselor bots (Algorithm 2): at every turn two bots answer the client, an
    LLM judge picks the better reply, which becomes the shared history.

    Settings come from --recipe (TOML, the tables of a simulate recipe plus the arena's
    own keys) and are overridden by the options given. Without any base URL, the
    embedded local model plays the client and the judge. Writes dialogues.jsonl
    (candidates, judgements, winner per turn) and battles.jsonl (one battle per
    selection, readable by `elo`).
    """
    ctx = click.get_current_context()
    console = Console(stderr=True, quiet=quiet)
    with usage_errors():
        config = configuration(ArenaConfig, ctx, recipe)
        if not config.out:
            raise ConfigError("missing: pass --out or set out in the recipe", field="out")
        inputs = arena_inputs(config)
        for error in inputs.invalid:
            console.print(f"[yellow]skipped:[/yellow] {error}", highlight=False)
        shards = shard_choice(ctx)
        runtime.tune_garbage_collector()
        run = _Invocation(config, inputs, shards, force, retry_failed)
        code = run_until_interrupted(_arena, run, console, quiet, as_json)
    sys.exit(code)


@dataclass(frozen=True, slots=True)
class _Invocation:
    """What one ``arena`` command runs: typed, read and checked before the run starts."""

    config: ArenaConfig
    inputs: ArenaInputs
    shards: ShardChoice
    force: bool
    retry_failed: bool


async def _arena(run: _Invocation, console: Console, quiet: bool, as_json: bool) -> int:
    config = run.config
    arena_run = Arena(config, run.inputs.bots, force=run.force, retry_failed=run.retry_failed)
    async with shard_executor(run.shards) as sharding:
        if config.client.endpoint.is_local or config.judge.endpoint.is_local:
            console.print("starting the embedded model (llama.cpp server) ...")
        async with arena_run:
            played = await play(
                arena_run,
                run.inputs.matches,
                sharding,
                console,
                retry_failed=run.retry_failed,
                show_progress=not quiet,
            )
    stats, interrupted = played.stats, played.interrupted
    out = Path(config.out or ".")
    answers = judge_answers(
        read_battles(out / BATTLES, skip_invalid=True).battles if (out / BATTLES).is_file() else ()
    )
    unread = answers.failure(config.judge.max_unparsable)
    summary: dict[str, object] = {
        "status": "interrupted" if interrupted else "complete",
        "run_dir": str(out),
        "dialogues": str(out / "dialogues.jsonl"),
        "battles": str(out / "battles.jsonl"),
        "matches": stats.total,
        **run_counters(stats),
        "cancelled": stats.cancelled,
        "judge_answers": answers.judgements,
        "unparsable_answers": answers.unparsable,
        "refused_answers": answers.refused,
        "invalid_cards": len(run.inputs.invalid),
        "models": {
            "client": arena_run.config.client.endpoint.model,
            "judge": arena_run.config.judge.endpoint.model,
        },
        "local_server": arena_run.local_server.base_url if arena_run.local_server else None,
        "notes": arena_run.notes,
        "server_metrics": played.server_metrics,
    }
    if played.shards is not None:
        summary["shards"] = played.shards
    if as_json:
        print_json(summary)
    else:
        hidden = ("shards", "notes", "server_metrics")
        rows = {key: value for key, value in summary.items() if key not in hidden}
        rows |= server_rows(summary)
        console.print(summary_table(f"Arena {summary['status']}", rows))
        if played.shards is not None:
            console.print(shards_table(played.shards))
    if interrupted:
        return EXIT_INTERRUPTED
    if unread is not None:
        click.echo(f"not a measurement: {unread}; see {out / BATTLES}", err=True)
    return EXIT_FAILURES if stats.failed or unread is not None else 0
