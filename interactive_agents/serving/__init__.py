"""Serving counselor bots: a registry of weights and sampling, and the servers for it.

:mod:`.registry` reads the bots file, :mod:`.commands` turns it into server command
lines (vLLM on GPUs, llama.cpp on the CPU), :mod:`.supervisor` starts them, checks them and
writes the endpoints file the arena reads.
"""

from __future__ import annotations

from interactive_agents.llm._bots import BotEndpoint
from interactive_agents.serving._commands import ServerPlan, plan_servers, vllm_command
from interactive_agents.serving._registry import ServedBot, load_registry, parse_bot
from interactive_agents.serving._supervisor import BotServers, write_endpoints

__all__ = [
    "BotEndpoint",
    "BotServers",
    "ServedBot",
    "ServerPlan",
    "load_registry",
    "parse_bot",
    "plan_servers",
    "vllm_command",
    "write_endpoints",
]
