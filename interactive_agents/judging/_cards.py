"""Reading the judges' prompt cards (``actors/*.toml``) and their answers.

The topic rater and the WAI judge are data: a card names the instructions, the final
line a judge must write and the pattern that reads it back. These helpers load a card,
check its fields (errors name the file and the field), render a session as the
transcript the judge reads, and find the judge's final answer in free text.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from interactive_agents._resources import bundled_dir
from interactive_agents.corpora._readers import Dialogue
from interactive_agents.errors import ConfigError


def actor_card(name: str, language: str, actors_dir: str | Path | None) -> Path:
    """``<actors>/<name>.<language>.toml``, from ``actors_dir`` or the bundled cards."""
    folder = Path(actors_dir) if actors_dir is not None else bundled_dir("actors")
    path = folder / f"{name}.{language}.toml"
    if not path.is_file():
        raise ConfigError(f"no {name} card for language {language!r}", file=str(path))
    return path


def text_field(data: dict[str, Any], key: str, path: Path) -> str:
    """A required non-empty string of a card."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("expected a non-empty string", file=str(path), field=key)
    return value.strip()


def compile_pattern(data: dict[str, Any], key: str, path: Path) -> re.Pattern[str]:
    """A card's regular expression (case-insensitive), with at least one group."""
    source = text_field(data, key, path)
    try:
        pattern = re.compile(source, re.IGNORECASE | re.MULTILINE)
    except re.error as exc:
        message = f"not a valid regular expression: {exc}"
        raise ConfigError(message, file=str(path), field=key) from exc
    if pattern.groups < 1:
        raise ConfigError("needs a capturing group", file=str(path), field=key)
    return pattern


def normalise(text: str) -> str:
    """NFKC: full-width digits and colons (５, ：) become their ASCII forms."""
    return unicodedata.normalize("NFKC", text)


def last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The last match of ``pattern`` in the normalised ``text`` (the final line wins)."""
    found = None
    for found in pattern.finditer(normalise(text)):  # noqa: B007 - the last one is kept
        pass
    return found


def transcript(dialogue: Dialogue, client_label: str, counselor_label: str) -> str:
    """The session as ``Label: utterance`` lines, in order."""
    labels = {"client": client_label, "counselor": counselor_label}
    return "\n".join(f"{labels[u.role]}: {u.content.strip()}" for u in dialogue.turns)
