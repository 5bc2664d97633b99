"""Load tests of an OpenAI-compatible server with the engine's own multi-turn traffic."""

from __future__ import annotations

from interactive_agents.loadtest._generator import LoadGenerator, LoadOptions, TrafficConversation
from interactive_agents.loadtest._metrics import Outcome, parse_slo

__all__ = [
    "LoadGenerator",
    "LoadOptions",
    "Outcome",
    "TrafficConversation",
    "parse_slo",
]
