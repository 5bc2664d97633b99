"""How a fake server behaves under load: latency, capacity, pacing, faults, prefix cache."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from interactive_agents.testing._faults import Fault

LatencyDistribution = Literal["fixed", "uniform", "exponential", "lognormal"]
LATENCY_DISTRIBUTIONS: tuple[LatencyDistribution, ...] = (
    "fixed",
    "uniform",
    "exponential",
    "lognormal",
)
# The faults drawn at random, in the order they are drawn: the keys of ``injected``.
FAULT_KINDS = ("429", "500", "503", "timeout")


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How a fake server answers, as a real one under load would; all off by default.

    ``latency`` is the time to the first token, drawn by ``latency_dist``: ``fixed``,
    ``uniform`` (± ``latency_jitter``), ``exponential`` (plus a tail of mean jitter) or
    ``lognormal`` (the median, with sigma jitter); every uncached prompt token adds
    ``prefill_per_token``. Generated answers are ``output_tokens`` (low, high) words, cut
    at the request's ``max_tokens``; any answer's words follow at ``tokens_per_second``
    (0: at once). ``capacity`` requests are answered at once and the rest queue (0: no
    limit). A request is answered 429 (with ``retry_after``), 500, 503, or hung for
    ``hang_seconds`` then dropped, with these probabilities. ``cache_blocks`` > 0 keeps
    an LRU prefix cache of that many blocks of ``block_tokens`` tokens, as vLLM's
    automatic prefix caching does. ``seed`` makes the draws repeatable. ``models`` are
    the only model names served (a chat call naming another is answered 404, as vLLM
    does); empty, any name is served and ``GET /v1/models`` lists ``model``.
    """

    model: str = "mock-model"
    models: tuple[str, ...] = ()
    latency: float = 0.0
    latency_dist: LatencyDistribution = "fixed"
    latency_jitter: float = 0.0
    output_tokens: tuple[int, int] = (16, 16)
    tokens_per_second: float = 0.0
    capacity: int = 0
    p429: float = 0.0
    retry_after: float = 1.0
    p500: float = 0.0
    p503: float = 0.0
    ptimeout: float = 0.0
    hang_seconds: float = 30.0
    seed: int | None = None
    block_tokens: int = 16
    cache_blocks: int = 0
    prefill_per_token: float = 0.0

    def __post_init__(self) -> None:
        low, high = self.output_tokens
        if not 1 <= low <= high:
            raise ValueError(f"output_tokens must be 1 <= low <= high, not {low}-{high}")
        if self.latency_dist not in LATENCY_DISTRIBUTIONS:
            raise ValueError(f"latency_dist must be one of {', '.join(LATENCY_DISTRIBUTIONS)}")
        chances = self._chances()
        if any(p < 0 for p in chances) or math.fsum(chances) > 1:
            raise ValueError("fault probabilities must be >= 0 and sum to at most 1")
        if self.block_tokens < 1:
            raise ValueError("block_tokens must be at least 1")

    def _chances(self) -> tuple[float, ...]:
        return (self.p429, self.p500, self.p503, self.ptimeout)

    def draw_latency(self, rng: random.Random) -> float:
        """One time to first token, before the prefill."""
        base, jitter = self.latency, self.latency_jitter
        if self.latency_dist == "uniform":
            return max(0.0, rng.uniform(base - jitter, base + jitter))
        if self.latency_dist == "exponential":
            return base + (rng.expovariate(1.0 / jitter) if jitter > 0 else 0.0)
        if self.latency_dist == "lognormal":
            return base * rng.lognormvariate(0.0, jitter)
        return base

    def draw_fault(self, rng: random.Random) -> str | None:
        """At most one of :data:`FAULT_KINDS` for a request, with the set probabilities."""
        draw = rng.random()
        for kind, chance in zip(FAULT_KINDS, self._chances(), strict=True):
            if draw < chance:
                return kind
            draw -= chance
        return None

    def fault(self, kind: str) -> Fault:
        """What a drawn fault sends: a timeout hangs, then drops the connection."""
        if kind == "timeout":
            return Fault(504, hang=self.hang_seconds, reset=True)
        return Fault(int(kind), retry_after=self.retry_after if kind == "429" else None)
