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

import dataclasses
import typing
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import msgspec

from interactive_agents._recipes import FieldError
from interactive_agents._resources import read_toml, resolve
from interactive_agents.errors import ConfigError
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Sampling
from interactive_agents.method._client_guard import ClientGuard
from interactive_agents.method._prompts import PromptSet
from interactive_agents.method._quality import Flagger, QualityThresholds, load_quality_rules
from interactive_agents.method._records import Stage, StageSource
from interactive_agents.method._refiner import ExhaustedPolicy, LengthUnit, RefinerRules
from interactive_agents.method._seeds import fingerprint
from interactive_agents.method._terminator import TerminatorMode

LOCAL = "local"


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
    """Refiner limits; length defaults per language (200 chars zh, 120 words en).

    ``length_unit = "han"`` counts Han characters only, the paper's wording.
    """

    max_length: int | None = None
    length_unit: LengthUnit | None = None
    max_attempts: int = 3
    on_exhausted: ExhaustedPolicy = "repair"

    def rules(self, language: str) -> RefinerRules:
        return RefinerRules.for_language(language, self.max_length, self.length_unit)


@dataclass(frozen=True, slots=True)
class TerminatorConfig:
    """Termination mode; ``phrases`` replaces the bundled list when given.

    ``first_turn`` is the first counselor turn whose reply may end the session: 1 is
    Algorithm 1 as printed, 2 (the default) is the reference code, which never ends a
    session on the reply to the client's greeting (a "你好，…加油" would make it one turn).
    """

    mode: TerminatorMode = "substring"
    phrases: tuple[str, ...] | None = None
    first_turn: int = 2

    def applies(self, turn: int) -> bool:
        """Whether the reply of counselor turn ``turn`` is checked at all."""
        return turn >= self.first_turn


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
    """Optional rules of the prompt cards; the paper's prompts have none of them."""

    client_resistance: bool = True


@dataclass(frozen=True, slots=True)
class ClientGuardConfig:
    """The client guard (``[client_guard]``): off unless ``enabled``; see method/client_guard."""

    enabled: bool = False
    max_attempts: int = 3
    echo: float = 0.6  # the echo flag's default (method/_quality.py)

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
    prompts: PromptOptions = field(default_factory=PromptOptions)
    client_guard: ClientGuardConfig = field(default_factory=ClientGuardConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)

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
            _set_override(raw, dotted, value, source)
    _refuse_unknown(raw, source)
    try:
        config = msgspec.convert(_merge_endpoints(raw), RunConfig, strict=False)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `")
        where = path.rstrip("`")[2:]
        cause = exc.__cause__
        if isinstance(cause, FieldError):
            message, where = cause.reason, ".".join(p for p in (where, cause.field) if p)
        raise ConfigError(message, file=source, field=where or None) from exc
    _check(config, source)
    return config


def _set_override(raw: dict[str, Any], dotted: str, value: Any, source: str | None) -> None:
    """An override on top of the recipe; a recipe value that is not a table is reported."""
    try:
        set_dotted(raw, dotted, value)
    except (AttributeError, TypeError) as exc:
        parent = dotted.rpartition(".")[0]
        raise ConfigError("expected a table", file=source, field=parent) from exc


def _refuse_unknown(raw: dict[str, Any], source: str | None) -> None:
    """A misspelt key is an error, not a setting silently left at its default."""
    shared = raw.get("endpoint")
    tables: list[tuple[str, Any, type]] = [
        ("", {k: v for k, v in raw.items() if k != "endpoint"}, RunConfig)
    ]
    if shared is not None:
        tables.append(("endpoint.", shared, EndpointConfig))
    while tables:
        prefix, table, kind = tables.pop()
        if not isinstance(table, dict):
            raise ConfigError(
                f"expected a table, got {type(table).__name__}",
                file=source,
                field=prefix.rstrip("."),
            )
        hints = typing.get_type_hints(kind)
        known = {f.name for f in dataclasses.fields(kind)}
        for key in sorted(table, key=str):
            if key not in known:
                raise ConfigError(
                    f"unknown key (known: {', '.join(sorted(known))})",
                    file=source,
                    field=f"{prefix}{key}",
                )
            if dataclasses.is_dataclass(hints[key]):
                tables.append((f"{prefix}{key}.", table[key], hints[key]))


def _check(config: RunConfig, source: str | None) -> None:
    def fail(field_name: str, message: str) -> None:
        raise ConfigError(message, file=source, field=field_name)

    for name, value in _integers(asdict(config)):
        if not -(2**63) <= value < 2**63:
            fail(name, "out of range (a 64-bit integer, as the manifest stores it)")
    if config.max_turns < 1:
        fail("max_turns", "must be at least 1")
    if config.max_in_flight < 1:
        fail("max_in_flight", "must be at least 1")
    if config.refiner.max_attempts < 1:
        fail("refiner.max_attempts", "must be at least 1")
    if config.terminator.first_turn not in (1, 2):
        fail("terminator.first_turn", "must be 1 (Algorithm 1) or 2 (the reference code)")
    if config.client_guard.max_attempts < 1:
        fail("client_guard.max_attempts", "must be at least 1")
    for name, value in asdict(config.quality.thresholds).items():
        if value is not None and value < 0:
            fail(f"quality.thresholds.{name}", "must not be negative")
    if config.quality.thresholds.leak_ngram == 0:
        fail("quality.thresholds.leak_ngram", "must be at least 1 (unset: 8 in zh, 6 in en)")
    if not 0 <= config.stages.middle_from <= config.stages.late_from <= 1:
        fail("stages", "need 0 <= middle_from <= late_from <= 1")
    for role in _ROLES:
        endpoint: EndpointConfig = getattr(config, role).endpoint
        if endpoint.base_urls and not endpoint.model:
            fail(f"{role}.endpoint.model", "a model name is required with base_urls")
        if endpoint.max_concurrency < 1:
            fail(f"{role}.endpoint.concurrency", "must be at least 1")


def _integers(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, int]]:
    """Every integer setting, by dotted name."""
    for key, value in table.items():
        if isinstance(value, dict):
            yield from _integers(value, f"{prefix}{key}.")
        elif isinstance(value, int):
            yield f"{prefix}{key}", value
