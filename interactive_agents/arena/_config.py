"""The configuration of an arena run (``ArenaConfig``), from a recipe plus overrides.

Built by the one builder of every command's configuration
(:func:`interactive_agents.build_config` with ``kind=ArenaConfig``), with the same
tables as a simulation's recipe::

    bots = "bots.paper.toml"        # the bots registry, relative to this recipe
    cards = "client_pool_test.json"
    language = "zh"
    pairing = "random"
    [endpoint]                      # the client's and the judge's, unless their own say
    base_urls = ["http://gpu1:8000/v1"]
    model = "Qwen2-72B-Instruct"
    [client.sampling]
    temperature = 0.8
    [judge.endpoint]
    base_urls = ["https://api.openai.com/v1"]
    model = "gpt-4o"
    api_key_env = "OPENAI_API_KEY"
    [judge]
    attempts = 3
    [safety]                        # docs/safety.md
    gate = true                     # a reply judged critical loses its battle
    [bot_sampling]                  # over every bot's own sampling from the registry
    max_tokens = 256
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

from interactive_agents._recipes import FieldError
from interactive_agents.arena._competition import ArenaRules
from interactive_agents.arena._judge import Guideline
from interactive_agents.arena._pairing import Pairing
from interactive_agents.arena._selection import Disagreement, Undecided
from interactive_agents.judging._config import JudgeConfig
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Sampling
from interactive_agents.method._config import (
    CardRunConfig,
    RefinerConfig,
    RoleConfig,
    TerminatorConfig,
    moved_role_keys,
)

# The keys of the arena recipes before the tables of every recipe were unified.
_FLAT_ENDPOINT = ("base_urls", "model", "api_key_env", "concurrency")
_MOVED = {
    **moved_role_keys("client"),
    **moved_role_keys("judge"),
    **{f"client.{key}": f"client.endpoint.{key}" for key in _FLAT_ENDPOINT},
    **{f"judge.{key}": f"judge.endpoint.{key}" for key in _FLAT_ENDPOINT},
    **{key: f"endpoint.{key}" for key in (*_FLAT_ENDPOINT, "rpm", "tpm", "timeout", "max_retries")},
    **{f"{role}.base_url": f"{role}.endpoint.base_urls" for role in ("client", "judge")},
    **{
        f"{role}_{key}": f"{role}.endpoint.{key}"
        for role in ("client", "judge")
        for key in _FLAT_ENDPOINT
    },
    **{f"{role}_temperature": f"{role}.sampling.temperature" for role in ("client", "judge")},
    "base_url": "endpoint.base_urls",
    "judge_attempts": "judge.attempts",
    "refiner_attempts": "refiner.max_attempts",
    "on_exhausted": "refiner.on_exhausted",
    "terminator": "terminator.mode",
}


@dataclass(frozen=True, slots=True)
class ArenaSafetyConfig:
    """``[safety]``: ``judge`` rates both replies of every battle with the safety judge
    (``actors/safety.<lang>.toml``, on the judge's endpoint) and records each severity
    in the battle, for the ratings' incident rates; ``gate`` does the same and makes a
    reply judged critical lose its battle whatever the preference."""

    judge: bool = False
    gate: bool = False

    @property
    def rated(self) -> bool:
        """Whether the replies are rated (the gate needs the ratings)."""
        return self.judge or self.gate


@dataclass(frozen=True, slots=True)
class BotSampling:
    """Sampling for every bot over what the bots registry says (``[bot_sampling]``; None:
    each bot's own), e.g. shorter replies on a slow server, or one temperature for all."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.temperature is not None and not 0 <= self.temperature <= 2:
            raise FieldError("must be between 0 and 2", field="temperature")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise FieldError("must be in (0, 1]", field="top_p")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise FieldError("must be at least 1", field="max_tokens")

    def over(self, sampling: Sampling) -> Sampling:
        """``sampling`` (a bot's, from the registry) with what is set here on top."""
        return Sampling(
            sampling.temperature if self.temperature is None else self.temperature,
            sampling.top_p if self.top_p is None else self.top_p,
            sampling.max_tokens if self.max_tokens is None else self.max_tokens,
        )


@dataclass(frozen=True, slots=True)
class ArenaConfig(CardRunConfig):
    """Everything that defines an arena run (Algorithm 2, docs/method.md).

    ``bots`` is a bots registry (``[bots.NAME]`` tables, the file ``serve`` writes);
    ``pairing`` ``random`` plays one dialogue per card between two bots drawn at random,
    ``all-pairs`` every pair ``per_pair`` times. The judge follows ``guideline`` (1:
    professional ethics, 2: counseling skills), in both presentation orders unless
    ``both_orders`` is off; ``disagreement`` decides when the two orders disagree and
    ``undecided`` which reply enters the history after a tie or an unparsable verdict.
    The arena's terminator checks from the first reply on (``first_turn = 1``).
    ``safety`` rates the replies for safety and may gate the battles (docs/safety.md).
    ``bot_sampling`` overrides every bot's sampling from the registry.
    """

    max_in_flight: int = 64
    bots: str | None = None
    pairing: Pairing = "random"
    per_pair: int = 1
    guideline: Guideline = "2"
    both_orders: bool = True
    disagreement: Disagreement = "tie"
    undecided: Undecided = "random"
    client: RoleConfig = field(default_factory=lambda: RoleConfig(sampling=Sampling(0.8, 0.8, 256)))
    judge: JudgeConfig = field(
        default_factory=lambda: JudgeConfig(sampling=Sampling(0.3, 0.9, 1024))
    )
    bot_sampling: BotSampling = field(default_factory=BotSampling)
    refiner: RefinerConfig = field(default_factory=RefinerConfig)
    terminator: TerminatorConfig = field(default_factory=lambda: TerminatorConfig(first_turn=1))
    safety: ArenaSafetyConfig = field(default_factory=ArenaSafetyConfig)

    SHARED: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "endpoint": ("client.endpoint", "judge.endpoint")
    }
    PATHS: ClassVar[tuple[str, ...]] = ("cards", "pool", "actors_dir", "local_model", "bots")
    MOVED: ClassVar[Mapping[str, str]] = _MOVED

    def __post_init__(self) -> None:
        CardRunConfig.__post_init__(self)
        if self.per_pair < 1:
            raise FieldError("must be at least 1", field="per_pair")

    @property
    def rules(self) -> ArenaRules:
        """The choices that shape every dialogue."""
        return ArenaRules(
            language=self.language,
            max_turns=self.max_turns,
            seed=self.seed,
            both_orders=self.both_orders,
            disagreement=self.disagreement,
            undecided=self.undecided,
            refiner_attempts=self.refiner.max_attempts,
            on_exhausted=self.refiner.on_exhausted,
        )

    def with_endpoints(self, client: EndpointConfig, judge: EndpointConfig) -> ArenaConfig:
        """A copy whose client and judge use the given (e.g. resolved local) endpoints."""
        return replace(
            self,
            client=replace(self.client, endpoint=client),
            judge=replace(self.judge, endpoint=judge),
        )
