"""Serving counselor bots: a registry of weights and sampling, the server command lines
(vLLM on GPUs, llama.cpp on the CPU), and the supervisor that starts them and writes
the endpoints file the arena reads.
"""

from __future__ import annotations

from interactive_agents.serving._commands import ServerPlan, plan_servers, vllm_command
from interactive_agents.serving._registry import ServedBot, load_registry, parse_bot
from interactive_agents.serving._supervisor import BotServers, write_endpoints

__all__ = [
    "BotServers",
    "ServedBot",
    "ServerPlan",
    "load_registry",
    "parse_bot",
    "plan_servers",
    "vllm_command",
    "write_endpoints",
]
