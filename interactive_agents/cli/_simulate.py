"""``interactive-agents simulate``: Algorithm 1 for every card, into a run directory."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from interactive_agents import (
    CardBatch,
    Engine,
    EngineStats,
    RoleCard,
    RunConfig,
    load_cards,
    runtime,
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
    Played,
    ShardChoice,
    play,
    shard_choice,
    shard_executor,
    shards_table,
)
from interactive_agents.errors import InputError
from interactive_agents.method import FLAG_NAMES, cards_at_risk, load_prompts, load_risk_detector
from interactive_agents.runtime import PlanAssumptions, RunPlan, plan_run

F = TypeVar("F", bound=Callable[..., Any])

EXAMPLES = """
\b
Examples:
  # Offline, on the embedded model (no key, no GPU):
  interactive-agents simulate --recipe quickstart
\b
  # The paper's run against a vLLM server, 500 dialogues at a time:
  interactive-agents simulate --cards ../shared/data/reference/client_pool_train.json \\
      --out runs/simpsydial --base-url http://localhost:8000/v1 \\
      --model Qwen2-7B-Instruct --language zh --concurrency 256 --max-in-flight 500
\b
  # Client and counselor on different servers, an API key from $OPENAI_API_KEY:
  interactive-agents simulate --recipe paper_zh --cards cards.jsonl --out runs/b \\
      --client-base-url http://gpu1:8000/v1 --client-model Qwen2-72B-Instruct \\
      --counselor-base-url https://api.openai.com/v1 --counselor-model gpt-4o \\
      --counselor-api-key-env OPENAI_API_KEY
\b
  # Record each session's quality flags (echo, role flip, ...; docs/quality.md) and
  # count them in the summary; adding it when resuming a run is allowed:
  interactive-agents simulate --recipe paper_zh --cards cards.jsonl --out runs/b \\
      --base-url http://localhost:8000/v1 --model Qwen2-7B-Instruct --quality-flags
\b
  # Four local processes, each with a quarter of every limit (shards merged into --out):
  interactive-agents simulate --recipe paper_zh --cards cards.jsonl --out runs/c \\
      --base-url http://gpu1:8000/v1 --model qwen --rpm 6000 --workers 4
\b
  # The shards as actors of a Ray cluster (`--ray local`: a cluster on this machine):
  interactive-agents simulate --recipe paper_zh --cards cards.jsonl --out /shared/runs/d \\
      --base-url http://gpu1:8000/v1 --model qwen --ray auto --workers 16
\b
  # Predict calls, tokens, wall time and cost first, without calling any model:
  interactive-agents simulate --recipe paper_zh --cards cards.jsonl --plan \\
      --counselor-reply-tokens 120 --client-reply-tokens 40 \\
      --price-input 0.5 --price-output 1.5 --price-cached 0.05
\b
Running the same command again on the same --out resumes the run: finished
dialogues are kept, unfinished ones are done. Exit codes: 0 all dialogues finished,
1 some failed (see failures.jsonl), 2 bad input or configuration (or an endpoint
refusing the run), 74 the run directory cannot be written, 75 an endpoint stayed
down or a shard died (re-run to resume), 130 interrupted.
"""


def _plan_options(command: F) -> F:
    """The assumptions of the plan (``runtime/_planner.py``); a run's summary uses them too."""
    count, positive = click.IntRange(min=0), click.FloatRange(min=0, min_open=True)
    price = click.FloatRange(min=0)
    rows: list[tuple[str, str, Any, str]] = [
        ("--client-reply-tokens", "client_reply_tokens", count, "mean client reply"),
        ("--counselor-reply-tokens", "counselor_reply_tokens", count, "mean counselor reply"),
        ("--rejection-rate", "rejection_rate", click.FloatRange(0, 1), "chance of a rejection"),
        ("--call-latency", "latency", click.FloatRange(min=0), "seconds per call to first token"),
        ("--tokens-per-second", "tokens_per_second", positive, "decode speed of one request"),
        ("--price-input", "price_input", price, "$ per million prompt tokens"),
        ("--price-output", "price_output", price, "$ per million completion tokens"),
        ("--price-cached", "price_cached", price, "$ per million cached tokens"),
    ]
    for flag, name, click_type, help_text in reversed(rows):
        command = option(
            flag,
            key=name,
            group="plan",
            kind=PlanAssumptions,
            type=click_type,
            help=f"Plan: {help_text}.",
        )(command)
    return click.option("--plan", is_flag=True, help="Only predict the run's load; call no model.")(
        command
    )


