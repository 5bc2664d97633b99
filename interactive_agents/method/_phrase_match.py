"""Phrase lists as one compiled pattern: how the quality flags look for a phrase in a turn.

The phrases of ``actors/quality.<lang>.toml`` are plain text, matched case-insensitively
anywhere in a turn, with three refinements that keep a short list general:

* a phrase that begins or ends with a Latin letter or digit matches whole words only
  ("as an ai" is not found in "as an aid"; Han characters have no word boundaries);
* ``…`` stands for a gap of at most ``GAP_CHARS`` characters inside one sentence, so
  "我是…咨询师" covers 我是一名心理咨询师, 我是你的咨询师, 我是虚拟心理咨询师 and
  "happy to…help" covers "happy to assist and help";
* a leading ``^`` ties the phrase to the start of the turn ("^welcome": a client that
  opens like a host, while "you're welcome" stays a pleasantry).

Spaces in a phrase match any run of white space, and a typographic apostrophe (’) in a
turn reads as a straight one, as the phrase lists write it.
"""

from __future__ import annotations

import re
from functools import cache

GAP = "…"
GAP_CHARS = 16
_SENTENCE_END = r".!?。！？\n"
_LATIN = "a-z0-9\u00c0-\u024f"


def normalise(text: str) -> str:
    """The text as the phrases are written: casefolded, typographic apostrophes straight."""
    return text.casefold().replace("\u2019", "'")


@cache
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern that finds any of ``phrases`` (None for no phrases)."""
    if not phrases:
        return None
    return re.compile("|".join(f"(?:{_phrase_regex(normalise(p))})" for p in phrases))


def _phrase_regex(phrase: str) -> str:
    anchored = phrase.startswith("^")
    parts = [part.strip() for part in phrase.removeprefix("^").split(GAP)]
    gap = f"[^{_SENTENCE_END}]{{0,{GAP_CHARS}}}?"
    body = gap.join(r"\s+".join(map(re.escape, part.split())) for part in parts if part)
    text = "".join(parts)
    head = r"^\W*" if anchored else (f"(?<![{_LATIN}])" if _latin(text[:1]) else "")
    tail = f"(?![{_LATIN}])" if _latin(text[-1:]) else ""
    return head + body + tail


def _latin(char: str) -> bool:
    return bool(char) and re.fullmatch(f"[{_LATIN}]", char) is not None


def finds(phrases: tuple[str, ...], text: str) -> bool:
    """Whether ``text`` holds any of ``phrases``."""
    pattern = phrase_pattern(phrases)
    return pattern is not None and pattern.search(normalise(text)) is not None
