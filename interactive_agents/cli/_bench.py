"""``interactive-agents bench``: load-test an OpenAI-compatible server with counseling traffic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from interactive_agents.cli import _process as runtime
from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._progress import Snapshot, live_progress, print_json
from interactive_agents.errors import ConfigError
from interactive_agents.loadtest._generator import LoadGenerator, LoadOptions
from interactive_agents.loadtest._metrics import parse_slo
from interactive_agents.method._cards import load_cards
from interactive_agents.method._prompts import load_prompts

DEFAULT_CONCURRENCY = 16
DEFAULT_DURATION = 30.0

EXAMPLES = """
\b
Examples:
  # 64 conversations at once for one minute against a local vLLM server:
  interactive-agents bench --base-url http://localhost:8000/v1 \\
      --model Qwen2-7B-Instruct --concurrency 64 --duration 60
\b
  # Poisson arrivals at 20 requests/s, streamed (time to first token), 2,000 requests:
  interactive-agents bench --base-url http://localhost:8000/v1 --model m \\
      --request-rate 20 --requests 2000 --stream --out bench.json
\b
  # Two replicas, Chinese prompts and your own cards, a key from $OPENAI_API_KEY:
  interactive-agents bench --base-url http://gpu1:8000/v1 --base-url http://gpu2:8000/v1 \\
      --model m --api-key-env OPENAI_API_KEY --language zh --cards cards.jsonl --json
\b
  # Goodput under SLOs, 50 warm-up requests, 2 s (mean, exponential) think time, a sweep:
  interactive-agents bench --base-url http://localhost:8000/v1 --model m --stream \\
      --requests 500 --warmup 50 --think-time 2 --think-dist exponential \\
      --slo ttft=0.5 --slo tpot=0.05 --slo e2el=10 --sweep 1,4,16,64 --out sweep.json
\b
Requests are never retried: 429s, 5xx, timeouts are counted by kind under "errors".
Exit codes: 0 the run finished (errors included), 2 bad options or input.
"""


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@click.option("--base-url", multiple=True, required=True, help="Base URL; repeat for replicas.")
@click.option("--model", required=True, help="Model name sent with every request.")
@click.option("--api-key-env", help="Name of the environment variable holding the API key.")
@click.option(
    "--concurrency",
    type=int,
    help="Requests outstanding at once (default 16); a cap with --request-rate.",
)
@click.option("--request-rate", type=float, help="Poisson arrivals per second (open loop).")
@click.option("--duration", type=float, help="Seconds to send for (default 30).")
@click.option("--requests", type=int, help="Number of requests to send.")
@click.option("--stream", is_flag=True, help="Stream answers and measure time to first token.")
@click.option("--cards", default="demo_en", show_default=True, help="Role cards for the clients.")
@click.option("--language", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option(
    "--max-turns", type=int, default=10, show_default=True, help="Turns before a session restarts."
)
@click.option("--max-tokens", type=int, default=128, show_default=True, help="Per request.")
@click.option("--temperature", type=float, default=0.7, show_default=True)
@click.option("--timeout", type=float, default=60.0, show_default=True, help="Seconds per request.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the arrivals.")
@click.option("--warmup", type=int, default=0, show_default=True, help="Requests left out.")
@click.option("--think-time", type=float, default=0.0, help="Seconds before a next turn.")
@click.option(
    "--think-dist",
    type=click.Choice(["fixed", "exponential"]),
    default="fixed",
    help="Think time exactly --think-time, or exponential with that mean (default fixed).",
)
@click.option(
    "--slo",
    multiple=True,
    metavar="METRIC=SECONDS",
    help="A goodput target: ttft, tpot or e2el; repeat for several.",
)
@click.option(
    "--sweep",
    metavar="LEVELS",
    help="Comma-separated concurrencies (or rates with --request-rate): one run per level.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or table.")
def bench(**options: Any) -> None:
    """Replay multi-turn counseling traffic against an OpenAI-compatible endpoint.

    Every request continues a conversation built from the bundled prompts and a role
    card, with a history that grows by the server's own answers (so prefix caching
    matters, as in a real run). Reports requests/s, output tokens/s, latency and, with
    --stream, time to first token, time per output token and inter-token latency,
    goodput under --slo targets, cached prompt tokens by turn depth, and errors by kind.
    With --sweep, one run per level and one row per level.
    """
    console = Console(stderr=True, quiet=options["quiet"])
    with usage_errors():
        generators = [_generator(options, level) for level in _levels(options)]
        runs = [runtime.run(_run, generator, console) for generator in generators]
    report = runs[0] if options["sweep"] is None else _sweep_report(options, runs)
    data = orjson.dumps(report, option=orjson.OPT_INDENT_2)
    if options["out"] is not None:
        options["out"].write_bytes(data + b"\n")
    if options["as_json"]:
        print_json(report)
    console.print(_table(report) if options["sweep"] is None else _sweep_table(report))


def _levels(options: dict[str, Any]) -> list[float | None]:
    """The sweep's levels, or one run at the given load."""
    text = options["sweep"]
    if text is None:
        return [None]
    try:
        levels = [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise ConfigError(
            f"--sweep {text!r}: give numbers, e.g. 1,4,16,64", field="sweep"
        ) from None
    if not levels or min(levels) <= 0:
        raise ConfigError(f"--sweep {text!r}: give positive levels", field="sweep")
    if options["request_rate"] is None and any(level != int(level) for level in levels):
        raise ConfigError(f"--sweep {text!r}: concurrencies are whole numbers", field="sweep")
    return list(levels)


def _sweep_over(options: dict[str, Any]) -> str:
    return "request_rate" if options["request_rate"] is not None else "concurrency"


def _generator(options: dict[str, Any], level: float | None) -> LoadGenerator:
    rate, concurrency = options["request_rate"], options["concurrency"]
    if level is not None and rate is not None:
        rate = level
    elif level is not None:
        concurrency = int(level)
    duration, requests = options["duration"], options["requests"]
    load = LoadOptions(
        base_urls=tuple(url.rstrip("/") for url in options["base_url"]),
        model=options["model"],
        api_key_env=options["api_key_env"],
        concurrency=concurrency if concurrency or rate else DEFAULT_CONCURRENCY,
        request_rate=rate,
        duration=duration if duration or requests else DEFAULT_DURATION,
        requests=requests,
        stream=options["stream"],
        max_turns=options["max_turns"],
        max_tokens=options["max_tokens"],
        temperature=options["temperature"],
        timeout=options["timeout"],
        seed=options["seed"],
        warmup=options["warmup"],
        think_time=options["think_time"],
        think_distribution=options["think_dist"],
        slo=parse_slo(options["slo"]),
    )
    cards = load_cards(options["cards"])
    return LoadGenerator(load, cards.cards, load_prompts(options["language"]))


async def _run(generator: LoadGenerator, console: Console) -> dict[str, Any]:
    """Run the load with a progress bar refreshed from the generator's counters."""

    def snapshot() -> Snapshot:
        done = generator.completed + generator.failed
        rate = done / generator.elapsed if generator.elapsed > 0 else 0.0
        details = f"ok {generator.completed:,} · errors {generator.failed:,} · {rate:,.1f}/s"
        return generator.options.requests, done, details

    async with live_progress("requests", snapshot, console):
        return await generator.run()


TABLE_FIELDS = (
    "duration",
    "completed",
    "failed",
    "total_input_tokens",
    "total_output_tokens",
    "total_cached_tokens",
    "cache_hit_rate",
    "request_throughput",
    "request_goodput",
    "output_throughput",
)
DISTRIBUTIONS = ("ttft", "tpot", "itl", "e2el")
SWEEP_COLUMNS = {  # report field: column heading
    "completed": "ok",
    "failed": "err",
    "request_throughput": "req/s",
    "request_goodput": "good/s",
    "output_throughput": "tok/s",
    "mean_ttft_ms": "ttft ms",
    "mean_tpot_ms": "tpot ms",
    "p99_e2el_ms": "p99 e2el ms",
    "cache_hit_rate": "hit",
}


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:,}"