def _role_options(role: str) -> Callable[[F], F]:
    """A role's own endpoint and sampling flags (``--client-model``, ...)."""

    def decorate(command: F) -> F:
        command = sampling_options(role, f"{role}-", kind=RunConfig)(command)
        return endpoint_options(f"{role}.endpoint", f"{role}-")(command)

    return decorate


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@recipe_option("quickstart, paper_zh")
@run_options(RunConfig, candidates="per counselor turn")
@option(
    "--client-guard/--no-client-guard",
    key="client_guard.enabled",
    kind=RunConfig,
    help="Reject and regenerate client lines that echo the counselor, speak as the "
    "counselor or recite the prompt ([client_guard]; docs/quality.md).",
)
@option(
    "--quality-flags",
    key="quality.enabled",
    is_flag=True,
    default_text="off",
    help="Store each session's quality flags in its record ([quality]; docs/quality.md).",
)
@_role_options("client")
@_role_options("counselor")
@_plan_options
def simulate(
    recipe: str | None,
    plan: bool,
    force: bool,
    retry_failed: bool,
    quiet: bool,
    as_json: bool,
    **_configured: object,
) -> None:
    """Run counselor-client sessions (Algorithm 1) for every role card.

    Settings come from --recipe (TOML) and are overridden by the options. Without any
    base URL, the embedded local model is started and used.
    """
    ctx = click.get_current_context()
    console = Console(stderr=True, quiet=quiet)
    with usage_errors():
        config = configuration(RunConfig, ctx, recipe)
        assumptions = configuration(PlanAssumptions, ctx, group="plan")
        batch, cards = _cards(config, console, need_out=not plan)
        _warn_without_help(config)
        if plan:
            _report_plan(plan_run(config, cards, assumptions), as_json)
            sys.exit(0)
        shards = shard_choice(ctx)
        runtime.tune_garbage_collector()
        run = _Invocation(
            config, cards, len(batch.invalid), assumptions, shards, force, retry_failed
        )
        code = run_until_interrupted(_simulate, run, console, quiet, as_json)
    sys.exit(code)


def _cards(
    config: RunConfig, console: Console, *, need_out: bool = True
) -> tuple[CardBatch, list[RoleCard]]:
    """The cards to play; all input is read and checked here, before the run starts."""
    if not config.cards:
        raise InputError("no role cards: pass --cards or set cards in the recipe")
    if need_out and not config.out:
        raise InputError("no run directory: pass --out or set out in the recipe")
    batch = load_cards(config.cards, skip_invalid=config.skip_invalid, pool=config.pool)
    for error in batch.invalid:
        console.print(f"[yellow]skipped:[/yellow] {error}", highlight=False)
    return batch, batch.cards[: config.limit] if config.limit is not None else batch.cards


def _warn_without_help(config: RunConfig) -> None:
    """Say so (even with --quiet) when the crisis rule has no help of this deployment
    to point to."""
    if not config.prompts.crisis_rule:
        return
    prompts = load_prompts(config.language, config.actors_dir)
    if prompts.help_resources is not None and not prompts.help_resources.resources:
        click.echo(
            f"warning: help_resources.{config.language}.toml lists no help resources: the "
            "counselor's crisis rule names only kinds of help, no service; fill it in for "
            "your deployment (docs/safety.md#help-resources)",
            err=True,
        )


@dataclass(frozen=True, slots=True)
class _Invocation:
    """What one ``simulate`` command runs: typed, read and checked before the run starts."""

    config: RunConfig
    cards: list[RoleCard]
    invalid: int
    assumptions: PlanAssumptions
    shards: ShardChoice
    force: bool
    retry_failed: bool


async def _simulate(run: _Invocation, console: Console, quiet: bool, as_json: bool) -> int:
    config = run.config
    engine = Engine(config, run_dir=config.out, force=run.force, retry_failed=run.retry_failed)
    async with shard_executor(run.shards) as sharding:
        if _needs_local(config):
            console.print("starting the embedded model (llama.cpp server) ...")
        async with engine:
            todo = [card for card in run.cards if not engine.is_done(card.id)]
            plan = plan_run(engine.config, todo, run.assumptions)
            played = await play(
                engine,
                run.cards,
                sharding,
                console,
                retry_failed=run.retry_failed,
                show_progress=not quiet,
            )
    summary = _summary(engine, played, config, run.cards, run.invalid)
    summary |= _beside_plan(plan, played.stats)
    _report(summary, console, as_json)
    if played.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILURES if played.stats.failed else 0


def _needs_local(config: RunConfig) -> bool:
    return config.client.endpoint.is_local or config.counselor.endpoint.is_local


def _risk_counts(config: RunConfig, cards: list[RoleCard]) -> dict[str, int] | None:
    """Cards of this run whose chief complaint discloses a risk, in all and per category."""
    detector = load_risk_detector(config.language, config.actors_dir)
    return None if detector is None else cards_at_risk(cards, detector)


