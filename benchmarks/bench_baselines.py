"""Measure the three baselines against the mock server and print how far each is from ideal.

    python benchmarks/bench_baselines.py [--latency 0.1] [--turns 5] [--sizes 10,100,1000]

Ideal is the time the calls spend waiting on the server: turns × 2 × latency when the
dialogues run concurrently, N times that for the sequential reference (run only at the
smallest N, since it is slow by design). Figures and ratios only; nothing is asserted.
"""

from __future__ import annotations

import argparse

from baselines import BASELINES, Result

from interactive_agents.testing import ServerOptions, spawn

SEQUENTIAL = "reference"
FLOOR = "raw_sockets"
COLUMNS = (
    f"{'baseline':<12} {'N':>5} {'calls':>6} {'errors':>6} {'wall s':>8} {'ideal s':>8} "
    f"{'wall/ideal':>10} {'calls/s':>8} {'CPU ms/call':>11} {'wall/floor':>10} {'CPU/floor':>9}"
)


def row(name: str, size: int, result: Result, ideal: float, floor: Result) -> str:
    per_call = result.cpu_seconds / max(result.calls, 1)
    floor_per_call = floor.cpu_seconds / max(floor.calls, 1)
    return (
        f"{name:<12} {size:>5} {result.calls:>6} {result.errors:>6} "
        f"{result.wall_seconds:>8.2f} {ideal:>8.2f} {result.wall_seconds / ideal:>10.2f} "
        f"{result.calls / result.wall_seconds:>8.0f} {per_call * 1e3:>11.3f} "
        f"{result.wall_seconds / floor.wall_seconds:>10.2f} {per_call / floor_per_call:>9.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Baselines against the mock server.")
    parser.add_argument("--latency", type=float, default=0.1, help="mock latency, seconds")
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--sizes", default="10,100,1000", help="numbers of dialogues")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    concurrent_ideal = args.turns * 2 * args.latency
    print(f"mock latency {args.latency} s, {args.turns} turns, 2 calls per turn")
    print(COLUMNS)
    with spawn(ServerOptions(latency=args.latency)) as [base_url]:
        for size in sizes:
            floor = BASELINES[FLOOR](base_url, size, args.turns)
            for name, baseline in BASELINES.items():
                if name == SEQUENTIAL and size != sizes[0]:
                    continue
                result = floor if name == FLOOR else baseline(base_url, size, args.turns)
                ideal = concurrent_ideal * (size if name == SEQUENTIAL else 1)
                print(row(name, size, result, ideal, floor), flush=True)


if __name__ == "__main__":
    main()
