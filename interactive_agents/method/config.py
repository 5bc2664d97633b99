"""One typed configuration object per run, from a TOML recipe plus overrides.

A recipe looks like::

    language = "zh"
    max_turns = 50
    [endpoint]                      # shared by every role unless the role overrides it
    base_urls = ["http://localhost:8000/v1"]
    model = "Qwen2-7B-Instruct"
    api_key_env = "OPENAI_API_KEY"  # the *name* of the variable; keys never enter files
    [client]
    temperature = 0.8
    [counselor.endpoint]            # the counselor on another server
    base_urls = ["http://gpu2:8000/v1"]

Overrides (from the CLI or code) are dotted keys applied to the recipe before
validation, so an error always names the recipe file and the dotted field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import msgspec

from interactive_agents.errors import ConfigError
from interactive_agents.method.client_guard import ClientGuard
from interactive_agents.method.prompts import PromptSet
from interactive_agents.method.quality import QualityThresholds, load_quality_rules
from interactive_agents.method.records import Sampling, Stage
from interactive_agents.method.refiner import ExhaustedPolicy, LengthUnit, RefinerRules
from interactive_agents.method.resources import read_toml, resolve
from interactive_agents.method.seeds import fingerprint
from interactive_agents.method.terminator import TerminatorMode

LOCAL = "local"


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """One OpenAI-compatible model, possibly served by several replicas.

    No ``base_urls`` means the embedded local model, started by the engine.
    ``concurrency`` defaults to 1 for the local server (it answers one request at a
    time) and 64 for a remote one; ``rpm``/``tpm`` of 0 mean unlimited.
    """

    base_urls: tuple[str, ...] = ()
    model: str = ""
    api_key_env: str | None = None
    concurrency: int | None = None
    rpm: int = 0
    tpm: int = 0
    timeout: float = 120.0
    max_retries: int = 6

    @property
    def is_local(self) -> bool:
        return not self.base_urls

    @property
    def max_concurrency(self) -> int:
        if self.concurrency is not None:
            return self.concurrency
        return 1 if self.is_local else 64

    def key(self) -> tuple[tuple[str, ...], str, str | None]:
        """Roles whose endpoints share this key share one backend and one scheduler."""
        return (self.base_urls, self.model, self.api_key_env)


@dataclass(frozen=True, slots=True)
class RoleConfig:
    """A role's endpoint and sampling."""

    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    temperature: float = 0.7
    top_p: float = 0.8
    max_tokens: int = 512

    @property
    def sampling(self) -> Sampling:
        return Sampling(self.temperature, self.top_p, self.max_tokens)


@dataclass(frozen=True, slots=True)
class RefinerConfig:
    """Refiner limits; length defaults per language (200 chars zh, 120 words en)."""

    max_length: int | None = None
    length_unit: LengthUnit | None = None
    max_attempts: int = 3
    on_exhausted: ExhaustedPolicy = "repair"

    def rules(self, language: str) -> RefinerRules:
        return RefinerRules.for_language(language, self.max_length, self.length_unit)


@dataclass(frozen=True, slots=True)
class TerminatorConfig:
    """Termination mode; ``phrases`` replaces the bundled list when given."""

    mode: TerminatorMode = "substring"
    phrases: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class StageConfig:
    """When the counselor moves to the middle and late stages, as fractions of max turns."""

    middle_from: float = 0.3
    late_from: float = 0.8
    cue: Literal["system", "none"] = "system"

    def stage(self, turn: int, max_turns: int) -> Stage:
        progress = (turn - 1) / max_turns
        if progress < self.middle_from:
            return "early"
        return "middle" if progress < self.late_from else "late"