def _risk_text(counts: dict[str, int] | None) -> str:
    """``12 (suicide 9, self_harm 4, ...)`` or why it is not known."""
    if counts is None:
        return "unknown: no risk lexicon for this language"
    each = ", ".join(f"{name} {n}" for name, n in counts.items() if name != "cards")
    return f"{counts['cards']} ({each})"


def _summary(
    engine: Engine, played: Played, config: RunConfig, cards: list[RoleCard], invalid: int
) -> dict[str, Any]:
    stats = played.stats
    out = Path(config.out or ".").resolve()
    summary = {
        "status": "interrupted" if played.interrupted else "complete",
        "run_dir": str(out),
        "dialogues": str(out / "dialogues.jsonl"),
        "failures_file": str(out / "failures.jsonl"),
        "cards": stats.total,
        **run_counters(stats),
        "cancelled": stats.cancelled,
        "invalid_cards": invalid,
        "refiner_rejections": stats.rejections,
        "quality_flags": _flag_counts(engine, stats),
        "risk_cards": _risk_counts(config, cards),
        "models": engine.config.models(),
        "local_server": engine.local_server.base_url if engine.local_server else None,
        "notes": engine.notes,
        "server_metrics": played.server_metrics,
    }
    return summary | ({"shards": played.shards} if played.shards is not None else {})


def _flag_counts(engine: Engine, stats: EngineStats) -> dict[str, int] | None:
    """Sessions of this run raising each quality flag; None when flags are not computed."""
    if not engine.config.quality.enabled:
        return None
    return {name: stats.flags_raised[name] for name in FLAG_NAMES}


def _beside_plan(plan: RunPlan, stats: EngineStats) -> dict[str, Any]:
    """The plan made at the start and what the run did, quantity by quantity."""
    predicted = plan.to_dict()
    actual_share = stats.cached_tokens / stats.prompt_tokens if stats.prompt_tokens else 0.0
    actual = {
        "calls": stats.calls,
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "cached_share": round(actual_share, 4),
    }
    expected = predicted | {"cached_share": predicted["cacheable_share"]}
    return {
        "plan": predicted,
        "plan_vs_actual": {
            name: {"predicted": expected[name], "actual": value} for name, value in actual.items()
        },
    }


def _report_plan(plan: RunPlan, as_json: bool) -> None:
    if as_json:
        print_json(plan.to_dict())
        return
    table = Table(title=f"Plan: {plan.dialogues} dialogues x {plan.max_turns} turns")
    for column in ("", "calls", "prompt tokens", "completion tokens", "cacheable tokens"):
        table.add_column(column, justify="left" if not column else "right")
    for name, load in (("client", plan.client), ("counselor", plan.counselor)):
        table.add_row(name, *(f"{round(value):,}" for value in astuple(load)))
    table.add_row("total", *(f"{round(value):,}" for value in astuple(plan.total)))
    rows: dict[str, object] = {
        "cacheable share": f"{plan.cacheable_share:.1%}",
        "wall time": f"{plan.wall_s:,.1f} s (bound: {plan.bound})",
        **{f"  {name}": f"{value:,.1f} s" for name, value in plan.bounds.items()},
        "cost": _money(plan.cost),
        "cost without cache": _money(plan.cost_without_cache),
        "cards with a risk disclosure": _risk_text(plan.risk_cards),
    }
    console = Console()
    console.print(table)
    console.print(summary_table("Wall time and cost", rows))


def _money(value: float | None) -> str:
    return "no prices given (--price-input, --price-output)" if value is None else f"${value:,.4f}"


def _report(summary: dict[str, Any], console: Console, as_json: bool) -> None:
    if as_json:
        print_json(summary)
        return
    title = (
        "Run interrupted: resume with the same command"
        if summary["status"] == "interrupted"
        else "Run complete"
    )
    hidden = {"status", "failures_file", "plan", "plan_vs_actual", "quality_flags", "shards",
              "notes", "server_metrics"}  # fmt: skip
    hidden.add("risk_cards")
    rows = {k: v for k, v in summary.items() if k not in hidden}
    rows["cards with a risk disclosure"] = _risk_text(summary["risk_cards"])
    if summary["quality_flags"] is not None:
        raised = summary["quality_flags"].items()
        rows["sessions flagged"] = ", ".join(f"{name} {count}" for name, count in raised)
    rows |= server_rows(summary)
    console.print(summary_table(title, rows))
    if "shards" in summary:
        console.print(shards_table(summary["shards"]))
    beside = Table(title="Predicted (at the start) and actual", title_justify="left")
    for column in ("", "predicted", "actual"):
        beside.add_column(column, justify="left" if not column else "right")
    for name, pair in summary["plan_vs_actual"].items():
        beside.add_row(name, *(f"{value:,}" for value in pair.values()))
    console.print(beside)
    console.print(f"records: {summary['dialogues']}")
