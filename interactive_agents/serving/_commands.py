"""Which servers a registry needs, and their command lines.

Each bot gets its own server, except LoRA bots that share a ``group``: they are served
as adapters of one vLLM server over their common base (``--enable-lora
--lora-modules name=path …``), each under its own model name. vLLM servers run on the
bot's GPUs (``CUDA_VISIBLE_DEVICES``) with tensor parallelism over them; GGUF bots run
on llama.cpp's server (CPU), started as the embedded model is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from interactive_agents.errors import ConfigError
from interactive_agents.llm.local._server import LocalServer, LocalServerOptions
from interactive_agents.serving._registry import ServedBot, ServingEngine

VLLM_DEFAULT_LORA_RANK = 16


@dataclass(frozen=True, slots=True)
class ServerPlan:
    """One server process and the bots it serves (each under the bot's name)."""

    name: str
    engine: ServingEngine
    bots: tuple[ServedBot, ...]

    @property
    def env(self) -> dict[str, str]:
        """Environment for the process: the GPUs it may use."""
        gpus = self.bots[0].gpus
        return {"CUDA_VISIBLE_DEVICES": ",".join(map(str, gpus))} if gpus else {}

    def command(self, port: int, host: str = "127.0.0.1") -> list[str]:
        """The server's command line (without the environment)."""
        if self.engine == "llama.cpp":
            return self.llama_server().command(port)
        return vllm_command(self.bots, port, host, self.name)

    def llama_server(self) -> LocalServer:
        """The llama.cpp server of a GGUF bot, managed like the embedded model."""
        bot = self.bots[0]
        return LocalServer(
            LocalServerOptions(
                model=bot.gguf,
                alias=bot.name,
                context_size=bot.context_size,
                threads=bot.threads,
            )
        )


def vllm_command(bots: Sequence[ServedBot], port: int, host: str, name: str) -> list[str]:
    """vLLM's OpenAI server for one full model, or for a base with one adapter per bot.

    ``vllm serve MODEL`` by default; with ``vllm_python`` set, the module form
    ``PYTHON -m vllm.entrypoints.openai.api_server --model MODEL`` (same options).
    """
    first = bots[0]
    assert first.model is not None
    parallel = first.tensor_parallel or max(len(first.gpus), 1)
    if first.vllm_python is None:
        command = ["vllm", "serve", first.model]
    else:
        command = [first.vllm_python, "-m", "vllm.entrypoints.openai.api_server",
                   "--model", first.model]  # fmt: skip
    command += ["--host", host, "--port", str(port), "--tensor-parallel-size", str(parallel)]
    if first.adapter is None:
        command += ["--served-model-name", first.name]
    else:
        modules = [f"{bot.name}={bot.adapter}" for bot in bots]
        rank = max(lora_rank(bot.adapter) for bot in bots if bot.adapter)
        command += ["--served-model-name", name, "--enable-lora", "--lora-modules", *modules,
                    "--max-loras", str(len(bots)), "--max-lora-rank", str(rank)]  # fmt: skip
    if first.max_model_len is not None:
        command += ["--max-model-len", str(first.max_model_len)]
    return command + list(first.extra_args)


def lora_rank(adapter: str) -> int:
    """The adapter's rank from its ``adapter_config.json`` (vLLM's default when unknown)."""
    config = Path(adapter) / "adapter_config.json"
    if not config.is_file():
        return VLLM_DEFAULT_LORA_RANK
    rank = json.loads(config.read_text(encoding="utf-8")).get("r")
    return rank if isinstance(rank, int) else VLLM_DEFAULT_LORA_RANK


def plan_servers(bots: Sequence[ServedBot]) -> list[ServerPlan]:
    """One plan per server, in registry order; grouped LoRA bots must agree on the server."""
    plans: list[ServerPlan] = []
    groups: dict[str, list[ServedBot]] = {}
    for bot in bots:
        if bot.group is None:
            plans.append(ServerPlan(bot.name, bot.engine, (bot,)))
            continue
        if bot.adapter is None:
            raise ConfigError(
                "only LoRA bots (with an adapter) can share a server",
                field=f"bots.{bot.name}.group",
            )
        members = groups.setdefault(bot.group, [])
        if members and _server_key(members[0]) != _server_key(bot):
            raise ConfigError(
                f"differs from {members[0].name} in model, GPUs or server options, "
                f"so it cannot share the server {bot.group!r}",
                field=f"bots.{bot.name}",
            )
        if not members:
            plans.append(ServerPlan(bot.group, "vllm", ()))
        members.append(bot)
    return [ServerPlan(p.name, p.engine, tuple(groups[p.name])) if not p.bots else p for p in plans]


def _server_key(bot: ServedBot) -> tuple[object, ...]:
    return (bot.model, bot.gpus, bot.tensor_parallel, bot.max_model_len, bot.extra_args)
