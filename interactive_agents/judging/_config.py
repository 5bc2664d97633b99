"""The ``[judge]`` table: an LLM judge's endpoint, sampling and tries per judgement.

The same table in every recipe that has a judge (the arena's pairwise judge, the
evaluation's topic rater and WAI-O-S judge); only the default sampling differs by use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from interactive_agents._recipes import FieldError
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Sampling

DEFAULT_MAX_UNPARSABLE = 0.05
"""A run whose judgements are more than 5 % unreadable has failed: a measurement that
drops more than one answer in twenty is biased by which answers a judge cannot write."""


@dataclass(frozen=True, slots=True)
class JudgeConfig:
    """``[judge.endpoint]``, ``[judge.sampling]``, ``attempts``: answers asked per
    judgement while the answer cannot be read (1 + retries), and ``max_unparsable``:
    the largest share of judgements left unread (unparsable or refused) before the run
    counts as failed (the commands exit 1 and say so)."""

    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    sampling: Sampling = field(default_factory=lambda: Sampling(0.7, 0.9, 512))
    attempts: int = 3
    max_unparsable: float = DEFAULT_MAX_UNPARSABLE

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise FieldError("must be at least 1", field="attempts")
        if not 0 <= self.max_unparsable <= 1:
            raise FieldError("must be a share between 0 and 1", field="max_unparsable")
        if self.endpoint.base_urls and not self.endpoint.model:
            raise FieldError("a model name is required with base_urls", field="endpoint.model")
