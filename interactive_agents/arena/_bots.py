"""The bots registry: which counselor bots compete, and how each one is called.

A registry is a TOML file with one ``[bots.NAME]`` table per bot, in the schema of
:mod:`interactive_agents.llm._bots` (the same file ``serve`` writes): any
OpenAI-compatible endpoint can be a bot. Every error names the file, the bot and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from interactive_agents._resources import read_toml
from interactive_agents.errors import ConfigError
from interactive_agents.llm._bots import parse_bot_endpoint
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import ChatMessage, Sampling


@dataclass(frozen=True, slots=True)
class Bot:
    """One competitor: its endpoint, sampling and system prompt (None: no system message)."""

    name: str
    endpoint: EndpointConfig
    sampling: Sampling
    system_prompt: str | None

    def messages(self, history: list[ChatMessage]) -> list[ChatMessage]:
        """The request for the next reply, given the history from the counselor's side."""
        if self.system_prompt is None:
            return history
        return [ChatMessage("system", self.system_prompt), *history]


def load_bots(path: str | Path, default_prompt: str, *, minimum: int = 2) -> list[Bot]:
    """Read and validate a registry; ``default_prompt`` serves bots that name none."""
    file = str(path)
    data = read_toml(path, "bots registry")
    table = data.get("bots")
    if not isinstance(table, dict):
        raise ConfigError("expected [bots.NAME] tables", file=file, field="bots")
    if len(table) < minimum:
        raise ConfigError(
            f"at least {minimum} bots are needed, found {len(table)}", file=file, field="bots"
        )
    bots = []
    for name, raw in table.items():
        parsed = parse_bot_endpoint(name, raw, file)
        prompt = default_prompt if parsed.system_prompt is None else parsed.system_prompt
        bots.append(Bot(name, parsed.endpoint, parsed.sampling, prompt.strip() or None))
    return bots
