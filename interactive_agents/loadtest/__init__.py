"""Load tests of an OpenAI-compatible server with the engine's own multi-turn traffic."""

from __future__ import annotations

from interactive_agents.loadtest._config import DEFAULT_CONCURRENCY, DEFAULT_DURATION, BenchConfig
from interactive_agents.loadtest._generator import LoadGenerator, TrafficConversation
from interactive_agents.loadtest._metrics import Outcome, parse_slo

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_DURATION",
    "BenchConfig",
    "LoadGenerator",
    "Outcome",
    "TrafficConversation",
    "parse_slo",
]
