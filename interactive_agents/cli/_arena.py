"""``interactive-agents arena``: Algorithm 2 with an LLM judge, into a run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import click
from rich.console import Console

from interactive_agents.arena._arena import Arena, ArenaSettings
from interactive_agents.arena._bots import Bot, load_bots
from interactive_agents.arena._competition import ArenaRules, Match
from interactive_agents.arena._pairing import PAIRINGS, plan_matches
from interactive_agents.arena._selection import DISAGREEMENTS, UNDECIDED
from interactive_agents.cli import _process as runtime
from interactive_agents.cli._endpoint_options import endpoint_options, endpoint_settings
from interactive_agents.cli._errors import EXIT_FAILURES, EXIT_INTERRUPTED, usage_errors
from interactive_agents.cli._local_model import local_model_option
from interactive_agents.cli._progress import print_json, run_counters, summary_table
from interactive_agents.cli._shards import play, shard_executor, shard_options, shards_table
from interactive_agents.errors import ConfigError
from interactive_agents.llm._endpoint_config import EndpointConfig, check_url
from interactive_agents.llm._messages import Sampling
from interactive_agents.method._cards import load_cards
from interactive_agents.method._config import load_recipe
from interactive_agents.method._prompts import load_prompts

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
  # Then rank the bots:
  interactive-agents elo runs/arena/battles.jsonl --out runs/arena/ratings
\b
  # The paper's arena from the built-in recipe (runners/arena_paper.toml), the client
  # and the judge on the embedded model when no base URL is given:
  interactive-agents arena --recipe arena_paper --cards cards.jsonl
\b
Running the same command again on the same --out resumes the run. Exit codes: 0 all
dialogues finished, 1 some failed (see failures.jsonl), 2 bad input or configuration
(or an endpoint refusing the run), 74 the run directory cannot be written, 75 an
endpoint stayed down or a shard died (re-run to resume), 130 interrupted.
"""


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@click.option(
    "--recipe", help="An arena recipe (TOML of these options): a path or a built-in name."
)
@click.option("--bots", "bots_file", help="Bots registry (TOML, [bots.NAME]).")
@click.option("--cards", help="Role cards: .jsonl/.json/.toml or a folder.")
@click.option("--pool", help="Pool of chief complaints for reference .txt cards.")
@click.option("--out", help="Run directory (created, or resumed).")
@click.option("--base-url", multiple=True, help="Endpoint(s) of the client and the judge.")
@click.option("--model", help="Model of the client and the judge.")
@click.option("--api-key-env", help="Variable holding the API key of --base-url.")
@click.option("--concurrency", type=int, help="Max concurrent requests per endpoint.")
@click.option("--rpm", type=int, default=0, help="Requests-per-minute limit per endpoint.")
@click.option("--tpm", type=int, default=0, help="Tokens-per-minute limit per endpoint.")
@click.option("--timeout", type=float, default=120.0, show_default=True)
@click.option("--max-retries", type=int, default=6, show_default=True)
@endpoint_options
@click.option("--client-base-url", multiple=True, help="Endpoint(s) of the client model.")
@click.option("--client-model", help="Model playing the client.")
@click.option("--client-api-key-env", help="Variable holding the client endpoint's key.")
@click.option("--client-concurrency", type=int, help="Concurrency of the client's endpoint.")
@click.option("--client-temperature", type=float, default=0.8, show_default=True)
@click.option("--judge-base-url", multiple=True, help="Endpoint(s) of the judge model.")
@click.option("--judge-model", help="Model acting as judge.")
@click.option("--judge-api-key-env", help="Variable holding the judge endpoint's key.")
@click.option("--judge-concurrency", type=int, help="Concurrency of the judge's endpoint.")
@click.option("--judge-temperature", type=float, default=0.3, show_default=True)
@click.option(
    "--judge-attempts",
    type=int,
    default=3,
    show_default=True,
    help="Tries per judgement before it is recorded as unparsable.",
)
@click.option(
    "--guideline",
    type=click.Choice(["1", "2"]),
    default="2",
    show_default=True,
    help="1: professional ethics; 2: counseling skills.",
)
@click.option(
    "--pairing",
    type=click.Choice(PAIRINGS),
    default="random",
    show_default=True,
    help="random: one dialogue per card; all-pairs: every pair --per-pair times.",
)
@click.option("--per-pair", type=int, default=1, show_default=True)
@click.option(
    "--both-orders/--one-order",
    default=True,
    show_default=True,
    help="Judge every battle in both presentation orders.",
)
@click.option(
    "--disagreement",
    type=click.Choice(DISAGREEMENTS),
    default="tie",
    show_default=True,
    help="Outcome when the two orders disagree.",
)
@click.option(
    "--undecided",
    type=click.Choice(UNDECIDED),
    default="random",
    show_default=True,
    help="Which reply enters the history after a tie or an unparsable verdict.",
)
@click.option("--language", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--max-turns", type=int, default=50, show_default=True)
@click.option("--refiner-attempts", type=int, default=3, show_default=True)
@click.option(
    "--on-exhausted",
    type=click.Choice(["repair", "accept_last", "fail"]),
    default="repair",
    show_default=True,
    help="When every candidate of a bot was rejected.",
)
@click.option(
    "--terminator",
    type=click.Choice(["substring", "closing"]),
    default="substring",
    show_default=True,
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--limit", type=int, help="Only the first N cards.")
@click.option("--max-in-flight", type=int, default=64, show_default=True)
@local_model_option("roles with no --base-url")
@click.option("--actors-dir", help="A folder of custom prompt cards (copy of actors/).")
@click.option("--skip-invalid", is_flag=True, help="Skip bad cards (reported) instead of stopping.")
@click.option("--force", is_flag=True, help="Resume even if the configuration changed.")
@click.option("--retry-failed", is_flag=True, help="On resume, play failed dialogues again.")
@shard_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def arena(**options: Any) -> None:
    """Rank counselor bots (Algorithm 2): at every turn two bots answer the client, an
    LLM judge picks the better reply, which becomes the shared history.

    Settings come from --recipe (TOML whose keys are these options) and are overridden
    by the options given. Without any base URL, the embedded local model plays the
    client and the judge. Writes dialogues.jsonl (candidates, judgements, winner per
    turn) and battles.jsonl (one battle per selection, readable by `elo`).
    """
    console = Console(stderr=True, quiet=options["quiet"])
    with usage_errors():
        options = _with_recipe(click.get_current_context(), options)
        settings = _settings(options)
        bots, matches, invalid = _matches(settings, options, console)
        runtime.tune_garbage_collector()
        code = runtime.run(_arena, settings, bots, matches, invalid, options, console)
    sys.exit(code)


def _with_recipe(ctx: click.Context, options: dict[str, Any]) -> dict[str, Any]:
    """Options not given on the command line taken from the recipe, if there is one."""
    raw, source = load_recipe(options["recipe"])
    flat: dict[str, tuple[str, Any]] = {}  # option name: (key in the recipe, value)
    for key, value in raw.items():
        if isinstance(value, dict):  # [client] model = ... is client_model
            flat.update({f"{key}_{name}": (f"{key}.{name}", v) for name, v in value.items()})
        else:
            flat[key] = (key, value)
    merged = dict(options)
    for key, (dotted, value) in flat.items():
        name = "bots_file" if key == "bots" else key.replace("base_urls", "base_url")
        if name not in options or name in {"recipe", "quiet", "as_json"}:
            raise ConfigError("not an arena option", file=source, field=dotted)
        if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE:
            continue
        if isinstance(value, list):
            value = tuple(value)
        if name == "bots_file" and source is not None and not Path(value).is_absolute():
            value = str(Path(source).parent / value)
        merged[name] = value
    for name in ("bots_file", "cards", "out"):
        if not merged[name]:
            flag = "--bots" if name == "bots_file" else f"--{name}"
            raise ConfigError(f"missing: pass {flag} or set it in the recipe", field=flag)
    return merged


def _endpoint(options: dict[str, Any], role: str) -> EndpointConfig:
    """The role's endpoint: its own options, else the shared ones; no URL at all means
    the embedded local model."""
    urls = options[f"{role}_base_url"] or options["base_url"]
    model = options[f"{role}_model"] or options["model"]
    for url in urls:
        check_url(url, field=f"--{role}-base-url")
    if urls and not model:
        raise ConfigError(
            f"the {role} needs a model with its base URL: pass --{role}-model or --model",
            field=f"--{role}-model",
        )
    return EndpointConfig(
        base_urls=tuple(urls),
        model=model or "",
        api_key_env=options[f"{role}_api_key_env"] or options["api_key_env"],
        concurrency=options[f"{role}_concurrency"] or options["concurrency"],
        rpm=options["rpm"],
        tpm=options["tpm"],
        timeout=options["timeout"],
        max_retries=options["max_retries"],
        **endpoint_settings(options),
    )


def _settings(options: dict[str, Any]) -> ArenaSettings:
    for name in ("max_turns", "per_pair", "judge_attempts", "refiner_attempts", "max_in_flight"):
        if options[name] < 1:
            raise ConfigError("must be at least 1", field=f"--{name.replace('_', '-')}")
    rules = ArenaRules(
        language=options["language"],
        max_turns=options["max_turns"],
        seed=options["seed"],
        both_orders=options["both_orders"],
        disagreement=options["disagreement"],
        undecided=options["undecided"],
        refiner_attempts=options["refiner_attempts"],
        on_exhausted=options["on_exhausted"],
    )
    return ArenaSettings(
        rules=rules,
        client=_endpoint(options, "client"),
        client_sampling=Sampling(options["client_temperature"], 0.8, 256),
        judge=_endpoint(options, "judge"),
        judge_sampling=Sampling(options["judge_temperature"], 0.9, 1024),
        guideline=options["guideline"],
        judge_attempts=options["judge_attempts"],
        max_in_flight=options["max_in_flight"],
        terminator=options["terminator"],
        actors_dir=options["actors_dir"],
        local_model=options["local_model"],
    )


def _matches(
    settings: ArenaSettings, options: dict[str, Any], console: Console
) -> tuple[list[Bot], list[Match], int]:
    """The bots and the matches to play (bad cards reported, or skipped with
    --skip-invalid); all input is read here, before the run starts."""
    prompts = load_prompts(settings.rules.language, settings.actors_dir)
    bots = load_bots(options["bots_file"], prompts.counselor.system_message().content)
    batch = load_cards(options["cards"], skip_invalid=options["skip_invalid"], pool=options["pool"])
    for error in batch.invalid:
        console.print(f"[yellow]skipped:[/yellow] {error}", highlight=False)
    matches = plan_matches(
        batch.cards[: options["limit"]],
        bots,
        pairing=cast(Any, options["pairing"]),
        seed=settings.rules.seed,
        per_pair=options["per_pair"],
    )
    return bots, matches, len(batch.invalid)


async def _arena(
    settings: ArenaSettings,
    bots: list[Bot],
    matches: list[Match],
    invalid: int,
    options: dict[str, Any],
    console: Console,
) -> int:
    arena_run = Arena(
        settings,
        bots,
        run_dir=options["out"],
        force=options["force"],
        retry_failed=options["retry_failed"],
    )
    async with shard_executor(options) as sharding:
        if settings.client.is_local or settings.judge.is_local:
            console.print("starting the embedded model (llama.cpp server) ...")
        async with arena_run:
            played = await play(
                arena_run,
                matches,
                sharding,
                console,
                retry_failed=options["retry_failed"],
                show_progress=not options["quiet"],
            )
    stats, interrupted = played.stats, played.interrupted
    out = Path(options["out"])
    summary: dict[str, object] = {
        "status": "interrupted" if interrupted else "complete",
        "run_dir": str(out),
        "dialogues": str(out / "dialogues.jsonl"),
        "battles": str(out / "battles.jsonl"),
        "matches": stats.total,
        **run_counters(stats),
        "cancelled": stats.cancelled,
        "invalid_cards": invalid,
        "models": {
            "client": arena_run.settings.client.model,
            "judge": arena_run.settings.judge.model,
        },
        "local_server": arena_run.local_server.base_url if arena_run.local_server else None,
    }
    if played.shards is not None:
        summary["shards"] = played.shards
    if options["as_json"]:
        print_json(summary)
    else:
        rows = {key: value for key, value in summary.items() if key != "shards"}
        console.print(summary_table(f"Arena {summary['status']}", rows))
        if played.shards is not None:
            console.print(shards_table(played.shards))
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILURES if stats.failed else 0
