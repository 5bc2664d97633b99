"""The ``[judge]`` table: an LLM judge's endpoint, sampling and tries per judgement.

The same table in every recipe that has a judge (the arena's pairwise judge, the
evaluation's topic rater and WAI-O-S judge); only the default sampling differs by use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interactive_agents._recipes import FieldError
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Sampling


@dataclass(frozen=True, slots=True)
class JudgeConfig:
    """``[judge.endpoint]``, ``[judge.sampling]`` and ``attempts``: answers asked per
    judgement while the answer cannot be parsed (1 + retries)."""

    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    sampling: Sampling = field(default_factory=lambda: Sampling(0.7, 0.9, 512))
    attempts: int = 3

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise FieldError("must be at least 1", field="attempts")
        if self.endpoint.base_urls and not self.endpoint.model:
            raise FieldError("a model name is required with base_urls", field="endpoint.model")
