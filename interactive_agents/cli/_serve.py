"""``interactive-agents serve``: start the counselor bots of a registry until stopped."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

import anyio
import click
from rich.console import Console

from interactive_agents import runtime
from interactive_agents.cli._errors import usage_errors
from interactive_agents.cli._progress import summary_table
from interactive_agents.serving import (
    BotServers,
    ServerPlan,
    load_registry,
    plan_servers,
    write_endpoints,
)

EXAMPLES = """
\b
Examples:
  # Show the server command lines (no GPU needed), e.g. for a job script:
  interactive-agents serve --bots runners/bots.example.toml --dry-run
\b
  # Start every bot, write bots.endpoints.toml beside the registry, stop on Ctrl-C:
  interactive-agents serve --bots bots.toml
\b
  # Serve for machines on the network (bind all interfaces, advertise the host name):
  interactive-agents serve --bots bots.toml --host 0.0.0.0 --advertise gpu1.lan \\
      --endpoints shared/bots.endpoints.toml
\b
Registry: one [bots.NAME] table per bot with model (HF folder or hub name) and
optional adapter (LoRA on that base; bots with the same group share one vLLM server),
or gguf (llama.cpp on the CPU); temperature, top_p; gpus (CUDA_VISIBLE_DEVICES),
tensor_parallel, max_model_len, extra_args. See runners/bots.example.toml.
"""


def _endpoints_path(bots: str, given: str | None) -> Path:
    if given:
        return Path(given)
    registry = Path(bots)
    return registry.with_name(f"{registry.stem}.endpoints.toml")


@click.command(epilog=EXAMPLES, context_settings={"max_content_width": 100})
@click.option("--bots", required=True, help="The bots registry (TOML).")
@click.option("--endpoints", help="Where to write the endpoints (default: BOTS.endpoints.toml).")
@click.option("--only", multiple=True, help="Serve only these bots (repeat).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface vLLM binds.")
@click.option("--advertise", help="Host name written into the endpoints instead of 127.0.0.1.")
@click.option(
    "--startup-timeout",
    type=float,
    default=1800.0,
    show_default=True,
    help="Seconds a vLLM server may take to come up.",
)
@click.option("--dry-run", is_flag=True, help="Print the server commands and exit.")
@click.option("--quiet", "-q", is_flag=True, help="No summary.")
def serve(
    bots: str,
    endpoints: str | None,
    only: tuple[str, ...],
    host: str,
    advertise: str | None,
    startup_timeout: float,
    dry_run: bool,
    quiet: bool,
) -> None:
    """Serve counselor bots (vLLM on GPUs, llama.cpp for GGUF) until interrupted."""
    console = Console(stderr=True, quiet=quiet)
    with usage_errors():
        registry = load_registry(bots)
        if only:
            unknown = set(only) - {bot.name for bot in registry}
            if unknown:
                raise click.BadParameter(f"not in the registry: {', '.join(sorted(unknown))}")
            registry = [bot for bot in registry if bot.name in only]
        plans = plan_servers(registry)
        if dry_run:
            for plan in plans:
                click.echo(_shell(plan, host))
            return
        servers = BotServers(plans, host=host, advertise=advertise, startup_timeout=startup_timeout)
        runtime.run_with_uvloop(_serve, servers, _endpoints_path(bots, endpoints), console)


def _shell(plan: ServerPlan, host: str) -> str:
    """A plan as one shell line, the port left as $PORT."""
    title = f"# {plan.name}: {', '.join(bot.name for bot in plan.bots)}"
    if plan.engine == "llama.cpp" and plan.bots[0].gguf is None:
        return f"{title}\n# {plan.bots[0].model}: converted to GGUF, then llama.cpp's server"
    command = plan.command(0, host)
    env = [f"{key}={value}" for key, value in plan.env.items()]
    line = shlex.join([*env, *command]).replace("--port 0", "--port $PORT")
    return f"{title}\n{line}"


async def _serve(servers: BotServers, endpoints_file: Path, console: Console) -> None:
    console.print(f"starting {len(servers.plans)} server(s) ...")
    async with servers as endpoints:
        path = write_endpoints(endpoints_file, endpoints)
        rows: dict[str, object] = {
            e.name: f"{e.endpoint.base_urls[0]} (model {e.endpoint.model})" for e in endpoints
        }
        rows["endpoints file"] = str(path)
        console.print(summary_table("Bots serving (Ctrl-C stops them)", rows))
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                break
    console.print("stopped")
