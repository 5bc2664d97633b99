"""Routing policies on two real llama.cpp servers: their prompt caches, counted two ways.

    python benchmarks/bench_routing_llama.py [--dialogues 8] [--turns 4] [--parallel 4]

For each policy (``affinity``, ``fewest``), two fresh llama.cpp servers (the ``xllamacpp``
wheel, the embedded SmolLM2-135M GGUF, ``--parallel`` slots each, prompt caching on as
llama.cpp's default, ``/metrics`` on) start on free loopback ports and the engine's
sessions run through both; a first row runs the same sessions on one server, the hit
rate routing would keep. Reported: the engine's own count of cached prompt tokens
(``usage.prompt_tokens_details.cached_tokens`` of every reply) beside the servers'
(``llamacpp:prompt_tokens_cached_total`` and ``llamacpp:prompt_tokens_total``, the
tokens each server evaluated), so the two can be compared; the hit rate is cached /
prompt tokens; wall time. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
from contextlib import AsyncExitStack
from dataclasses import dataclass

import anyio
import httpx
from _routed_runs import sessions, timed_run
from bench_engine import show

from interactive_agents import build_config
from interactive_agents.llm import LocalServer, LocalServerOptions

EVALUATED = "llamacpp:prompt_tokens_total"  # prompt tokens evaluated, cached ones excluded
CACHED = "llamacpp:prompt_tokens_cached_total"


@dataclass(frozen=True, slots=True)
class Outcome:
    servers: int
    policy: str
    wall: float
    calls: int
    engine_prompt: int
    engine_cached: int
    server_evaluated: tuple[int, ...]
    server_cached: tuple[int, ...]


def counters(text: str) -> dict[str, float]:
    """The unlabelled samples of a Prometheus text exposition, by name."""
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition(" ")
            samples[name] = float(value)
    return samples


async def measure(count: int, policy: str, args: argparse.Namespace) -> Outcome:
    options = LocalServerOptions(
        model=args.local_model,
        parallel=args.parallel,
        threads=args.threads,
        context_size=args.context,
        metrics=True,
    )
    async with AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(LocalServer(options)) for _ in range(count)]
        config = build_config(
            None,
            {
                "language": "en",
                "max_turns": args.turns,
                "max_in_flight": args.dialogues,
                "client.sampling.max_tokens": args.max_tokens,
                "counselor.sampling.max_tokens": args.max_tokens,
                "endpoint.base_urls": [server.base_url for server in servers],
                "endpoint.model": servers[0].model,
                "endpoint.concurrency": count * args.parallel,
                "endpoint.routing": policy,
                "endpoint.routing_epsilon": args.routing_epsilon,
                "endpoint.timeout": 600.0,
            },
        )
        wall, stats = await timed_run(config, sessions("llama", args.dialogues, 3))
        async with httpx.AsyncClient() as client:
            figures = [
                counters((await client.get(s.base_url.removesuffix("/v1") + "/metrics")).text)
                for s in servers
            ]
    return Outcome(
        count,
        policy,
        wall,
        stats.calls,
        stats.prompt_tokens,
        stats.cached_tokens,
        tuple(int(f[EVALUATED]) for f in figures),
        tuple(int(f[CACHED]) for f in figures),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--policies", default="affinity,fewest")
    add("--dialogues", type=int, default=8)
    add("--turns", type=int, default=4)
    add("--max-tokens", type=int, default=32, help="per reply, both roles")
    add("--parallel", type=int, default=4, help="slots per server")
    add("--threads", type=int, default=1, help="threads per server")
    add("--context", type=int, default=4096, help="tokens per slot")
    add("--routing-epsilon", type=float, default=0.1, help="affinity's load bound")
    add("--local-model", default="smollm2-135m-instruct", help="embedded model name or GGUF")
    add("--markdown", action="store_true", help="print a Markdown table on stdout")
    args = parser.parse_args()
    policies = args.policies.split(",")
    plan = [(1, policies[0]), *((2, policy) for policy in policies)]
    outcomes = [anyio.run(measure, count, policy, args) for count, policy in plan]
    headers = ["servers", "policy", "calls", "engine prompt", "engine cached", "engine hit rate",
               "servers evaluated", "servers cached", "servers hit rate", "wall s"]  # fmt: skip
    rows = []
    for o in outcomes:
        evaluated, cached = sum(o.server_evaluated), sum(o.server_cached)
        rows.append(
            [
                str(o.servers),
                o.policy if o.servers > 1 else "(one server)",
                str(o.calls),
                str(o.engine_prompt),
                str(o.engine_cached),
                f"{o.engine_cached / o.engine_prompt:.1%}" if o.engine_prompt else "",
                " + ".join(map(str, o.server_evaluated)),
                " + ".join(map(str, o.server_cached)),
                f"{cached / (cached + evaluated):.1%}" if cached + evaluated else "",
                f"{o.wall:.1f}",
            ]
        )
    show("routing over two llama.cpp servers", headers, rows, args.markdown)


if __name__ == "__main__":
    main()
