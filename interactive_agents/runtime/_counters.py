"""Live counters of one engine, read by progress displays and summaries."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from interactive_agents.llm._counters import CallCounters


@dataclass(slots=True)
class EngineStats(CallCounters):
    """Counts since the engine started; plain integers, updated in place by the actors
    (dialogues) and by the endpoints (calls, inherited from :class:`CallCounters`)."""

    started: float = field(default_factory=time.monotonic)
    total: int = 0
    already_done: int = 0
    submitted: int = 0
    finished: int = 0
    failed: int = 0
    cancelled: int = 0
    in_flight: int = 0
    rejections: int = 0
    flags_raised: Counter[str] = field(default_factory=Counter)  # sessions, by quality flag

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def rate(self) -> float:
        """Dialogues recorded per minute."""
        elapsed = self.elapsed
        return (self.finished + self.failed) * 60 / elapsed if elapsed > 0 else 0.0
