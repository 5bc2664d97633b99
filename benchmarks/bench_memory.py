"""Memory per in-flight dialogue, measured while every dialogue has a request on the wire.

    python benchmarks/bench_memory.py [--sizes 1000,2000,4000] [--latency 5] [--markdown]

The mock answers after ``latency`` seconds, long enough that all N dialogues wait on a
request at the same moment. Each run happens in a fresh child process: it warms up with
one dialogue (imports, first-use caches, the connection pool), notes its RSS, starts N
dialogues at once, and samples RSS while all N requests are outstanding. Two figures per
dialogue:

- ``RSS / dialogue``: the growth, RSS with all N on the wire minus RSS after warm-up
  (the N role cards are already loaded then), over N;
- ``marginal``: the slope of the growth between consecutive sizes, which leaves out
  whatever a run costs once (buffers, pools): the cost of one more dialogue in flight.

Each is set beside the dialogue's text: its record (transcript and metadata as written)
and the request body on the wire (the prompt and history). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

import anyio
import orjson
from bench_engine import (
    COMPLAINT,
    ENGINE,
    SIMULATE,
    child_output,
    jsonl_bytes,
    memory_kib,
    raise_fd_limit,
    run_engine_as,
    show,
    steps,
)

from interactive_agents import Engine, RoleCard, Turn, build_config
from interactive_agents.method import load_prompts
from interactive_agents.runtime import perspective
from interactive_agents.testing import ServerOptions, spawn

SAMPLE_EVERY = 0.05


@dataclass(frozen=True, slots=True)
class Footprint:
    """What one child saw."""

    dialogues: int
    rss_warm_kib: int
    rss_loaded_kib: int
    peak_in_flight: int
    record_bytes: int
    errors: int

    @property
    def growth_kib(self) -> int:
        return self.rss_loaded_kib - self.rss_warm_kib

    @property
    def per_dialogue_kib(self) -> float:
        return self.growth_kib / self.dialogues


def first_request_bytes() -> int:
    """The JSON body of a dialogue's first counselor request (system prompt, the client's
    opening line, the stage cue): the text each dialogue has on the wire when measured."""
    counselor = load_prompts("en").counselor
    opening = Turn("client", load_prompts("en").client.opening)
    messages = perspective(counselor.system_message(), [opening], "counselor")
    messages.append(counselor.cue("early", 1, 2))
    return len(orjson.dumps({"model": "mock-model", "messages": messages, "max_tokens": 512}))


async def measure(spec: dict[str, Any]) -> Footprint:
    """Warm up, then hold N dialogues on the wire and sample RSS."""
    size = spec["dialogues"]
    config = build_config(
        None,
        {
            "language": "en",
            "max_turns": 2,
            "max_in_flight": size,
            "endpoint.base_urls": [spec["base_url"]],
            "endpoint.model": "mock-model",
            "endpoint.concurrency": size,
            "endpoint.timeout": 120.0,
        },
    )
    cards = [RoleCard(id=f"mem-{i:05d}", chief_complaint=COMPLAINT) for i in range(size + 1)]
    with tempfile.TemporaryDirectory() as warm_dir:
        async with Engine(config, run_dir=warm_dir) as engine:
            async for _ in engine.run(cards[:1]):
                pass
    warm, _ = memory_kib()
    loaded, peak_in_flight, errors = 0, 0, 0
    with tempfile.TemporaryDirectory() as run_dir:
        async with Engine(config, run_dir=run_dir) as engine, anyio.create_task_group() as group:

            async def sample() -> None:
                nonlocal loaded, peak_in_flight
                while True:
                    in_flight = engine.stats.calls_in_flight
                    peak_in_flight = max(peak_in_flight, in_flight)
                    if in_flight >= size:
                        loaded = max(loaded, memory_kib()[0])
                    await anyio.sleep(SAMPLE_EVERY)

            group.start_soon(sample)
            async for _ in engine.run(cards[1:]):
                pass
            group.cancel_scope.cancel()
        errors = engine.stats.errors + engine.stats.failed
        record_bytes = jsonl_bytes(run_dir)
    return Footprint(size, warm, loaded, peak_in_flight, record_bytes // size, errors)


def child_main(spec: dict[str, Any]) -> None:
    raise_fd_limit()
    footprint = run_engine_as(spec["kind"], measure, spec)
    print(json.dumps(asdict(footprint)), flush=True)


def run_in_child(**spec: Any) -> Footprint:
    """One measurement in a child process."""
    return Footprint(**child_output(__file__, spec))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,2000,4000", help="N values")
    parser.add_argument("--latency", type=float, default=5.0, help="mock latency, seconds")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(json.loads(args.child))
        return
    sizes = sorted(int(size) for size in args.sizes.split(","))
    plan = [(kind, n) for kind in (ENGINE, SIMULATE) for n in sizes]
    results: dict[tuple[str, int], Footprint] = {}
    started = time.perf_counter()
    with (
        spawn(ServerOptions(latency=args.latency)) as [base_url],
        steps(len(plan), "runs") as advance,
    ):
        for kind, size in plan:
            advance(f"{kind} N={size:,}")
            results[kind, size] = run_in_child(kind=kind, base_url=base_url, dialogues=size)
    body = first_request_bytes()
    rows = []
    for kind in (ENGINE, SIMULATE):
        previous: Footprint | None = None
        for size in sizes:
            f = results[kind, size]
            marginal = "-"
            measured = f.rss_loaded_kib > 0  # some sample saw all N requests on the wire
            if measured and previous is not None:
                slope = (f.growth_kib - previous.growth_kib) / (size - previous.dialogues)
                marginal = f"{slope:.1f}"
            rows.append(
                [
                    kind,
                    f"{size:,}",
                    f"{f.peak_in_flight:,}",
                    str(f.errors),
                    f"{f.rss_warm_kib / 1024:.0f}",
                    f"{f.rss_loaded_kib / 1024:.0f}" if measured else "-",
                    f"{f.per_dialogue_kib:.1f}" if measured else "not measured",
                    marginal,
                    f"{f.record_bytes / 1024:.1f}",
                    f"{body / 1024:.1f}",
                ]
            )
            if measured:
                previous = f
    headers = [
        "client",
        "N",
        "requests on the wire",
        "errors",
        "RSS warm MiB",
        "RSS loaded MiB",
        "RSS / dialogue KiB",
        "marginal KiB",
        "record KiB",
        "request body KiB",
    ]
    title = f"Memory per in-flight dialogue, mock latency {args.latency} s"
    show(title, headers, rows, args.markdown)
    if any(f.rss_loaded_kib == 0 for f in results.values()):
        print(
            "not measured: no sample saw all N requests on the wire at once (the machine too "
            "busy to start them within the latency): run again with a longer --latency"
        )
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
