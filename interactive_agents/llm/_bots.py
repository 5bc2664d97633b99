"""One schema for a bot endpoint: the ``[bots.NAME]`` table that ``serve`` writes and
``arena --bots`` and ``annotate`` read.

A bot is any OpenAI-compatible endpoint plus how it samples::

    [bots.simpsybot_Q]
    base_urls = ["http://gpu1:8000/v1"]     # one or more replicas
    model = "simpsybot_Q"
    temperature = 0.7                        # the bot's sampling (docs/method.md)
    top_p = 0.8
    api_key_env = "GPU1_KEY"                 # the *name* of a variable, never a key
    # system_prompt absent: the bundled counselor prompt of the run's language;
    # system_prompt = "": none (a bot trained with its own); any other text: that text.

Reader and writer live here together so that what one writes the other reads; every
error names the file, the bot and the field.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from interactive_agents.errors import ConfigError
from interactive_agents.llm._endpoint_config import EndpointConfig, check_url, check_variable_name
from interactive_agents.llm._messages import Sampling

BOT_ENDPOINT_KEYS = frozenset(
    (
        "base_urls",
        "model",
        "api_key_env",
        "concurrency",
        "rpm",
        "tpm",
        "timeout",
        "max_retries",
        "system_prompt",
        "temperature",
        "top_p",
        "max_tokens",
    )
)


@dataclass(frozen=True, slots=True)
class BotEndpoint:
    """Where a bot answers and how it samples; ``system_prompt`` None: the default one."""

    name: str
    endpoint: EndpointConfig
    sampling: Sampling
    system_prompt: str | None = None


def _number(raw: dict[str, Any], key: str, default: float, fail: Callable[..., NoReturn]) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(key, "must be a number")
    return float(value)


def _integer(raw: dict[str, Any], key: str, default: int, fail: Callable[..., NoReturn]) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        fail(key, "must be a non-negative integer")
    return value


def parse_bot_endpoint(name: str, raw: Any, file: str | None = None) -> BotEndpoint:
    """Validate one ``[bots.NAME]`` table."""

    def fail(field: str | None, message: str) -> NoReturn:
        raise ConfigError(message, file=file, record=f"bots.{name}", field=field)

    if not isinstance(raw, dict):
        fail(None, "must be a table")
    unknown = sorted(set(raw) - BOT_ENDPOINT_KEYS)
    if unknown:
        fail(unknown[0], f"unknown key (known: {', '.join(sorted(BOT_ENDPOINT_KEYS))})")
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
    max_tokens = _integer(raw, "max_tokens", 256, fail)
    concurrency = _integer(raw, "concurrency", 64, fail)
    for key, value in (("max_tokens", max_tokens), ("concurrency", concurrency)):
        if value < 1:
            fail(key, "must be a positive integer")
    endpoint = EndpointConfig(
        base_urls=tuple(urls),
        model=model,
        api_key_env=raw.get("api_key_env") or None,
        concurrency=concurrency,
        rpm=_integer(raw, "rpm", 0, fail),
        tpm=_integer(raw, "tpm", 0, fail),
        timeout=_number(raw, "timeout", 120.0, fail),
        max_retries=_integer(raw, "max_retries", 6, fail),
    )
    return BotEndpoint(
        name, endpoint, Sampling(temperature, top_p, max_tokens), raw.get("system_prompt")
    )


def bot_endpoints_toml(bots: Sequence[BotEndpoint], header: str = "") -> str:
    """The ``[bots.NAME]`` tables of ``bots`` (strings as JSON strings: valid TOML)."""
    lines = [f"# {header}", ""] if header else []
    for bot in bots:
        lines += [
            f"[bots.{json.dumps(bot.name)}]",
            f"base_urls = {json.dumps(list(bot.endpoint.base_urls))}",
            f"model = {json.dumps(bot.endpoint.model)}",
            f"temperature = {bot.sampling.temperature}",
            f"top_p = {bot.sampling.top_p}",
            f"max_tokens = {bot.sampling.max_tokens}",
        ]
        if bot.endpoint.concurrency is not None:
            lines.append(f"concurrency = {bot.endpoint.concurrency}")
        if bot.endpoint.api_key_env:
            lines.append(f"api_key_env = {json.dumps(bot.endpoint.api_key_env)}")
        if bot.system_prompt is not None:
            lines.append(f"system_prompt = {json.dumps(bot.system_prompt)}")
        lines.append("")
    return "\n".join(lines)
