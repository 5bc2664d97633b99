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
from interactive_agents.loadtest.generator import LoadGenerator, LoadOptions
from interactive_agents.method.cards import load_cards
from interactive_agents.method.prompts import load_prompts
from interactive_agents.method.resources import resolve

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
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the JSON here.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or table.")
def bench(**options: Any) -> None:
    """Replay multi-turn counseling traffic against an OpenAI-compatible endpoint.

    Every request continues a conversation built from the bundled prompts and a role
    card, with a history that grows by the server's own answers (so prefix caching
    matters, as in a real run). Reports requests/s, output tokens/s, latency and, with
    --stream, time-to-first-token percentiles, and errors by kind.
    """
    console = Console(stderr=True, quiet=options["quiet"])
    with usage_errors():
        generator = _generator(options)
        report = runtime.run(_run, generator, console)
    data = orjson.dumps(report, option=orjson.OPT_INDENT_2)
    if options["out"] is not None:
        options["out"].write_bytes(data + b"\n")
    if options["as_json"]:
        print_json(report)
    console.print(_table(report))


def _generator(options: dict[str, Any]) -> LoadGenerator:
    rate, concurrency = options["request_rate"], options["concurrency"]
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
    )
    cards = load_cards(resolve(options["cards"], "runners/cards", (".jsonl", ".json", ".toml")))
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


def _table(report: dict[str, Any]) -> Table:
    """The report as a readable table."""
    table = Table(title="bench", show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key in (
        "wall_s",
        "sent",
        "completed",
        "failed",
        "requests_per_s",
        "output_tokens",
        "output_tokens_per_s",
    ):
        table.add_row(key, f"{report[key]:,}")
    for key in ("latency_s", "ttft_s"):
        figures = report[key]
        if figures:
            table.add_row(key, "  ".join(f"{name} {value:.4f}" for name, value in figures.items()))
    errors = report["errors"]
    table.add_row("errors", ", ".join(f"{k} {v:,}" for k, v in errors.items()) or "none")
    return table
