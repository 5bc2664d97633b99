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
import re
import typing
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from interactive_agents.errors import ConfigError
from interactive_agents.method.client_guard import ClientGuard
from interactive_agents.method.prompts import PromptSet
from interactive_agents.method.quality import Flagger, QualityThresholds, load_quality_rules
from interactive_agents.method.records import Sampling, Stage, StageSource
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

    Faults: a transient failure (429, 5xx, timeout, reset, a 200 that is not a chat
    completion) is retried up to ``max_retries`` times, each wait at most
    ``max_retry_wait`` seconds (a ``Retry-After`` header lengthens a wait, never past
    that). An endpoint failing (refused, 5xx, timeouts) for ``health_window`` seconds is
    paused: one probe at a time, no retries spent, until it answers; failing for
    ``outage_limit`` seconds stops the run (``EndpointDownError``). A reply over
    ``max_response_bytes`` is refused as transient (``oversize = "reject"``) or cut
    (``"truncate"``, flagged on the completion); 0 means no limit.

    Routing over replicas: ``affinity`` (default) keeps each stream (one role of one
    dialogue) on one replica, where its history is in the prefix cache: assigned on its
    first call by consistent hashing with bounded loads (no replica given more than
    ``1 + routing_epsilon`` times the mean of the live streams), moved only while that
    replica is unhealthy or full (``replica_capacity`` requests in flight; 0: never
    full). ``fewest`` sends each call to the replica with the fewest in flight.
    ``cache_hint`` sends the stream as ``prompt_cache_key``, which hosted APIs use the
    same way.
    """

    base_urls: tuple[str, ...] = ()
    model: str = ""
    api_key_env: str | None = None
    concurrency: int | None = None
    rpm: int = 0
    tpm: int = 0
    timeout: float = 120.0
    max_retries: int = 6
    max_retry_wait: float = 30.0
    health_window: float = 10.0
    outage_limit: float = 300.0
    max_response_bytes: int = 1_000_000
    oversize: Literal["reject", "truncate"] = "reject"
    routing: Literal["affinity", "fewest"] = "affinity"
    routing_epsilon: float = 0.1
    replica_capacity: int = 0
    cache_hint: bool = False

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

    def __post_init__(self) -> None:
        """However it is built (recipe, flags, a registry, code), an endpoint is usable."""
        for url in self.base_urls:
            check_url(url, field="base_urls")
        if self.api_key_env is not None:
            check_variable_name(self.api_key_env, field="api_key_env")
        for name in ("max_retries", "max_retry_wait", "health_window", "outage_limit"):
            if getattr(self, name) < 0:
                raise _FieldError("must not be negative", field=name)
        if self.max_response_bytes < 0:
            raise _FieldError("must not be negative (0: no limit)", field="max_response_bytes")
        if self.routing_epsilon <= 0:
            raise _FieldError("must be positive", field="routing_epsilon")
        if self.replica_capacity < 0:
            raise _FieldError("must not be negative (0: unknown)", field="replica_capacity")


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
    echo: float = 0.6  # the echo flag's default (method/quality.py)

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
    :class:`~interactive_agents.method.quality.QualityThresholds` field by field. The
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
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _FieldError(ConfigError, ValueError):
    """A ConfigError that msgspec, converting a recipe, locates like its own errors.

    msgspec wraps a ValueError raised while building a nested object in a
    ValidationError pointing at that object; build_config adds the field named here.
    """


def check_url(
    url: object, *, field: str, file: str | None = None, record: str | None = None
) -> str:
    """``url`` if it is a usable http(s) base URL, else a ConfigError naming the field.

    Caught here, when the configuration is built, rather than as a ValueError in every
    dialogue: a port out of range, an unclosed IPv6 bracket, no scheme or host, spaces,
    credentials (they belong in an environment variable), a query or a fragment.
    """

    def fail(message: str) -> typing.NoReturn:
        raise _FieldError(message, file=file, record=record, field=field)

    if not isinstance(url, str):
        fail(f"expected a URL string, got {type(url).__name__}")
    shown = repr(url) if len(url) <= 200 else f"{url[:200]!r}..."
    if not url.isprintable() or any(char.isspace() for char in url):
        fail(f"{shown} is not a URL: it contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        fail(f"{shown} is not a valid URL: {exc}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        fail(f"{shown} is not an http(s) URL with a host (e.g. http://localhost:8000/v1)")
    if port == 0:
        fail(f"{shown} has port 0")
    if parts.username is not None or parts.password is not None:
        fail("credentials do not belong in a URL: put the key in a variable (api_key_env)")
    if parts.query or parts.fragment:
        fail(f"{shown} is a base URL and may have no query or fragment")
    return url


def check_variable_name(
    name: object, *, field: str, file: str | None = None, record: str | None = None
) -> str:
    """``name`` if it can name an environment variable, else a ConfigError.

    The value is never echoed: what was passed may be the secret key itself, and the
    message ends up on terminals and in logs.
    """
    if not isinstance(name, str) or _VARIABLE_NAME.fullmatch(name) is None:
        raise _FieldError(
            "must be the NAME of the environment variable holding the key (letters, digits "
            "and _, not starting with a digit), never the key itself",
            file=file,
            record=record,
            field=field,
        )
    return name


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
        if isinstance(cause, _FieldError):
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
