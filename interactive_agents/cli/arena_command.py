"""``interactive-agents arena``: Algorithm 2 with an LLM judge, into a run directory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

import click
from rich.console import Console

from interactive_agents.arena import (
    DISAGREEMENTS,
    PAIRINGS,
    UNDECIDED,
    Arena,
    ArenaRules,
    ArenaSettings,
    load_bots,
    plan_matches,
)
from interactive_agents.cli import _process as runtime
from interactive_agents.cli._errors import EXIT_FAILURES, EXIT_INTERRUPTED, usage_errors
from interactive_agents.cli._progress import drive, print_json, run_counters, summary_table
from interactive_agents.errors import ConfigError
from interactive_agents.method.cards import load_cards
from interactive_agents.method.config import EndpointConfig, check_url
from interactive_agents.method.prompts import load_prompts
from interactive_agents.method.records import Sampling
from interactive_agents.method.resources import resolve

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
  # Then rank the bots:
  interactive-agents elo runs/arena/battles.jsonl --out runs/arena/ratings
\b
Running the same command again on the same --out resumes the run. Exit codes: 0 all
dialogues finished, 1 some failed (see failures.jsonl), 2 bad input, 130 interrupted.
"""


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@click.option("--bots", "bots_file", required=True, help="Bots registry (TOML, [bots.NAME]).")
@click.option("--cards", required=True, help="Role cards: .jsonl/.json/.toml or a folder.")
@click.option("--pool", help="Pool of chief complaints for reference .txt cards.")
@click.option("--out", required=True, help="Run directory (created, or resumed).")
@click.option("--client-base-url", multiple=True, help="Endpoint(s) of the client model.")
@click.option("--client-model", help="Model playing the client.")
@click.option("--client-api-key-env", help="Variable holding the client endpoint's key.")
@click.option("--client-temperature", type=float, default=0.8, show_default=True)
@click.option("--judge-base-url", multiple=True, help="Endpoint(s) of the judge model.")
@click.option("--judge-model", help="Model acting as judge.")
@click.option("--judge-api-key-env", help="Variable holding the judge endpoint's key.")
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
    "--terminator",
    type=click.Choice(["substring", "closing"]),
    default="substring",
    show_default=True,
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--limit", type=int, help="Only the first N cards.")
@click.option("--max-in-flight", type=int, default=64, show_default=True)
@click.option("--timeout", type=float, default=120.0, show_default=True)
@click.option("--actors-dir", help="A folder of custom prompt cards (copy of actors/).")
@click.option("--force", is_flag=True, help="Resume even if the configuration changed.")
@click.option("--retry-failed", is_flag=True, help="On resume, play failed dialogues again.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
def arena(**options: Any) -> None:
    """Rank counselor bots (Algorithm 2): at every turn two bots answer the client, an
    LLM judge picks the better reply, which becomes the shared history.

    Writes dialogues.jsonl (candidates, judgements, winner per turn) and battles.jsonl
    (one battle per selection, readable by `interactive-agents elo`).
    """
    console = Console(stderr=True, quiet=options["quiet"])
    runtime.tune_garbage_collector()
    with usage_errors():
        settings = _settings(options)
        code = runtime.run(_arena, settings, options, console)
    sys.exit(code)


def _endpoint(options: dict[str, Any], role: str) -> EndpointConfig:
    urls = options[f"{role}_base_url"]
    model = options[f"{role}_model"]
    if not urls or not model:
        raise ConfigError(
            f"the {role} needs an endpoint: pass --{role}-base-url and --{role}-model",
            field=f"{role}_base_url",
        )
    for url in urls:
        check_url(url, field=f"--{role}-base-url")
    return EndpointConfig(
        base_urls=tuple(urls),
        model=model,
        api_key_env=options[f"{role}_api_key_env"],
        timeout=options["timeout"],
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
    )


async def _arena(settings: ArenaSettings, options: dict[str, Any], console: Console) -> int:
    prompts = load_prompts(settings.rules.language, settings.actors_dir)
    bots = load_bots(options["bots_file"], prompts.counselor.system_message().content)
    cards_path = resolve(options["cards"], "runners/cards", (".jsonl", ".json", ".toml"))
    cards = load_cards(cards_path, pool=options["pool"]).cards[: options["limit"]]
    matches = plan_matches(
        cards,
        bots,
        pairing=cast(Any, options["pairing"]),
        seed=settings.rules.seed,
        per_pair=options["per_pair"],
    )
    arena_run = Arena(
        settings,
        bots,
        run_dir=options["out"],
        force=options["force"],
        retry_failed=options["retry_failed"],
    )
    async with arena_run:
        interrupted = await drive(
            arena_run.run(matches),
            arena_run.stats,
            arena_run.cancel,
            console,
            show_progress=not options["quiet"],
        )
    stats = arena_run.stats
    out = Path(options["out"])
    summary: dict[str, object] = {
        "status": "interrupted" if interrupted else "complete",
        "run_dir": str(out),
        "dialogues": str(out / "dialogues.jsonl"),
        "battles": str(out / "battles.jsonl"),
        "matches": stats.total,
        **run_counters(stats),
    }
    if options["as_json"]:
        print_json(summary)
    else:
        console.print(summary_table(f"Arena {summary['status']}", summary))
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILURES if stats.failed else 0
