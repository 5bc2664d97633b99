"""The bots registry: which counselor bots compete, and how each one is called.

A registry is a TOML file with one table per bot; any OpenAI-compatible endpoint can
be a bot::

    [bots.simpsybot_Q]
    base_urls = ["http://gpu1:8000/v1"]     # one or more replicas
    model = "simpsybot_Q"
    temperature = 0.7                        # SPEC §9 sampling of the bot
    top_p = 0.8
    api_key_env = "GPU1_KEY"                 # the *name* of a variable, never a key
    # system_prompt absent: the bundled counselor prompt of the run's language;
    # system_prompt = "": none (a bot trained with its own); any other text: that text.

Every error names the file, the bot and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interactive_agents.errors import ConfigError
from interactive_agents.method.config import EndpointConfig, check_url, check_variable_name
from interactive_agents.method.records import ChatMessage, Sampling
from interactive_agents.method.resources import read_toml

_ENDPOINT_KEYS = (
    "base_urls",
    "model",
    "api_key_env",
    "concurrency",
    "rpm",
    "tpm",
    "timeout",
    "max_retries",
)
_KEYS = frozenset((*_ENDPOINT_KEYS, "system_prompt", "temperature", "top_p", "max_tokens"))


@dataclass(frozen=True, slots=True)
class Bot:
    """One competitor: its endpoint, sampling and system prompt (None: no system message)."""

    name: str
    endpoint: EndpointConfig
    sampling: Sampling
    system_prompt: str | None

    def messages(self, history: list[ChatMessage]) -> list[ChatMessage]:
        """The request for the next reply, given the history from the counselor's side."""
        if self.system_prompt is None:
            return history
        return [ChatMessage("system", self.system_prompt), *history]


def _number(raw: dict[str, Any], key: str, default: float, fail: Any) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(key, "must be a number")
    return float(value)


def _bot(name: str, raw: Any, default_prompt: str, file: str) -> Bot:
    def fail(field: str | None, message: str) -> None:
        raise ConfigError(message, file=file, record=f"bots.{name}", field=field)

    if not isinstance(raw, dict):
        fail(None, "must be a table")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        fail(unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS))})")
    urls = raw.get("base_urls")
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        fail("base_urls", "must be a non-empty list of URLs")
    for url in urls:
        check_url(url, field="base_urls", file=file, record=f"bots.{name}")
    model = raw.get("model")
    if not isinstance(model, str) or not model:
        fail("model", "a model name is required")
    for key in ("api_key_env", "system_prompt"):
        if key in raw and not isinstance(raw[key], str):
            fail(key, "must be a string")
    if raw.get("api_key_env"):
        check_variable_name(
            raw["api_key_env"], field="api_key_env", file=file, record=f"bots.{name}"
        )
    temperature = _number(raw, "temperature", 0.7, fail)
    top_p = _number(raw, "top_p", 0.8, fail)
    if not 0 <= temperature <= 2:
        fail("temperature", "must be between 0 and 2")
    if not 0 < top_p <= 1:
        fail("top_p", "must be in (0, 1]")
    max_tokens = raw.get("max_tokens", 256)
    concurrency = raw.get("concurrency", 64)
    for key, value in (("max_tokens", max_tokens), ("concurrency", concurrency)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            fail(key, "must be a positive integer")
    endpoint = EndpointConfig(
        base_urls=tuple(urls),
        model=model,
        api_key_env=raw.get("api_key_env") or None,
        concurrency=concurrency,
        rpm=int(raw.get("rpm", 0)),
        tpm=int(raw.get("tpm", 0)),
        timeout=_number(raw, "timeout", 120.0, fail),
        max_retries=int(raw.get("max_retries", 6)),
    )
    prompt = raw.get("system_prompt", default_prompt).strip()
    return Bot(name, endpoint, Sampling(temperature, top_p, max_tokens), prompt or None)


def load_bots(path: str | Path, default_prompt: str, *, minimum: int = 2) -> list[Bot]:
    """Read and validate a registry; ``default_prompt`` serves bots that name none."""
    file = str(path)
    data = read_toml(path, "bots registry")
    table = data.get("bots")
    if not isinstance(table, dict):
        raise ConfigError("expected [bots.NAME] tables", file=file, field="bots")
    if len(table) < minimum:
        raise ConfigError(
            f"at least {minimum} bots are needed, found {len(table)}", file=file, field="bots"
        )
    return [_bot(name, raw, default_prompt, file) for name, raw in table.items()]
