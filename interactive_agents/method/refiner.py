"""The refiner σ (SPEC §5): is a counselor candidate an acceptable reply?

A reply is accepted when it is short enough (200 characters in Chinese; in English,
where a word carries about what one to two Chinese characters do, 120 words by
default), contains no line break and no enumerated items. What to do when every
attempt was rejected is a policy, recorded in the dialogue:

* ``repair`` (default): join lines, strip list markers, cut at the last sentence end
  that fits, and flag the turn ``refiner_gave_up``;
* ``accept_last``: keep the last candidate as it is, flagged;
* ``fail``: the session fails and goes to ``failures.jsonl``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from interactive_agents.method.records import RefinerVerdict

LengthUnit = Literal["chars", "words"]
ExhaustedPolicy = Literal["repair", "accept_last", "fail"]

DEFAULT_LIMITS: dict[str, tuple[int, LengthUnit]] = {"zh": (200, "chars"), "en": (120, "words")}

# An item marker starts the text or follows white space or punctuation.
_BOUNDARY = r"(?:^|(?<=[\s，。；：、,.;:!?！？]))"
_CIRCLED = re.compile(r"[\u2460-\u2473\u2776-\u277f]")
_ARABIC = re.compile(_BOUNDARY + r"[(（]?(\d{1,2})[.、)）:：](?!\d)")
_HANZI = re.compile(_BOUNDARY + r"第?([一二三四五六七八九十])[、.．:：]")
_HANZI_VALUES = {ch: i for i, ch in enumerate("一二三四五六七八九十", start=1)}
_MARKER = re.compile(_ARABIC.pattern + "|" + _HANZI.pattern + r"|" + _BOUNDARY + r"[-*•]\s")
_SENTENCE_END = re.compile(r"[。！？!?…]|\.(?=\s|$)")
_WORD = re.compile(r"\S+")


def _has_run(numbers: list[int]) -> bool:
    """Two consecutive item numbers (1 then 2, …) make an enumeration."""
    present = set(numbers)
    return any(n + 1 in present for n in present)


def enumeration(text: str) -> str | None:
    """The kind of enumeration found in ``text``, or None."""
    if _CIRCLED.search(text):
        return "circled numbers"
    arabic = [int(m.group(1)) for m in _ARABIC.finditer(text)]
    if _has_run(arabic) or re.match(r"\s*[(（]?1[.、)）](?!\d)", text):
        return "numbered items"
    hanzi = [_HANZI_VALUES[m.group(1)] for m in _HANZI.finditer(text)]
    if _has_run(hanzi):
        return "Chinese ordinal items"
    return None


@dataclass(frozen=True, slots=True)
class RefinerRules:
    """The acceptance rules of one run."""

    max_length: int
    unit: LengthUnit

    @classmethod
    def for_language(
        cls, language: str, max_length: int | None = None, unit: LengthUnit | None = None
    ) -> RefinerRules:
        default_length, default_unit = DEFAULT_LIMITS.get(language, DEFAULT_LIMITS["en"])
        return cls(max_length or default_length, unit or default_unit)

    def length(self, text: str) -> int:
        return len(text) if self.unit == "chars" else len(_WORD.findall(text))

    def check(self, text: str) -> RefinerVerdict:
        """Accept or reject one candidate, saying why."""
        stripped = text.strip()
        if not stripped:
            return RefinerVerdict(False, "empty")
        if "\n" in stripped or "\r" in stripped:
            return RefinerVerdict(False, "contains a line break")
        kind = enumeration(stripped)
        if kind is not None:
            return RefinerVerdict(False, f"enumerates items ({kind})")
        length = self.length(stripped)
        if length > self.max_length:
            return RefinerVerdict(False, f"too long ({length} > {self.max_length} {self.unit})")
        return RefinerVerdict(True)

    def repair(self, text: str) -> str:
        """Best effort to make a rejected candidate acceptable (policy ``repair``)."""
        flat = " ".join(part.strip() for part in text.strip().splitlines() if part.strip())
        flat = " ".join(_CIRCLED.sub("", _MARKER.sub("", flat)).split())
        if self.length(flat) <= self.max_length:
            return flat
        cut = self._cut(flat)
        ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
        return (cut[: ends[-1]] if ends else cut).strip()

    def _cut(self, text: str) -> str:
        if self.unit == "chars":
            return text[: self.max_length]
        words = list(_WORD.finditer(text))
        return text[: words[self.max_length - 1].end()]
