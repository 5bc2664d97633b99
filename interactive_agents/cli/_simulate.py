"""``interactive-agents simulate``: Algorithm 1 for every card, into a run directory."""

from __future__ import annotations

import sys
from dataclasses import astuple
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from interactive_agents.cli import _process as runtime
from interactive_agents.cli._endpoint_options import endpoint_options, endpoint_settings
from interactive_agents.cli._errors import EXIT_FAILURES, EXIT_INTERRUPTED, usage_errors
from interactive_agents.cli._local_model import local_model_option
from interactive_agents.cli._progress import print_json, run_counters, summary_table
from interactive_agents.cli._shards import Played, play, shard_executor, shard_options, shards_table
from interactive_agents.errors import InputError
from interactive_agents.method._cards import CardBatch, RoleCard, load_cards
from interactive_agents.method._config import RunConfig, build_config
from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._quality import FLAG_NAMES
from interactive_agents.runtime._counters import EngineStats
from interactive_agents.runtime._engine import Engine
from interactive_agents.runtime._planner import PlanAssumptions, RunPlan, plan_run

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


def _role_options(role: str) -> list[click.Option]:
    flag = f"--{role}"
    return [
        click.Option([f"{flag}-base-url"], multiple=True, help=f"Endpoint(s) of the {role} only."),
        click.Option([f"{flag}-model"], help=f"Model of the {role}."),
        click.Option([f"{flag}-api-key-env"], help=f"Variable holding the {role}'s API key."),
        click.Option(
            [f"{flag}-concurrency"], type=int, help=f"Concurrency of the {role}'s endpoint."
        ),
        click.Option(
            [f"{flag}-temperature"], type=float, help=f"Sampling temperature of the {role}."
        ),
        click.Option([f"{flag}-top-p"], type=float, help=f"Top-p of the {role}."),
        click.Option([f"{flag}-max-tokens"], type=int, help=f"Max tokens per {role} reply."),
    ]


def _overrides(options: dict[str, Any]) -> dict[str, Any]:
    """Map CLI options onto dotted recipe keys (None = not given)."""

    def urls(value: tuple[str, ...]) -> list[str] | None:
        return list(value) if value else None

    overrides: dict[str, Any] = {
        "cards": options["cards"],
        "pool": options["pool"],
        "out": options["out"],
        "language": options["language"],
        "max_turns": options["max_turns"],
        "seed": options["seed"],
        "limit": options["limit"],
        "max_in_flight": options["max_in_flight"],
        "local_model": options["local_model"],
        "actors_dir": options["actors_dir"],
        "skip_invalid": True if options["skip_invalid"] else None,
        "endpoint.base_urls": urls(options["base_url"]),
        "endpoint.model": options["model"],
        "endpoint.api_key_env": options["api_key_env"],
        "endpoint.concurrency": options["concurrency"],
        "endpoint.rpm": options["rpm"],
        "endpoint.tpm": options["tpm"],
        "endpoint.timeout": options["timeout"],
        "endpoint.max_retries": options["max_retries"],
        **{f"endpoint.{name}": value for name, value in endpoint_settings(options).items()},
        "refiner.max_attempts": options["refiner_attempts"],
        "refiner.on_exhausted": options["on_exhausted"],
        "terminator.mode": options["terminator"],
        "quality.enabled": True if options["quality_flags"] else None,
    }
    for role in ("client", "counselor"):
        overrides[f"{role}.endpoint.base_urls"] = urls(options[f"{role}_base_url"])
        for name in ("model", "api_key_env", "concurrency"):
            overrides[f"{role}.endpoint.{name}"] = options[f"{role}_{name}"]
        for name in ("temperature", "top_p", "max_tokens"):
            overrides[f"{role}.{name}"] = options[f"{role}_{name}"]
    return overrides


