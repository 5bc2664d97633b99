"""Reading the judges' prompt cards (``actors/*.toml``).

The topic rater and the WAI judge are data: a card holds the instructions and, in its
``[answer]`` table, the answer line a judge must write (read back by
:mod:`._answers`). These helpers find and check a card's fields (errors name the file
and the field) and render a session as the transcript the judge reads.
"""

from __future__ import annotations

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


def transcript(dialogue: Dialogue, client_label: str, counselor_label: str) -> str:
    """The session as ``Label: utterance`` lines, in order."""
    labels = {"client": client_label, "counselor": counselor_label}
    return "\n".join(f"{labels[u.role]}: {u.content.strip()}" for u in dialogue.turns)
