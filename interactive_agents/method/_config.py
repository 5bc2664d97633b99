"""The configuration of a simulation run (``RunConfig``), from a recipe plus overrides.

A recipe looks like::

    language = "zh"
    max_turns = 50
    [endpoint]                      # shared by every role unless the role overrides it
    base_urls = ["http://localhost:8000/v1"]
    model = "Qwen2-7B-Instruct"
    api_key_env = "OPENAI_API_KEY"  # the *name* of the variable; keys never enter files
    [client.sampling]
    temperature = 0.8
    [counselor.endpoint]            # the counselor on another server
    base_urls = ["http://gpu2:8000/v1"]

It is built by the one builder of every command's configuration
(:mod:`interactive_agents._recipes`): dotted overrides (from the CLI or code) are
applied before validation, so an error always names the recipe file and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Literal, TypeVar, overload

from interactive_agents._recipes import FieldError, Recipe, build
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Sampling
from interactive_agents.method._client_guard import ClientGuard
from interactive_agents.method._prompts import PromptSet
from interactive_agents.method._quality import Flagger, QualityThresholds, load_quality_rules
from interactive_agents.method._records import Stage, StageSource
from interactive_agents.method._refiner import ExhaustedPolicy, LengthUnit, RefinerRules
from interactive_agents.method._seeds import fingerprint
from interactive_agents.method._terminator import (
    DEFAULT_TERMINATOR_MODE,
    TerminatorMode,
    TerminatorRules,
)

C = TypeVar("C")
ROLE_KEYS = ("temperature", "top_p", "max_tokens")
ENDPOINT_KEYS = ("base_urls", "model", "api_key_env", "concurrency")


@dataclass(frozen=True, slots=True)
class RoleConfig:
    """A role's endpoint (``[ROLE.endpoint]``) and sampling (``[ROLE.sampling]``)."""

    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    sampling: Sampling = field(default_factory=Sampling)

    def __post_init__(self) -> None:
        if self.endpoint.base_urls and not self.endpoint.model:
            raise FieldError("a model name is required with base_urls", field="endpoint.model")


def moved_role_keys(role: str) -> dict[str, str]:
    """Where the sampling keys of an older recipe's ``[ROLE]`` table live now."""
    return {f"{role}.{key}": f"{role}.sampling.{key}" for key in ROLE_KEYS}


@dataclass(frozen=True, slots=True)
class RefinerConfig:
    """Refiner limits; length defaults per language (200 chars zh, 120 words en).

    ``length_unit = "han"`` counts Han characters only, the paper's wording.
    """

    max_length: int | None = None
    length_unit: LengthUnit | None = None
    max_attempts: int = 3
    on_exhausted: ExhaustedPolicy = "repair"

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise FieldError("must be at least 1", field="max_attempts")

    def rules(self, language: str) -> RefinerRules:
        return RefinerRules.for_language(language, self.max_length, self.length_unit)


@dataclass(frozen=True, slots=True)
class TerminatorConfig:
    """How the phrases are read (``mode``: ``farewell`` by default, ``substring`` as the
    paper, or ``closing``; method/_terminator.py); ``phrases`` replaces the bundled
    list when given, ``sign_offs`` the bundled answers to a thanks that close a session
    (read in the ``farewell`` mode only; an empty list for none).

    ``first_turn`` is the first counselor turn whose reply may end the session: 1 is
    Algorithm 1 as printed, 2 (the default) is the reference code, which never ends a
    session on the reply to the client's greeting (a "你好，…加油" would make it one turn).
    """

    mode: TerminatorMode = DEFAULT_TERMINATOR_MODE
    phrases: tuple[str, ...] | None = None
    first_turn: int = 2
    sign_offs: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.first_turn not in (1, 2):
            message = "must be 1 (Algorithm 1) or 2 (the reference code)"
            raise FieldError(message, field="first_turn")

    def applies(self, turn: int) -> bool:
        """Whether the reply of counselor turn ``turn`` is checked at all."""
        return turn >= self.first_turn

    def rules(self, prompts: PromptSet) -> TerminatorRules:
        """The terminator of a run: this recipe's phrases and sign-offs where it gives
        them, else those of the prompt cards."""
        return TerminatorRules(
            self.phrases or prompts.terminator_phrases,
            self.mode,
            prompts.terminator_sign_offs if self.sign_offs is None else self.sign_offs,
            prompts.terminator_continuations,
        )


