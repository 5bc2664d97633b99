"""Rubric fingerprints: which judge card and which model produced a score.

Scores are comparable only when the same rubric produced them: the same judge card
(system prompt, item texts, anchors, answer pattern) read by the same model. A report
records the fingerprint of each corpus's rubric, and comparisons across corpora refuse
to mix fingerprints unless the caller forces it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from interactive_agents.errors import ConfigError
from interactive_agents.method._seeds import fingerprint


def rubric_fingerprint(card: Any, model: str) -> str:
    """The fingerprint of a judge card (a dataclass, mapping or text) and the model."""
    return fingerprint({"card": _plain(card), "model": model})


def _plain(value: Any) -> Any:
    """A JSON-able copy: dataclasses and mappings as objects, patterns as their text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, re.Pattern):
        return value.pattern
    return value


def require_one_rubric(rubrics: Mapping[str, str], *, force: bool = False) -> None:
    """Refuse (ConfigError) scores of several rubrics in one comparison unless forced."""
    distinct = sorted(set(rubrics.values()))
    if len(distinct) > 1 and not force:
        groups = "; ".join(
            f"{rubric}: {', '.join(name for name, r in rubrics.items() if r == rubric)}"
            for rubric in distinct
        )
        raise ConfigError(
            f"the corpora were scored with different rubrics ({groups}); their scores are "
            "not comparable (judge them with one card and model, or pass --force-mix-rubrics)",
            field="rubric",
        )
