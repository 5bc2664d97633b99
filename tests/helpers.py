"""Small helpers shared by the integration tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from interactive_agents import RunConfig, build_config


def config_for(*urls: str, **overrides: Any) -> RunConfig:
    """A run against the scripted server(s); dotted overrides as in recipes."""
    settings: dict[str, Any] = {
        "language": "en",
        "max_turns": 3,
        "endpoint.base_urls": list(urls),
        "endpoint.model": "scripted",
        "endpoint.timeout": 5.0,
    }
    settings.update(overrides)
    return build_config(None, settings)


def read_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def write_bots_registry(path: Path, url: str, *, extra: str = "") -> Path:
    """A ``[bots.NAME]`` registry of bots alpha and beta, both served at ``url``."""
    path.write_text(
        "".join(
            f'[bots.{name}]\nbase_urls = ["{url}"]\nmodel = "{name}"\n{extra}'
            for name in ("alpha", "beta")
        ),
        encoding="utf-8",
    )
    return path