@dataclass(frozen=True, slots=True)
class ClientGuardConfig:
    """The client guard (``[client_guard]``): off unless ``enabled``; see method/client_guard."""

    enabled: bool = False
    max_attempts: int = 3
    echo: float = 0.6  # the echo flag's default (method/quality.py)

    def guard(self, prompts: PromptSet, actors_dir: str | None) -> ClientGuard | None:
        """The guard of a run in ``prompts``' language, or None when it is off."""
        if not self.enabled:
            return None
        rules = load_quality_rules(prompts, actors_dir, QualityThresholds(echo=self.echo))
        return ClientGuard(rules, self.max_attempts)


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything that defines a simulation run."""

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
    client: RoleConfig = field(default_factory=lambda: RoleConfig(temperature=0.8, max_tokens=256))
    counselor: RoleConfig = field(default_factory=RoleConfig)
    refiner: RefinerConfig = field(default_factory=RefinerConfig)
    terminator: TerminatorConfig = field(default_factory=TerminatorConfig)
    stages: StageConfig = field(default_factory=StageConfig)
    client_guard: ClientGuardConfig = field(default_factory=ClientGuardConfig)

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
            "prompts": prompts_fingerprint,
        }
        if self.client_guard.enabled:  # runs without the guard keep their old fingerprint
            shaping["client_guard"] = asdict(self.client_guard)
        return fingerprint(shaping)

    def public_dict(self) -> dict[str, Any]:
        """The configuration as recorded in the manifest (names of key variables, no keys)."""
        return asdict(self)


_ROLES = ("client", "counselor")


def set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data["a"]["b"] = value`` for ``dotted == "a.b"``, creating tables."""
    *parents, last = dotted.split(".")
    node = data
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value


def _merge_endpoints(raw: dict[str, Any]) -> dict[str, Any]:
    """Give each role the shared ``[endpoint]`` overlaid with its own ``[role.endpoint]``."""
    merged = {k: v for k, v in raw.items() if k != "endpoint"}
    shared = raw.get("endpoint", {})
    for role in _ROLES:
        role_raw = dict(merged.get(role, {}))
        role_raw["endpoint"] = {**shared, **role_raw.get("endpoint", {})}
        merged[role] = role_raw
    return merged


def load_recipe(recipe: str | Path | None) -> tuple[dict[str, Any], str | None]:
    """Read a recipe (a path, or the name of a bundled one) as a raw table."""
    if recipe is None:
        return {}, None
    path = resolve(recipe, "runners", (".toml",))
    data = read_toml(path, "recipe")
    _anchor_paths(data, path.parent)
    return data, str(path)


def _anchor_paths(data: dict[str, Any], folder: Path) -> None:
    """Relative paths in a recipe are relative to the recipe, unless they name built-ins."""
    for key in ("cards", "pool", "actors_dir", "local_model"):
        value = data.get(key)
        if isinstance(value, str) and not Path(value).is_absolute():
            candidate = folder / value
            if candidate.exists():
                data[key] = str(candidate)


def build_config(
    recipe: str | Path | None = None, overrides: dict[str, Any] | None = None
) -> RunConfig:
    """Recipe, then dotted overrides (None values are ignored), validated as one object."""
    raw, source = load_recipe(recipe)
    for dotted, value in (overrides or {}).items():
        if value is not None:
            set_dotted(raw, dotted, value)
    try:
        config = msgspec.convert(_merge_endpoints(raw), RunConfig, strict=False)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `")
        raise ConfigError(message, file=source, field=path.rstrip("`")[2:] or None) from exc
    _check(config, source)
    return config


def _check(config: RunConfig, source: str | None) -> None:
    def fail(field_name: str, message: str) -> None:
        raise ConfigError(message, file=source, field=field_name)

    if config.max_turns < 1:
        fail("max_turns", "must be at least 1")
    if config.max_in_flight < 1:
        fail("max_in_flight", "must be at least 1")
    if config.refiner.max_attempts < 1:
        fail("refiner.max_attempts", "must be at least 1")
    if config.client_guard.max_attempts < 1:
        fail("client_guard.max_attempts", "must be at least 1")
    if not 0 <= config.stages.middle_from <= config.stages.late_from <= 1:
        fail("stages", "need 0 <= middle_from <= late_from <= 1")
    for role in _ROLES:
        endpoint: EndpointConfig = getattr(config, role).endpoint
        for url in endpoint.base_urls:
            if not url.startswith(("http://", "https://")):
                fail(f"{role}.endpoint.base_urls", f"{url!r} is not an http(s) URL")
        if endpoint.base_urls and not endpoint.model:
            fail(f"{role}.endpoint.model", "a model name is required with base_urls")
        if endpoint.max_concurrency < 1:
            fail(f"{role}.endpoint.concurrency", "must be at least 1")
