"""Load tests of an OpenAI-compatible server with the engine's own multi-turn traffic."""

from __future__ import annotations

from interactive_agents.loadtest.generator import LoadGenerator, LoadOptions, TrafficConversation

__all__ = ["LoadGenerator", "LoadOptions", "TrafficConversation"]
