"""Sharded runs: LLM calls per second of ``simulate --workers 1`` against ``--workers N``.

    python benchmarks/bench_sharding.py [--dialogues 2000] [--workers 2] [--latency 0.005]

The mock answers almost at once, so a run is bound by the client's CPU: one process
uses one core whatever its concurrency, and shards spread the work over more. Each run
is the real command (its own processes, the shards merged into the run directory) on a
fresh directory; calls per second is the calls over the run's wall time, from starting
the command to its summary (start-up of the shard processes and the merge included).
CPU per call is the command's and its shard processes' (the mock's excluded): what
sharding itself costs. The mock shares the machine's cores with the runs, and the load
average before each run is printed, since on a busy small machine no ratio can reach N.
Figures only.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import orjson
from _mock_runs import MockRuns, mock_runs, run_options, run_to_end, simulate_command
from bench_engine import mock_cpu_seconds, show

HEADERS = [
    "workers",
    "dialogues",
    "calls",
    "errors",
    "wall s",
    "calls/s",
    "× 1 worker",
    "CPU ms/call",
    "mock CPU ms/call",
    "load before",
]


def run(
    runs: MockRuns, out: Path, workers: int, args: argparse.Namespace
) -> tuple[int, int, float, float]:
    """One ``simulate`` run: its calls, errors, wall seconds and CPU seconds (the command
    and its shard processes, which it waits for: the mock excluded)."""
    command = simulate_command(runs, out, args, "--workers", str(workers))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = run_to_end(command, f"simulate --workers {workers}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    summary = orjson.loads(result.stdout)
    return summary["calls"], summary["errors"] + summary["failed"], wall, cpu


def main() -> None:
    parser = run_options(
        __doc__,
        dialogues=2000,
        turns=5,
        in_flight=500,
        in_flight_help="dialogues at once, in all",
        latency=0.005,
    )
    parser.add_argument("--workers", type=int, default=2, help="shards of the sharded run")
    args = parser.parse_args()
    rows = []
    with mock_runs(args, 2) as (runs, advance):
        single = 0.0
        for workers in (1, args.workers):
            advance(f"--workers {workers}")
            load, mock_before = os.getloadavg()[0], mock_cpu_seconds(runs.url)
            calls, errors, wall, cpu = run(runs, runs.folder / f"w{workers}", workers, args)
            mock_cpu = mock_cpu_seconds(runs.url) - mock_before
            rate = calls / wall
            single = single or rate
            rows.append(
                [
                    str(workers),
                    f"{args.dialogues:,}",
                    f"{calls:,}",
                    str(errors),
                    f"{wall:.2f}",
                    f"{rate:,.0f}",
                    f"{rate / single:.2f}",
                    f"{cpu * 1000 / calls:.2f}",
                    f"{mock_cpu * 1000 / calls:.2f}",
                    f"{load:.1f}",
                ]
            )
    title = f"simulate --workers, mock latency {args.latency} s, {args.turns} turns"
    show(title, HEADERS, rows, args.markdown)


if __name__ == "__main__":
    main()
