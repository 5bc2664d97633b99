"""Routing policies on two real vLLM servers, with vLLM's own prefix-cache hit rate.

    python benchmarks/bench_routing_vllm.py --vllm-python .venv-vllm/bin/python \
        [--dialogues 8] [--turns 4] [--max-tokens 32] [--markdown]

Two servers of vLLM's CPU build (the embedded SmolLM2-135M converted to a Hugging Face
checkpoint, 1 GiB of KV cache each, each pinned to its own core) start once on free
loopback ports, through the same command line ``serve`` builds. For each policy
(``affinity``, ``fewest``), both prefix caches are emptied (vLLM's
``/reset_prefix_cache``, served in its dev mode) and the engine's sessions run through
both servers; a first row runs them on one server, the hit rate routing would keep.
Reported beside the engine's own count of cached prompt tokens (each answer's
``usage.prompt_tokens_details``): what vLLM counted itself, read from its ``/metrics``
while the run went on (``watch_server_metrics``: ``vllm:prefix_cache_queries_total``
and ``vllm:prefix_cache_hits_total``, in tokens, whole 128-token blocks on the CPU
build), per server; wall time. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import anyio
import httpx
from _routed_runs import sessions, timed_run
from bench_engine import show

from interactive_agents import build_config
from interactive_agents.llm import resolve_model, watch_server_metrics
from interactive_agents.serving import parse_bot, vllm_command
from interactive_agents.training import cached_checkpoint

MODEL = "smol"


@dataclass(frozen=True, slots=True)
class Outcome:
    servers: int
    policy: str
    wall: float
    calls: int
    engine_prompt: int
    engine_cached: int
    server_queries: tuple[float, ...]
    server_hits: tuple[float, ...]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def vllm_servers(args: argparse.Namespace, count: int) -> Iterator[list[str]]:
    """``count`` vLLM servers of one model, each on its own core; their base URLs."""
    checkpoint = cached_checkpoint(resolve_model(args.local_model))
    bot = parse_bot(MODEL, {"model": str(checkpoint), "vllm_python": args.vllm_python,
                            "max_model_len": args.context})  # fmt: skip
    processes, urls = [], []
    try:
        for core in range(count):
            port = free_port()
            environment = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1",
                           "VLLM_CPU_OMP_THREADS_BIND": str(core % (os.cpu_count() or 1)),
                           "VLLM_SERVER_DEV_MODE": "1"}  # fmt: skip
            log = open(f"{args.logs}/vllm-{core}.log", "wb")  # noqa: SIM115 - the server's
            command = vllm_command([bot], port, "127.0.0.1", MODEL)
            processes.append(subprocess.Popen(command, stdout=log, stderr=log, env=environment))
            urls.append(f"http://127.0.0.1:{port}/v1")
        started = time.monotonic()
        for url, process in zip(urls, processes, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the vLLM server of {url} exited; see {args.logs}")
                try:
                    if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(1)
        print(f"{count} vLLM servers up after {time.monotonic() - started:.0f} s", flush=True)
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)


async def measure(urls: list[str], policy: str, args: argparse.Namespace) -> Outcome:
    async with httpx.AsyncClient() as client:
        for url in urls:
            reset = await client.post(url.removesuffix("/v1") + "/reset_prefix_cache")
            reset.raise_for_status()
    config = build_config(
        None,
        {
            "language": "en",
            "max_turns": args.turns,
            "max_in_flight": args.dialogues,
            "client.sampling.max_tokens": args.max_tokens,
            "counselor.sampling.max_tokens": args.max_tokens,
            "endpoint.base_urls": urls,
            "endpoint.model": MODEL,
            "endpoint.concurrency": args.dialogues,
            "endpoint.routing": policy,
            "endpoint.timeout": 600.0,
        },
    )
    async with watch_server_metrics(urls) as watch:
        wall, stats = await timed_run(config, sessions("vllm", args.dialogues, 3))
    report = [watch.report()[url] for url in urls]
    return Outcome(
        len(urls),
        policy,
        wall,
        stats.calls,
        stats.prompt_tokens,
        stats.cached_tokens,
        tuple(server["prefix_cache_queries"] for server in report),
        tuple(server["prefix_cache_hits"] for server in report),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--vllm-python", required=True, help="the interpreter of vLLM's CPU build")
    add("--policies", default="affinity,fewest")
    add("--dialogues", type=int, default=8)
    add("--turns", type=int, default=4)
    add("--max-tokens", type=int, default=32, help="per reply, both roles")
    add("--context", type=int, default=4096, help="max_model_len of each server")
    add("--local-model", default="smollm2-135m-instruct", help="embedded model to convert")
    add("--logs", default="/tmp", help="folder for the servers' logs")
    add("--markdown", action="store_true", help="print a Markdown table on stdout")
    args = parser.parse_args()
    outcomes = []
    with vllm_servers(args, 2) as urls:
        outcomes.append(anyio.run(measure, urls[:1], "affinity", args))
        for policy in args.policies.split(","):
            outcomes.append(anyio.run(measure, urls, policy, args))
    headers = ["servers", "policy", "calls", "engine prompt", "engine cached", "engine hit rate",
               "vLLM queries", "vLLM hits", "vLLM hit rate", "wall s"]  # fmt: skip
    rows = []
    for o in outcomes:
        queries, hits = sum(o.server_queries), sum(o.server_hits)
        rows.append(
            [
                str(o.servers),
                o.policy if o.servers > 1 else "(one server)",
                str(o.calls),
                str(o.engine_prompt),
                str(o.engine_cached),
                f"{o.engine_cached / o.engine_prompt:.1%}" if o.engine_prompt else "",
                " + ".join(f"{q:.0f}" for q in o.server_queries),
                " + ".join(f"{h:.0f}" for h in o.server_hits),
                f"{hits / queries:.1%}" if queries else "",
                f"{o.wall:.1f}",
            ]
        )
    show("routing over two vLLM servers (CPU build)", headers, rows, args.markdown)


if __name__ == "__main__":
    main()
