"""The configuration of a load test (``BenchConfig``), from a recipe plus overrides.

Built by the one builder of every command's configuration
(:func:`interactive_agents.build_config` with ``kind=BenchConfig``); ``[endpoint]`` is
the server under test and ``[sampling]`` the sampling of every request, as in every
other recipe. ``concurrency`` (``[endpoint]``) is the number of requests outstanding at
once: a closed loop, or a cap on an open loop of Poisson arrivals at ``request_rate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal

from interactive_agents._recipes import FieldError
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Sampling
from interactive_agents.loadtest._metrics import SLO_METRICS

ThinkDistribution = Literal["fixed", "exponential"]
DEFAULT_CONCURRENCY = 16  # without a concurrency or a request rate
DEFAULT_DURATION = 30.0  # seconds, without a duration or a number of requests


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What traffic to send, where, and for how long (``duration`` s or ``requests``).

    Each conversation plays a role card from ``cards`` in ``language`` for up to
    ``max_turns`` turns, then starts again; ``think_time`` (s, ``fixed`` or the mean of
    an ``exponential``) passes before a conversation's next request; the first
    ``warmup`` requests are left out of the figures; ``slo`` holds goodput targets in
    seconds (``ttft``, ``tpot``, ``e2el``); ``sweep`` runs one load per level
    (concurrencies, or rates with ``request_rate``).
    """

    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    sampling: Sampling = field(default_factory=lambda: Sampling(0.7, 0.8, 128))
    cards: str = "demo_en"
    language: str = "en"
    max_turns: int = 10
    request_rate: float | None = None
    duration: float | None = None
    requests: int | None = None
    stream: bool = False
    seed: int = 0
    warmup: int = 0
    think_time: float = 0.0
    think_distribution: ThinkDistribution = "fixed"
    slo: dict[str, float] = field(default_factory=dict)
    sweep: tuple[float, ...] = ()

    PATHS: ClassVar[tuple[str, ...]] = ("cards",)
    MOVED: ClassVar[Mapping[str, str]] = {
        "base_urls": "endpoint.base_urls",
        "model": "endpoint.model",
        "concurrency": "endpoint.concurrency",
        "timeout": "endpoint.timeout",
        "temperature": "sampling.temperature",
        "max_tokens": "sampling.max_tokens",
    }

    def __post_init__(self) -> None:
        for name in ("request_rate", "duration", "requests", "max_turns"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise FieldError("must be positive", field=name)
        for name in ("warmup", "think_time"):
            if getattr(self, name) < 0:
                raise FieldError("must not be negative", field=name)
        for name, seconds in self.slo.items():
            if name not in SLO_METRICS:
                raise FieldError(f"the metric must be one of {', '.join(SLO_METRICS)}", field="slo")
            if seconds <= 0:
                raise FieldError(f"the {name} target must be positive", field="slo")
        if not self.stream and {"ttft", "tpot"} & set(self.slo):
            raise FieldError("TTFT and TPOT targets need streaming (--stream)", field="slo")
        if any(level <= 0 for level in self.sweep):
            raise FieldError("give positive levels", field="sweep")
        if self.request_rate is None and any(level != int(level) for level in self.sweep):
            raise FieldError("concurrencies are whole numbers", field="sweep")

    def loads(self) -> list[BenchConfig]:
        """One configuration per load to run: each level of the sweep, or this one; with
        the defaults of an unset concurrency and duration filled in."""
        if not self.endpoint.base_urls or not self.endpoint.model:
            raise FieldError("a base URL and a model are required", field="endpoint.base_urls")
        levels: list[float | None] = list(self.sweep) or [None]
        return [self._at(level) for level in levels]

    def _at(self, level: float | None) -> BenchConfig:
        rate, concurrency = self.request_rate, self.endpoint.concurrency
        if level is not None and rate is not None:
            rate = level
        elif level is not None:
            concurrency = int(level)
        if concurrency is None and rate is None:
            concurrency = DEFAULT_CONCURRENCY
        duration = self.duration
        if duration is None and self.requests is None:
            duration = DEFAULT_DURATION
        endpoint = replace(self.endpoint, concurrency=concurrency)
        return replace(self, endpoint=endpoint, request_rate=rate, duration=duration, sweep=())

    @property
    def swept(self) -> str:
        """What a sweep varies: ``request_rate`` with a rate, else ``concurrency``."""
        return "request_rate" if self.request_rate is not None else "concurrency"
