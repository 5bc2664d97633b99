"""Routing policies against replicas with a prefix cache: hit rate, wall time, imbalance.

    python benchmarks/bench_routing.py [--replicas 1,2,4,8] [--dialogues 64] [--turns 8]

For each replica count and policy (``affinity``: each stream assigned once by consistent
hashing with bounded loads and kept, ``fewest``: fewest requests in flight), N dialogues
run through the engine against replicas of the fake server with a prefix cache
(``interactive_agents.testing``, as its own process; a fresh set per run,
so no cache carries over). The hit rate is cached / prompt tokens as the replicas
counted them; ``ideal`` is the longest dialogue's chain of calls with every history
prefix cached and no queueing, or the total work spread evenly over every slot,
whichever is longer; imbalance is the busiest replica's busy time over the mean. With
``--repeats R`` each cell runs R times and the run of median wall time is shown (the
machine's noise is larger than some of the differences). ``--replica-capacity`` tells
the engine how many requests a replica serves at once, so affinity detours a stream
while its replica has that many in flight (0, the default: never; the mock queues).
Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import anyio
import httpx
from _routed_runs import sessions, timed_run
from bench_engine import show

from interactive_agents import build_config
from interactive_agents.testing import ServerOptions, spawn

by_wall = attrgetter("wall")


@dataclass(frozen=True, slots=True)
class Outcome:
    policy: str
    replicas: int
    wall: float
    ideal: float
    hit_rate: float
    imbalance: float
    calls: int


def replica_stats(urls: Sequence[str]) -> list[dict[str, float]]:
    return [httpx.get(url.removesuffix("/v1") + "/stats").json() for url in urls]


def ideal_seconds(args: argparse.Namespace, count: int, calls: int) -> float:
    """The critical path with every prefix cached, or the work spread over every slot."""
    per_call = float(args.output_tokens * args.decode_per_token)
    chain = (2 * args.turns - 1) * per_call  # the greeting is not a call
    spread = calls * per_call / (count * args.capacity)
    return float(max(chain, spread))


async def run(policy: str, urls: list[str], args: argparse.Namespace) -> tuple[float, int]:
    config = build_config(
        None,
        {
            "language": "en",
            "max_turns": args.turns,
            "max_in_flight": args.dialogues,
            "endpoint.base_urls": urls,
            "endpoint.model": "prefix-mock",
            "endpoint.concurrency": args.dialogues,
            "endpoint.routing": policy,
            "endpoint.routing_epsilon": args.routing_epsilon,
            "endpoint.replica_capacity": args.replica_capacity,
            "endpoint.timeout": 120.0,
            "terminator.mode": "closing",
        },
    )
    wall, stats = await timed_run(config, sessions("route", args.dialogues, 4))
    return wall, stats.calls


def median_run(policy: str, count: int, args: argparse.Namespace) -> Outcome:
    """The run of median wall time among ``--repeats`` runs of one cell."""
    runs = sorted((measure(policy, count, args) for _ in range(args.repeats)), key=by_wall)
    return runs[len(runs) // 2]


def measure(policy: str, count: int, args: argparse.Namespace) -> Outcome:
    server_options = ServerOptions(
        capacity=args.capacity,
        cache_blocks=args.cache_blocks,
        prefill_per_token=args.prefill_per_token,
        tokens_per_second=1 / args.decode_per_token if args.decode_per_token > 0 else 0.0,
        output_tokens=(args.output_tokens, args.output_tokens),
    )
    with spawn(server_options, replicas=count) as urls:
        wall, calls = anyio.run(run, policy, urls, args)
        stats = replica_stats(urls)
    prompt = sum(s["prompt_tokens"] for s in stats)
    cached = sum(s["cached_tokens"] for s in stats)
    busy = [s["busy_seconds"] for s in stats]
    mean = sum(busy) / len(busy)
    return Outcome(
        policy,
        count,
        wall,
        ideal_seconds(args, count, calls),
        cached / prompt if prompt else 0.0,
        max(busy) / mean if mean else 1.0,
        calls,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--replicas", default="1,2,4,8", help="replica counts, comma-separated")
    add("--policies", default="affinity,fewest")
    add("--dialogues", type=int, default=64)
    add("--turns", type=int, default=8)
    add("--cache-blocks", type=int, default=2048, help="LRU blocks per replica")
    add("--capacity", type=int, default=16, help="requests a replica serves at once")
    add("--prefill-per-token", type=float, default=0.0004)
    add("--decode-per-token", type=float, default=0.001)
    add("--output-tokens", type=int, default=24)
    add("--routing-epsilon", type=float, default=0.1, help="affinity's load bound")
    add("--replica-capacity", type=int, default=0, help="engine side: a replica is full at")
    add("--repeats", type=int, default=1, help="runs per cell; the median wall is shown")
    add("--markdown", action="store_true", help="print a Markdown table on stdout")
    args = parser.parse_args()
    outcomes = [
        median_run(policy, int(count), args)
        for count in args.replicas.split(",")
        for policy in args.policies.split(",")
    ]
    single = {o.policy: o.hit_rate for o in outcomes if o.replicas == 1}
    best_wall = {
        n: min(o.wall for o in outcomes if o.replicas == n) for n in {o.replicas for o in outcomes}
    }
    headers = ["replicas", "policy", "hit rate", "hit / 1-replica", "wall s", "wall / ideal",
               "wall / best policy", "imbalance", "calls"]  # fmt: skip
    rows = [
        [
            str(o.replicas),
            o.policy,
            f"{o.hit_rate:.1%}",
            f"{o.hit_rate / single[o.policy]:.2f}" if single.get(o.policy) else "",
            f"{o.wall:.2f}",
            f"{o.wall / o.ideal:.2f}",
            f"{o.wall / best_wall[o.replicas]:.2f}",
            f"{o.imbalance:.2f}",
            str(o.calls),
        ]
        for o in outcomes
    ]
    show("routing policies over replicas with a prefix cache", headers, rows, args.markdown)


if __name__ == "__main__":
    main()
