"""The fake as a process of its own, ``python -m interactive_agents.testing``: the load
target of the benchmarks, spending as little CPU as it can per request, so that what a
benchmark measures is the client.

It prints ``READY http://127.0.0.1:PORT`` (one URL per replica) once it listens, and
stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import signal
from collections.abc import Sequence
from dataclasses import fields

from interactive_agents.testing._completions import HOST, ChatCompletions, listen
from interactive_agents.testing._options import LATENCY_DISTRIBUTIONS, ServerOptions

# What the command answers with unless told: a real server's time to the first token.
COMMAND_LATENCY = 0.1


def token_range(text: str) -> tuple[int, int]:
    """``N`` or ``LOW-HIGH`` tokens, for ``--output-tokens``."""
    low, _, high = text.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or LOW-HIGH: {text}") from None


def command_arguments(options: ServerOptions) -> list[str]:
    """The command line that makes a server of ``options`` (every option spelled out)."""
    arguments = []
    for item in fields(ServerOptions):
        value = getattr(options, item.name)
        if value is None:
            continue
        if item.name == "output_tokens":
            value = "{}-{}".format(*value)
        elif item.name == "models":
            if not value:
                continue
            value = ",".join(value)
        arguments += [f"--{item.name.replace('_', '-')}", str(value)]
    return arguments


def parse_command_line(argv: Sequence[str] | None = None) -> tuple[ServerOptions, int, int]:
    """The options, the port and the number of replicas the command line asks for."""
    defaults = ServerOptions()
    parser = argparse.ArgumentParser(
        prog="python -m interactive_agents.testing",
        description="A fake OpenAI-compatible chat server on loopback, for load and tests.",
    )
    add = parser.add_argument
    add("--port", type=int, default=0, help="0 picks a free port (see the READY line)")
    add("--replicas", type=int, default=1, help="servers, each with its own queue and cache")
    add("--model", default=defaults.model)
    add(
        "--models",
        type=lambda text: tuple(name for name in text.split(",") if name),
        default=defaults.models,
        help="comma-separated: the only model names served (default: any)",
    )
    add("--latency", type=float, default=COMMAND_LATENCY, help="seconds to first token")
    add("--latency-dist", choices=LATENCY_DISTRIBUTIONS, default=defaults.latency_dist)
    add(
        "--latency-jitter",
        type=float,
        default=defaults.latency_jitter,
        help="± for uniform, mean of the exponential tail, sigma for lognormal",
    )
    add("--output-tokens", type=token_range, default=defaults.output_tokens, help="N or LOW-HIGH")
    add("--tokens-per-second", type=float, default=0.0, help="0 = instant generation")
    add("--capacity", type=int, default=0, help="max requests generating at once; 0 = unlimited")
    add("--p429", type=float, default=0.0)
    add("--retry-after", type=float, default=defaults.retry_after, help="seconds, sent with 429")
    add("--p500", type=float, default=0.0)
    add("--p503", type=float, default=0.0)
    add("--ptimeout", type=float, default=0.0, help="probability to hang, then close")
    add("--hang-seconds", type=float, default=defaults.hang_seconds)
    add("--seed", type=int, default=None, help="seed of the fault, latency and reply RNG")
    add("--block-tokens", type=int, default=defaults.block_tokens, help="prefix cache block")
    add("--cache-blocks", type=int, default=0, help="prefix cache blocks per replica; 0 = none")
    add("--prefill-per-token", type=float, default=0.0, help="seconds per uncached token")
    args = vars(parser.parse_args(argv))
    port, replicas = args.pop("port"), args.pop("replicas")
    if replicas < 1:
        parser.error("--replicas must be at least 1")
    try:
        return ServerOptions(**args), port, replicas
    except ValueError as exc:
        parser.error(str(exc))


def raise_fd_limit() -> None:
    """Thousands of open connections need more descriptors than the usual soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve_replicas(options: ServerOptions, port: int, replicas: int) -> None:
    """Listen (replica i on ``port + i``, or any free ports), announce the addresses, and
    run until SIGTERM or SIGINT. Nothing is recorded: nobody could read it."""
    runners, urls = [], []
    for index in range(replicas):
        server = ChatCompletions(None, options, record=False)
        runners.append(await listen(server, port + index if port else 0))
        urls.append(f"http://{HOST}:{server.port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print("READY", *urls, flush=True)
    try:
        await stop.wait()
    finally:
        for runner in runners:
            await runner.cleanup()


def run_command(argv: Sequence[str] | None = None) -> None:
    """Serve on uvloop's event loop where it is installed: the target should cost little."""
    options, port, replicas = parse_command_line(argv)
    raise_fd_limit()
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve_replicas(options, port, replicas))
    else:
        uvloop.run(serve_replicas(options, port, replicas))