@dataclass(frozen=True, slots=True)
class StageConfig:
    """How the counselor's stage of each turn is obtained.

    ``source = "schedule"``: derived from the turn number (middle and late from these
    fractions of max turns) and, with ``cue = "system"``, told to the counselor on every
    turn. ``source = "inferred"`` is the paper's convention: no cue, the counselor infers
    the stage from its prompt and the record's stage is null.
    """

    middle_from: float = 0.3
    late_from: float = 0.8
    cue: Literal["system", "none"] = "system"
    source: StageSource = "schedule"

    def __post_init__(self) -> None:
        if not 0 <= self.middle_from <= self.late_from <= 1:
            raise FieldError("need 0 <= middle_from <= late_from <= 1")

    @property
    def tells_counselor(self) -> bool:
        return self.source == "schedule" and self.cue == "system"

    def for_turn(self, turn: int, max_turns: int) -> Stage | None:
        """The stage a counselor turn is recorded (and cued) with; None when inferred."""
        return None if self.source == "inferred" else self.stage(turn, max_turns)

    def stage(self, turn: int, max_turns: int) -> Stage:
        """The scheduled stage of ``turn``."""
        progress = (turn - 1) / max_turns
        if progress < self.middle_from:
            return "early"
        return "middle" if progress < self.late_from else "late"


@dataclass(frozen=True, slots=True)
class PromptOptions:
    """Optional rules of the prompt cards; the paper's prompts have none of them.

    ``crisis_rule`` appends the counselor's crisis rule and the deployment's help
    resources (docs/safety.md#the-counselors-crisis-rule).
    """

    client_resistance: bool = True
    crisis_rule: bool = True


@dataclass(frozen=True, slots=True)
class ClientGuardConfig:
    """The client guard (``[client_guard]``): off unless ``enabled``; see method/client_guard."""

    enabled: bool = False
    max_attempts: int = 3
    echo: float = 0.6  # the echo flag's default (method/_quality.py)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise FieldError("must be at least 1", field="max_attempts")

    def guard(self, prompts: PromptSet, actors_dir: str | None) -> ClientGuard | None:
        """The guard of a run in ``prompts``' language, or None when it is off."""
        if not self.enabled:
            return None
        rules = load_quality_rules(prompts, actors_dir, QualityThresholds(echo=self.echo))
        return ClientGuard(rules, self.max_attempts)


@dataclass(frozen=True, slots=True)
class QualityConfig:
    """Quality flags on every record (``[quality]``): off unless ``enabled``.

    ``thresholds`` (``[quality.thresholds]``) overrides the defaults of
    :class:`~interactive_agents.method._quality.QualityThresholds` field by field. The
    flags describe a dialogue and never shape it, so they stay out of the fingerprint.
    """

    enabled: bool = False
    thresholds: QualityThresholds = field(default_factory=QualityThresholds)

    def flagger(self, prompts: PromptSet, actors_dir: str | None) -> Flagger | None:
        """The flagger of a run in ``prompts``' language, or None when it is off."""
        if not self.enabled:
            return None
        return Flagger.of(load_quality_rules(prompts, actors_dir, self.thresholds))


