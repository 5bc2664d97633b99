"""Start the planned servers, wait until each answers, publish their endpoints, stop them.

Servers are child processes managed like the embedded model
(:mod:`interactive_agents.llm.local._server`): a free port each, a health check on
``/v1/models``, a parent-death signal, and termination on exit. The endpoints file is
what ``arena --bots`` and ``annotate`` read unchanged: one ``[bots.<name>]`` table per
bot in the shared schema of :mod:`interactive_agents.llm._bots`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path
from types import TracebackType

import anyio

from interactive_agents.llm._bots import BotEndpoint, bot_endpoints_toml
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Sampling
from interactive_agents.llm.local._server import LocalServer, LocalServerOptions
from interactive_agents.serving._commands import ServerPlan
from interactive_agents.serving._gguf import cached_gguf

VLLM_STARTUP_TIMEOUT = 1800.0  # a 7B model's weights, CUDA graphs and warm-up


class CommandServer(LocalServer):
    """A :class:`LocalServer` running any OpenAI-compatible server command (vLLM)."""

    def __init__(self, plan: ServerPlan, host: str, startup_timeout: float) -> None:
        super().__init__(LocalServerOptions(alias=plan.name, startup_timeout=startup_timeout))
        self.plan = plan
        self.host = host

    def environment(self) -> dict[str, str]:
        return self.plan.env

    def command(self, port: int) -> list[str]:
        return self.plan.command(port, self.host)


def write_endpoints(path: str | Path, endpoints: Sequence[BotEndpoint]) -> Path:
    """The endpoints registry, written atomically."""
    text = bot_endpoints_toml(endpoints, "Written by `interactive-agents serve`: the running bots.")
    target = Path(path)
    staging = target.with_name(f".{target.name}.tmp")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, target)  # readers never see a half-written file
    return target


class BotServers:
    """``async with BotServers(plans) as endpoints``: every bot up, then all stopped."""

    def __init__(
        self,
        plans: Sequence[ServerPlan],
        *,
        host: str = "127.0.0.1",
        advertise: str | None = None,
        startup_timeout: float = VLLM_STARTUP_TIMEOUT,
    ) -> None:
        self.plans = plans
        self.host = host
        self.advertise = advertise
        self.startup_timeout = startup_timeout
        self._stack = AsyncExitStack()

    async def _server(self, plan: ServerPlan) -> LocalServer:
        if plan.engine == "vllm":
            return CommandServer(plan, self.host, self.startup_timeout)
        bot = plan.bots[0]
        if bot.gguf is None:  # an HF folder: convert it first (cached)
            assert bot.model is not None
            gguf = await anyio.to_thread.run_sync(cached_gguf, bot.model)
            plan = replace(plan, bots=(replace(bot, gguf=str(gguf)),))
        return plan.llama_server()

    async def __aenter__(self) -> list[BotEndpoint]:
        endpoints = []
        try:
            for plan in self.plans:
                server = await self._stack.enter_async_context(await self._server(plan))
                base_url = server.base_url
                if self.advertise:
                    base_url = base_url.replace("127.0.0.1", self.advertise, 1)
                endpoints += [
                    BotEndpoint(
                        bot.name,
                        EndpointConfig(
                            base_urls=(base_url,), model=bot.name, concurrency=plan.concurrency
                        ),
                        Sampling(bot.temperature, bot.top_p, bot.max_tokens),
                        bot.system_prompt,
                    )
                    for bot in plan.bots
                ]
        except BaseException:
            await self._stack.aclose()
            raise
        return endpoints

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stack.aclose()
