"""Saturation: the engine against a mock that can only generate K answers at a time.

    python benchmarks/bench_saturation.py [--capacity 20] [--latency 0.1] [--dialogues 400]

The mock's capacity is K / latency calls per second; the engine should keep it busy,
whether the queue forms at the server (endpoint concurrency far above K) or in the
engine's scheduler (endpoint concurrency = K). Figures and ratios only.
"""

from __future__ import annotations

import argparse

from bench_engine import ENGINE, run_in_child, show, steps

from interactive_agents.testing import ServerOptions, spawn

HEADERS = [
    "endpoint concurrency",
    "dialogues",
    "calls",
    "errors",
    "wall s",
    "calls/s",
    "capacity calls/s",
    "achieved / capacity",
    "CPU ms/call",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capacity", type=int, default=20, help="mock's concurrent answers")
    parser.add_argument("--latency", type=float, default=0.1, help="mock latency, seconds")
    parser.add_argument("--dialogues", type=int, default=400)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    capacity_rate = args.capacity / args.latency
    rows = []
    plan = [args.dialogues, args.capacity]
    with (
        spawn(ServerOptions(latency=args.latency, capacity=args.capacity)) as [url],
        steps(len(plan), "runs") as advance,
    ):
        for concurrency in plan:
            advance(f"endpoint concurrency {concurrency}")
            m = run_in_child(
                kind=ENGINE,
                base_url=url,
                dialogues=args.dialogues,
                turns=args.turns,
                endpoint_concurrency=concurrency,
            )
            rate = m.calls / m.wall_s
            rows.append(
                [
                    f"{concurrency:,}",
                    f"{args.dialogues:,}",
                    f"{m.calls:,}",
                    str(m.errors + m.dialogues_failed),
                    f"{m.wall_s:.2f}",
                    f"{rate:,.0f}",
                    f"{capacity_rate:,.0f}",
                    f"{rate / capacity_rate:.3f}",
                    f"{m.cpu_s / max(m.calls, 1) * 1e3:.3f}",
                ]
            )
    title = f"Saturation: mock capacity {args.capacity} at {args.latency} s latency"
    show(title, HEADERS, rows, args.markdown)


if __name__ == "__main__":
    main()
