"""``interactive-agents bench``: load-test an OpenAI-compatible server with counseling traffic."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from interactive_agents import load_cards, runtime
from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._options import (
    configuration,
    endpoint_options,
    option,
    recipe_option,
    sampling_options,
)
from interactive_agents.cli._progress import Snapshot, live_progress, print_json, server_line
from interactive_agents.errors import ConfigError
from interactive_agents.loadtest import DEFAULT_DURATION, BenchConfig, LoadGenerator, parse_slo
from interactive_agents.method import load_prompts

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
Requests are never retried: 429s, 5xx, timeouts are counted by kind ("error_counts")
and each one's message is kept ("errors"). The server is probed first: a refused
connection, an unresolvable host or a model it does not serve stops bench at once.
Where the server exposes Prometheus metrics (vLLM, llama.cpp), its own prefix-cache hit
rate, KV-cache usage and queue are read beside the client's counts ("server_metrics").
Exit codes: 0 the run finished (errors included), 2 bad options or input, or a server
that cannot be used.
"""


def _levels(_ctx: click.Context, _param: click.Parameter, text: str | None) -> list[float] | None:
    """``--sweep 1,4,16``: the levels, or a usage error naming the flag."""
    if text is None:
        return None
    try:
        return [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r}: give numbers, e.g. 1,4,16,64") from None


def _slo(
    _ctx: click.Context, _param: click.Parameter, items: tuple[str, ...]
) -> dict[str, float] | None:
    """``--slo ttft=0.5`` pairs (seconds), or None when none was given."""
    try:
        return parse_slo(items) if items else None
    except ConfigError as exc:
        raise click.BadParameter(exc.reason) from exc


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@recipe_option("a TOML file of these settings")
@endpoint_options()
@option(
    "--request-rate",
    key="request_rate",
    type=float,
    help="Poisson arrivals per second (open loop); --concurrency caps the requests outstanding.",
)
@option(
    "--duration",
    key="duration",
    type=float,
    default_text=f"{DEFAULT_DURATION:g} s without --requests",
    help="Seconds to send for.",
)
@option("--requests", key="requests", type=int, help="Number of requests to send.")
@option(
    "--stream",
    key="stream",
    is_flag=True,
    default_text="off",
    help="Stream answers and measure time to first token.",
)
@option(
    "--cards",
    key="cards",
    kind=BenchConfig,
    help="Role cards for the clients (a file or a built-in set).",
)
@option(
    "--language",
    key="language",
    kind=BenchConfig,
    type=click.Choice(["en", "zh"]),
    help="Prompt language.",
)
@option(
    "--max-turns",
    key="max_turns",
    kind=BenchConfig,
    type=int,
    help="Turns before a session restarts.",
)
@sampling_options("", "", kind=BenchConfig)
@option("--seed", key="seed", kind=BenchConfig, type=int, help="Seed of the arrivals.")
@option("--warmup", key="warmup", kind=BenchConfig, type=int, help="Requests left out.")
@option(
    "--think-time",
    key="think_time",
    kind=BenchConfig,
    type=float,
    help="Seconds before a next turn.",
)
@option(
    "--think-dist",
    key="think_distribution",
    kind=BenchConfig,
    type=click.Choice(["fixed", "exponential"]),
    help="Think time exactly --think-time, or exponential with that mean.",
)
@option(
    "--slo",
    key="slo",
    multiple=True,
    metavar="METRIC=SECONDS",
    callback=_slo,
    help="A goodput target: ttft, tpot or e2el; repeat for several.",
)
@option(
    "--sweep",
    key="sweep",
    metavar="LEVELS",
    callback=_levels,
    help="Comma-separated concurrencies (or rates with --request-rate): one run per level.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or table.")
def bench(
    recipe: str | None, out: Path | None, as_json: bool, quiet: bool, **_configured: object
) -> None:
    """Replay multi-turn counseling traffic against an OpenAI-compatible endpoint.

    Every request continues a conversation built from the bundled prompts and a role
    card, with a history that grows by the server's own answers (so prefix caching
    matters, as in a real run). Reports requests/s, output tokens/s, latency and, with
    --stream, time to first token, time per output token and inter-token latency,
    goodput under --slo targets, cached prompt tokens by turn depth, and errors by kind.
    With --sweep, one run per level and one row per level.
    """
    console = Console(stderr=True, quiet=quiet)
    with usage_errors():
        config = configuration(BenchConfig, click.get_current_context(), recipe)
        cards = load_cards(config.cards)
        prompts = load_prompts(config.language)
        generators = [LoadGenerator(load, cards.cards, prompts) for load in config.loads()]
        runs = [runtime.run_with_uvloop(_run, generator, console) for generator in generators]
    report = _sweep_report(config, runs) if config.sweep else runs[0]
    data = orjson.dumps(report, option=orjson.OPT_INDENT_2)
    if out is not None:
        out.write_bytes(data + b"\n")
    if as_json:
        print_json(report)
    console.print(_sweep_table(report) if config.sweep else _table(report))


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
SHOWN_ERRORS = 10  # distinct error messages printed, the most frequent first
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
    counts = report["error_counts"]
    table.add_row("errors", ", ".join(f"{k} {v:,}" for k, v in counts.items()) or "none")
    for message, count in Counter(report["errors"]).most_common(SHOWN_ERRORS):
        table.add_row("", f"{count:,} x {message}")
    for url, server in report["server_metrics"].items():
        table.add_row(f"server {url}", server_line(server, report["cache_hit_rate"]))
    return table


def _sweep_report(config: BenchConfig, runs: list[dict[str, Any]]) -> dict[str, Any]:
    over = config.swept
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
