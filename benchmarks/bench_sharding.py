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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from _launch import mock_cpu_seconds, mock_server
from bench_engine import COMPLAINT, show, steps

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


def write_cards(path: Path, count: int) -> Path:
    lines = (
        orjson.dumps({"id": f"card-{i:05d}", "chief_complaint": f"{COMPLAINT} ({i})"})
        for i in range(count)
    )
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def run(
    url: str, cards: Path, out: Path, workers: int, args: argparse.Namespace
) -> tuple[int, int, float, float]:
    """One ``simulate`` run: its calls, errors, wall seconds and CPU seconds (the command
    and its shard processes, which it waits for: the mock excluded)."""
    command = [
        sys.executable, "-m", "interactive_agents", "simulate",
        "--cards", str(cards), "--out", str(out), "--base-url", url, "--model", "mock",
        "--language", "en", "--max-turns", str(args.turns),
        "--max-in-flight", str(args.in_flight), "--concurrency", str(args.in_flight),
        "--workers", str(workers), "--quiet", "--json",
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if result.returncode != 0:
        raise RuntimeError(f"simulate --workers {workers} failed: {result.stderr.decode()[-800:]}")
    summary = orjson.loads(result.stdout)
    return summary["calls"], summary["errors"] + summary["failed"], wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialogues", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--in-flight", type=int, default=500, help="dialogues at once, in all")
    parser.add_argument("--workers", type=int, default=2, help="shards of the sharded run")
    parser.add_argument("--latency", type=float, default=0.005, help="mock latency, seconds")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    rows = []
    with (
        tempfile.TemporaryDirectory() as folder,
        mock_server(latency=args.latency) as url,
        steps(2, "runs") as advance,
    ):
        cards = write_cards(Path(folder) / "cards.jsonl", args.dialogues)
        single = 0.0
        for workers in (1, args.workers):
            advance(f"--workers {workers}")
            load, mock_before = os.getloadavg()[0], mock_cpu_seconds(url)
            out = Path(folder) / f"w{workers}"
            calls, errors, wall, cpu = run(url, cards, out, workers, args)
            mock_cpu = mock_cpu_seconds(url) - mock_before
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
