"""Chat-template tokens written as text (``<|im_end|>``, ``<end_of_turn>``, ``[INST]``).

A small or base model that runs past its end of turn writes the markup of its chat
template into the reply, often followed by a fake next turn ("Hello<|im_end|>
<|im_start|>user Hello…"). Such text is never a valid utterance. The patterns are data
(``actors/template_tokens.toml``); the refiner refuses counselor candidates holding one
and the ``template_token`` quality flag counts the turns that do.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from interactive_agents._resources import bundled_dir, read_toml
from interactive_agents.errors import ConfigError


@cache
def _compiled(path: Path) -> re.Pattern[str]:
    data = read_toml(path, "template token list")
    patterns = data.get("patterns")
    if (
        not isinstance(patterns, list)
        or not patterns
        or not all(isinstance(p, str) and p for p in patterns)
    ):
        message = "expected a list of regular expressions"
        raise ConfigError(message, file=str(path), field="patterns")
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns))
    except re.error as exc:
        message = f"not a valid regular expression: {exc}"
        raise ConfigError(message, file=str(path), field="patterns") from exc


def template_tokens(actors_dir: str | Path | None = None) -> re.Pattern[str]:
    """The template-token pattern of ``actors_dir`` (else the bundled ``actors/``)."""
    path = Path(actors_dir) / "template_tokens.toml" if actors_dir is not None else None
    if path is None or not path.is_file():
        path = bundled_dir("actors") / "template_tokens.toml"
    return _compiled(path.resolve())


# The role name a template writes right after its turn token ("<|im_start|>user",
# "<start_of_turn>model"), whatever the name ("admin", "support").
_ROLE = re.compile(r"[A-Za-z_]+\b|\s*(?:user|assistant|system|model)\b")


def strip_template(text: str, pattern: re.Pattern[str]) -> str:
    """The text without its template tokens and the role names that follow them
    ("<|im_start|>user"), what is left between them kept."""
    pieces = []
    position = 0
    for token in pattern.finditer(text):
        pieces.append(text[position : token.start()])
        role = _ROLE.match(text, token.end())
        position = role.end() if role else token.end()
    pieces.append(text[position:])
    return " ".join(" ".join(pieces).split())


def cut_at_template(text: str, pattern: re.Pattern[str]) -> str:
    """The text before its first template token (the rest is a turn the model was not
    asked for); when nothing comes before it, the text stripped of its tokens."""
    found = pattern.search(text)
    if found is None:
        return text
    if text[: found.start()].strip():
        return text[: found.start()]
    return strip_template(text, pattern)