def _plan_options() -> list[click.Option]:
    """The assumptions of the plan (``runtime/_planner.py``); a run's summary uses them too."""
    count, positive = click.IntRange(min=0), click.FloatRange(min=0, min_open=True)
    price = click.FloatRange(min=0)
    defaults = PlanAssumptions()
    return [
        click.Option(["--plan"], is_flag=True, help="Only predict the run's load; call no model."),
        click.Option(
            ["--client-reply-tokens"], type=count, help="Plan: mean client reply (max_tokens)."
        ),
        click.Option(["--counselor-reply-tokens"], type=count, help="Plan: mean counselor reply."),
        click.Option(
            ["--rejection-rate"],
            type=click.FloatRange(0, 1),
            default=defaults.rejection_rate,
            show_default=True,
            help="Plan: chance the refiner rejects a candidate.",
        ),
        click.Option(
            ["--call-latency"],
            type=click.FloatRange(min=0),
            default=defaults.latency,
            show_default=True,
            help="Plan: seconds per call before decoding.",
        ),
        click.Option(
            ["--tokens-per-second"],
            type=positive,
            default=defaults.tokens_per_second,
            show_default=True,
            help="Plan: decode speed of one request.",
        ),
        click.Option(["--price-input"], type=price, help="Plan: $ per million prompt tokens."),
        click.Option(["--price-output"], type=price, help="Plan: $ per million completion tokens."),
        click.Option(["--price-cached"], type=price, help="Plan: $ per million cached tokens."),
    ]


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@click.option("--recipe", help="A TOML recipe: a path or a built-in name (quickstart, paper_zh).")
@click.option("--cards", help="Role cards: .jsonl/.json/.toml, reference .txt cards, or a folder.")
@click.option("--pool", help="Pool of chief complaints for reference .txt cards.")
@click.option("--out", help="Run directory (created, or resumed when it exists).")
@click.option("--base-url", multiple=True, help="OpenAI-compatible base URL; repeat for replicas.")
@click.option("--model", help="Model name for both roles.")
@click.option("--api-key-env", help="Name of the environment variable holding the API key.")
@click.option("--concurrency", type=int, help="Max concurrent requests per endpoint.")
@click.option("--rpm", type=int, help="Requests-per-minute limit per endpoint.")
@click.option("--tpm", type=int, help="Tokens-per-minute limit per endpoint.")
@click.option("--timeout", type=float, help="Seconds before a request is retried.")
@click.option("--max-retries", type=int, help="Retries on 429, 5xx, timeouts.")
@endpoint_options
@click.option("--max-turns", type=int, help="Turn cap T (default 50).")
@click.option("--seed", type=int, help="Run seed; every request gets a seed derived from it.")
@click.option("--language", type=click.Choice(["zh", "en"]), help="Prompt language.")
@click.option("--limit", type=int, help="Only the first N cards.")
@click.option("--max-in-flight", type=int, help="Dialogues in flight at once (admission).")
@click.option("--refiner-attempts", type=int, help="Candidates per counselor turn (default 3).")
@click.option(
    "--on-exhausted",
    type=click.Choice(["repair", "accept_last", "fail"]),
    help="When every candidate was rejected.",
)
@click.option(
    "--terminator", type=click.Choice(["substring", "closing"]), help="Phrase matching mode."
)
@click.option(
    "--quality-flags",
    is_flag=True,
    help="Store each session's quality flags in its record ([quality]; docs/quality.md).",
)
@local_model_option("roles with no --base-url")
@click.option("--actors-dir", help="A folder of custom prompt cards (copy of actors/).")
@click.option("--skip-invalid", is_flag=True, help="Skip bad cards (reported) instead of stopping.")
@click.option("--force", is_flag=True, help="Resume even if the configuration changed.")
@click.option("--retry-failed", is_flag=True, help="On resume, run failed dialogues again.")
@shard_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def simulate(**options: Any) -> None:
    """Run counselor-client sessions (Algorithm 1) for every role card.

    Settings come from --recipe (TOML) and are overridden by the options. Without any
    base URL, the embedded local model is started and used.
    """
    console = Console(stderr=True, quiet=options["quiet"])
    with usage_errors():
        config = build_config(options["recipe"], _overrides(options))
        batch, cards = _cards(config, console, need_out=not options["plan"])
        if options["plan"]:
            _report_plan(_plan(config, cards, options), options["as_json"])
            sys.exit(0)
        runtime.tune_garbage_collector()
        code = runtime.run(_simulate, config, cards, len(batch.invalid), options, console)
    sys.exit(code)


simulate.params.extend(_role_options("client") + _role_options("counselor") + _plan_options())


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


async def _simulate(
    config: RunConfig,
    cards: list[RoleCard],
    invalid: int,
    options: dict[str, Any],
    console: Console,
) -> int:
    engine = Engine(
        config, run_dir=config.out, force=options["force"], retry_failed=options["retry_failed"]
    )
    async with shard_executor(options) as sharding:
        if _needs_local(config):
            console.print("starting the embedded model (llama.cpp server) ...")
        async with engine:
            plan = _plan(engine.config, [c for c in cards if not engine.is_done(c.id)], options)
            played = await play(
                engine,
                cards,
                sharding,
                console,
                retry_failed=options["retry_failed"],
                show_progress=not options["quiet"],
            )
    summary = _summary(engine, played, config, invalid) | _beside_plan(plan, played.stats)
    _report(summary, console, options["as_json"])
    if played.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILURES if played.stats.failed else 0


def _needs_local(config: RunConfig) -> bool:
    return config.client.endpoint.is_local or config.counselor.endpoint.is_local


def _summary(engine: Engine, played: Played, config: RunConfig, invalid: int) -> dict[str, Any]:
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
        "models": engine.config.models(),
        "local_server": engine.local_server.base_url if engine.local_server else None,
    }
    return summary | ({"shards": played.shards} if played.shards is not None else {})


def _flag_counts(engine: Engine, stats: EngineStats) -> dict[str, int] | None:
    """Sessions of this run raising each quality flag; None when flags are not computed."""
    if not engine.config.quality.enabled:
        return None
    return {name: stats.flags_raised[name] for name in FLAG_NAMES}


def _plan(config: RunConfig, cards: list[RoleCard], options: dict[str, Any]) -> RunPlan:
    """The run's predicted load (no call: the prompts are read, the cards measured)."""
    prompts = load_prompts(
        config.language, config.actors_dir, client_resistance=config.prompts.client_resistance
    )
    assumptions = PlanAssumptions(
        client_reply_tokens=options["client_reply_tokens"],
        counselor_reply_tokens=options["counselor_reply_tokens"],
        rejection_rate=options["rejection_rate"],
        latency=options["call_latency"],
        tokens_per_second=options["tokens_per_second"],
        price_input=options["price_input"],
        price_output=options["price_output"],
        price_cached=options["price_cached"],
    )
    return plan_run(config, prompts, cards, assumptions)


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
    hidden = {"status", "failures_file", "plan", "plan_vs_actual", "quality_flags", "shards"}
    rows = {k: v for k, v in summary.items() if k not in hidden}
    if summary["quality_flags"] is not None:
        raised = summary["quality_flags"].items()
        rows["sessions flagged"] = ", ".join(f"{name} {count}" for name, count in raised)
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