def _short(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def _table(report: dict[str, Any]) -> Table:
    """The report as a readable table: totals, rates, distributions in ms, turn depths."""
    table = Table(title="bench", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key in TABLE_FIELDS:
        table.add_row(key, _number(report[key]))
    for name in DISTRIBUTIONS:
        if report[f"mean_{name}_ms"] is not None:
            cells = (f"{k} {report[f'{k}_{name}_ms']:.2f}" for k in ("mean", "p50", "p90", "p99"))
            table.add_row(f"{name}_ms", "  ".join(cells))
    for row in report["by_turn_depth"]:
        rate = "-" if row["cache_hit_rate"] is None else f"{row['cache_hit_rate']:.1%}"
        ttft = "" if row["mean_ttft_ms"] is None else f" · ttft {row['mean_ttft_ms']:.2f} ms"
        table.add_row(
            f"turn {row['turn']}",
            f"{row['requests']:,} req · prompt {row['prompt_tokens']:,}"
            f" · cached {row['cached_tokens']:,} ({rate}){ttft}",
        )
    errors = report["errors"]
    table.add_row("errors", ", ".join(f"{k} {v:,}" for k, v in errors.items()) or "none")
    return table


def _sweep_report(options: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    over = _sweep_over(options)
    return {"sweep_over": over, "levels": [run["load"][over] for run in runs], "runs": runs}


def _sweep_table(report: dict[str, Any]) -> Table:
    """One row per level of the sweep."""
    over = report["sweep_over"]
    table = Table(title=f"bench sweep over {over}", title_justify="left")
    for heading in ("level", *SWEEP_COLUMNS.values()):
        table.add_column(heading, justify="right")
    for level, run in zip(report["levels"], report["runs"], strict=True):
        table.add_row(_number(level), *(_short(run[key]) for key in SWEEP_COLUMNS))
    return table