@dataclass(frozen=True, slots=True)
class CardRunConfig:
    """The keys of every run that plays dialogues over role cards (simulate, arena):
    the same names mean the same thing in both recipes."""

    language: str = "zh"
    max_turns: int = 50
    seed: int = 0
    max_in_flight: int = 1000
    cards: str | None = None
    pool: str | None = None
    out: str | None = None
    limit: int | None = None
    skip_invalid: bool = False
    actors_dir: str | None = None
    local_model: str | None = None

    def __post_init__(self) -> None:
        for name in ("max_turns", "max_in_flight"):
            if getattr(self, name) < 1:
                raise FieldError("must be at least 1", field=name)


@dataclass(frozen=True, slots=True)
class RunConfig(CardRunConfig):
    """Everything that defines a simulation run."""

    client: RoleConfig = field(default_factory=lambda: RoleConfig(sampling=Sampling(0.8, 0.8, 256)))
    counselor: RoleConfig = field(default_factory=RoleConfig)
    refiner: RefinerConfig = field(default_factory=RefinerConfig)
    terminator: TerminatorConfig = field(default_factory=TerminatorConfig)
    stages: StageConfig = field(default_factory=StageConfig)
    prompts: PromptOptions = field(default_factory=PromptOptions)
    client_guard: ClientGuardConfig = field(default_factory=ClientGuardConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)

    SHARED: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "endpoint": ("client.endpoint", "counselor.endpoint")
    }
    PATHS: ClassVar[tuple[str, ...]] = ("cards", "pool", "actors_dir", "local_model")
    MOVED: ClassVar[Mapping[str, str]] = {
        **moved_role_keys("client"),
        **moved_role_keys("counselor"),
    }

    def with_endpoints(self, client: EndpointConfig, counselor: EndpointConfig) -> RunConfig:
        """A copy whose roles use the given (e.g. resolved local) endpoints."""
        return replace(
            self,
            client=replace(self.client, endpoint=client),
            counselor=replace(self.counselor, endpoint=counselor),
        )

    def models(self) -> dict[str, str]:
        return {"client": self.client.endpoint.model, "counselor": self.counselor.endpoint.model}

    def fingerprint(self, prompts_fingerprint: str) -> str:
        """What must not change when a run is resumed: whatever shapes the dialogues.

        Endpoint addresses, limits and paths are left out: a resumed run may point at a
        restarted server or run at another concurrency and still continue the same data.
        So are the quality flags (``[quality]``): they are computed from finished
        dialogues, and a resumed run may turn them on or off.
        """
        shaping = {
            "language": self.language,
            "max_turns": self.max_turns,
            "seed": self.seed,
            "models": self.models(),
            "sampling": {
                "client": asdict(self.client.sampling),
                "counselor": asdict(self.counselor.sampling),
            },
            "refiner": asdict(self.refiner),
            "terminator": asdict(self.terminator),
            "stages": asdict(self.stages),
            "prompt_options": asdict(self.prompts),
            "prompts": prompts_fingerprint,
        }
        if self.client_guard.enabled:  # runs without the guard keep their old fingerprint
            shaping["client_guard"] = asdict(self.client_guard)
        return fingerprint(shaping)

    def public_dict(self) -> dict[str, Any]:
        """The configuration as recorded in the manifest (names of key variables, no keys).

        The refiner's limit and unit are the effective ones, language defaults filled in.
        """
        public = asdict(self)
        rules = self.refiner.rules(self.language)
        public["refiner"] |= {"max_length": rules.max_length, "length_unit": rules.unit}
        return public


@overload
def build_config(
    recipe: Recipe = None, overrides: Mapping[str, Any] | None = None
) -> RunConfig: ...


@overload
def build_config(
    recipe: Recipe = None, overrides: Mapping[str, Any] | None = None, *, kind: type[C]
) -> C: ...


def build_config(
    recipe: Recipe = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    kind: type[Any] | None = None,
) -> Any:
    """Any command's configuration (``kind``, a :class:`RunConfig` by default) from a
    recipe (a path, a bundled name such as ``"quickstart"``, or a table) and dotted
    overrides (None values are ignored), validated as one object."""
    return build(kind or RunConfig, recipe, overrides)
