"""The refiner σ (docs/method.md#refinement): is a counselor candidate an acceptable reply?

A reply is accepted when it is short enough, contains no line break (any Unicode line
boundary: ``\\n``, ``\\r``, ``\\v``, ``\\f``, U+0085, U+2028, U+2029…), no chat-template
token (``<|im_end|>``, ``<end_of_turn>``…: ``actors/template_tokens.toml``) and does not
enumerate items. Length is counted in one of three units:

* ``chars`` (default for zh): every character, punctuation and spaces included;
* ``han``: Han characters only, the paper's literal "200 Chinese characters";
* ``words`` (default for en, where a word carries about what one to two Chinese
  characters do): 120 white-space separated words.

An enumeration is two or more items marked in sequence (item 1 then item 2) by any one
family of markers: Arabic or full-width numbers (``1.`` ``1、`` ``1)`` ``(1)`` ``1，``),
Chinese numerals (``一、`` ``（一）`` ``第一，`` ``第一点`` ``一是…二是`` ``首先…其次``),
ordinal words (first/second…), letters (``a)`` ``(b)``), Roman numerals (``i.`` ``Ⅱ``) or
bullets; circled numbers (①) and a reply opening with ``1.`` count on their own. A
number that is not a marker ("3年前", "1到10分", "第一次", "3.5 小时") is ordinary text.

What to do when every attempt was rejected is a policy, recorded in the dialogue:

* ``repair`` (default): cut the reply where a template token starts (what follows is
  the model writing a turn it was not asked for; the tokens are dropped instead when
  nothing comes before them), join lines, strip list markers, cut at the last sentence
  end that fits, and flag the turn ``refiner_gave_up``;
* ``accept_last``: keep the last candidate as it is, flagged;
* ``fail``: the session fails and goes to ``failures.jsonl``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from interactive_agents.method._records import RefinerVerdict
from interactive_agents.method._template_tokens import cut_at_template, template_tokens

LengthUnit = Literal["chars", "han", "words"]
ExhaustedPolicy = Literal["repair", "accept_last", "fail"]

DEFAULT_LIMITS: dict[str, tuple[int, LengthUnit]] = {"zh": (200, "chars"), "en": (120, "words")}

_NUMERALS = "一二三四五六七八九十"
_ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x")
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")
_CARDINALS = ("one", "two", "three", "four", "five", "six")

# Patterns take the ASCII and the full-width forms alike (``\d`` matches ``１`` too).
# A marker "at a boundary" starts the text or follows white space or punctuation.
_BOUNDARY = r"(?:^|(?<=[\s,，.．;；:：!！?？、。…\"'“”‘’「」()（）]))"
_NOT_ALNUM = r"(?<![0-9A-Za-z.．])"
_SEP = r"[.．、)）:：,，;；]"
_OPEN = r"[(（\[【]"
_CLOSE = r"[)）\]】]"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_CIRCLED = re.compile(r"[\u2460-\u249b\u24f5-\u24fe\u2776-\u2793\u3251-\u325f\u32b1-\u32bf]")
_LETTER_START = r"(?:^|(?<=[\s，。；：、！？,;:!?]))(?<![A-Za-z]\s)"
_OPENS_WITH_ONE = re.compile(rf"\s*{_OPEN}?\s*[1１]\s*[.．、)）\]】:：](?!\d)")
_BULLET_SIGN = re.compile(r"[•●○◦▪▫■□◆◇►▸▹▶➤✓✔☐☑※]")
_BULLET_DASH = re.compile(r"(?:^|(?<=[.!?;:。！？；：]))\s*[-–—*+]\s+")
_SENTENCE_END = re.compile(r"[。！？!?…]|\.(?=\s|$)")
_WORD = re.compile(r"\S+")


def _numeral(text: str) -> int:
    """1 for ``1``, ``１``, ``一`` or ``Ⅰ``."""
    if text in _NUMERALS:
        return _NUMERALS.index(text) + 1
    return int(text) if text.isdigit() else int(unicodedata.numeric(text))


def _word_value(text: str) -> int:
    word = text.casefold().removesuffix("ly")
    if word == "first of all":
        return 1
    return (_ORDINALS.index(word) if word in _ORDINALS else _CARDINALS.index(word)) + 1


# What a family's pattern cannot match without: scanning for one character class (or,
# in ASCII text, for a few words) costs a fraction of the pattern's lookbehinds at every
# position, and most replies have none of them, so most patterns are never run. In ASCII
# text nothing but ASCII letters match case-insensitively, so lowering it is exact;
# elsewhere ſ matches s and ı matches i, and the tests stay with the patterns' own flags.
_DIGIT = re.compile(r"\d").search
_NUMERAL = re.compile(f"[{_NUMERALS}]").search
_CLOSER = re.compile(_CLOSE).search
_LETTER_MARK = re.compile(r"(?<![A-Za-z])[a-hA-H][.．、]").search  # a. A. A、 standing alone
_ROMAN_SIGN = re.compile(r"(?i)[\u2160-\u216b\u2170-\u217b]").search
_ROMAN_ENDS = re.compile(r"(?i)[ivx][.．)）]").search  # every numeral ends in i, v or x
_WORD_START = re.compile(r"(?i)[fsto]").search  # the first letters of the ordinal words
_WORD_STEMS = (*_ORDINALS[:3], "four", "fifth", "sixth", *_CARDINALS[:3], "five", "six")
_ORDINAL_WORD = re.compile(  # the ordinal words where the pattern takes them, lowered text
    rf"\b(?:(?:{'|'.join(_ORDINALS + _CARDINALS)})\s*[,:]|(?:{'|'.join(_ORDINALS[:4])})ly"
    r"|first of all)"
).search
_DASH = re.compile(r"[-–—*+]").search


def _may_name_ordinal_words(text: str) -> object:
    if not text.isascii():
        return _WORD_START(text)
    lowered = text.lower()
    return any(stem in lowered for stem in _WORD_STEMS) and _ORDINAL_WORD(lowered)


def _may_number_in_roman(text: str) -> object:
    if not text.isascii():
        return _CLOSER(text) or _ROMAN_ENDS(text) or _ROMAN_SIGN(text)
    lowered = text.lower()
    return ")" in text or "]" in text or "i." in lowered or "v." in lowered or "x." in lowered


@dataclass(frozen=True, slots=True)
class _Family:
    """One way of marking items: a pattern whose first non-empty group is the item's
    ordinal, how that group becomes a number, whether repair removes the marker, and a
    cheap test that is true of every text the pattern matches in."""

    kind: str
    pattern: re.Pattern[str]
    value: Callable[[str], int]
    may_match: Callable[[str], object]
    strippable: bool = True

    def values(self, text: str) -> set[int]:
        if not self.may_match(text):
            return set()
        return {self.value(next(g for g in m.groups() if g)) for m in self.pattern.finditer(text)}


_FAMILIES = (
    _Family(
        "numbered items",
        re.compile(
            rf"{_OPEN}\s*(\d{{1,2}})\s*{_CLOSE}"  # (1) （1） [1] 【1】, after any character
            rf"|{_NOT_ALNUM}(?<![(（\[【\d])(\d{{1,2}}){_SEP}(?!\d)"  # 1. 1、 1) 1: 1, 1;
            rf"|第(\d{{1,2}})(?:[点步条项]|个?方面)|{_BOUNDARY}第(\d{{1,2}}){_SEP}"  # 第1点 第1，
        ),
        _numeral,
        _DIGIT,
    ),
    _Family(
        "Chinese ordinal items",
        re.compile(
            rf"{_OPEN}\s*([{_NUMERALS}])\s*{_CLOSE}"  # （一）
            rf"|{_BOUNDARY}([{_NUMERALS}]){_SEP}"  # 一、 一，
            rf"|第([{_NUMERALS}])(?:[点步条项]|个?方面|是)"  # 第一点 第一是
            rf"|{_BOUNDARY}第([{_NUMERALS}]){_SEP}"  # 第一， (not a rank: "考了第一，")
        ),
        _numeral,
        _NUMERAL,
    ),
    _Family(
        "Chinese ordinal items",
        # 一是…二是…, 一来…二来… ("一是一，二是二" is an idiom, not a list).
        re.compile(rf"(?<![第不万唯统{_NUMERALS}])([{_NUMERALS}])(?:是(?!\1)|来(?=[是,，]))"),
        _numeral,
        _NUMERAL,
        strippable=False,
    ),
    _Family(
        "Chinese ordinal items",
        re.compile(r"(首先)|(其次)"),
        lambda word: 1 if word == "首先" else 2,
        lambda text: "首先" in text or "其次" in text,
        strippable=False,
    ),
    _Family(
        "ordinal words",
        re.compile(
            r"(?i)\b(first of all|firstly|secondly|thirdly|fourthly)\b"
            rf"|\b({'|'.join(_ORDINALS)})\b(?=\s*[,:])"
            rf"|{_BOUNDARY}\s*({'|'.join(_CARDINALS)})\b(?=\s*[,:])"
        ),
        _word_value,
        _may_name_ordinal_words,
        strippable=False,
    ),
    _Family(
        "lettered items",
        re.compile(
            rf"{_OPEN}\s*([a-hA-H])\s*{_CLOSE}"  # (a)
            r"|(?<![0-9A-Za-z(（])([a-hA-H])[)）]"  # a)
            r"|(?:^|(?<=[:;,、：；，])|(?<=[:;,]\s))([a-hA-H])[.．](?=\s)"  # a. after a colon
            # A. / A、 opening an item inline ("A. 保持规律作息 B. 每天适当运动"): after a
            # start, a space or punctuation (never glued to a word: "维生素A、"), not after a
            # Latin word and a space ("plan A. If"), and followed by the item's text.
            rf"|{_LETTER_START}([a-hA-H])[.．、](?=\s*{_HAN.pattern}|\s+[A-Za-z])"
            # after a Latin word: only when the item goes on in lower case ("walk B. call")
            r"|(?<=[A-Za-z]\s)([a-hA-H])[.．](?=\s+[a-z])"
        ),
        lambda letter: ord(letter.casefold()) - ord("a") + 1,
        lambda text: _CLOSER(text) or _LETTER_MARK(text),
    ),
    _Family(
        "Roman numerals",
        re.compile(
            rf"(?i){_OPEN}\s*({'|'.join(reversed(_ROMAN))})\s*{_CLOSE}"
            rf"|{_BOUNDARY}({'|'.join(reversed(_ROMAN))})[.．)）](?=\s|$)"
            r"|([\u2160-\u216b\u2170-\u217b])"  # the numeral signs Ⅰ Ⅱ ⅲ
        ),
        lambda numeral: (
            _ROMAN.index(numeral.casefold()) + 1 if numeral.isascii() else _numeral(numeral)
        ),
        _may_number_in_roman,
    ),
)


def _has_run(numbers: set[int]) -> bool:
    """Two consecutive item numbers (1 then 2, …) make an enumeration."""
    return any(n + 1 in numbers for n in numbers)


def enumeration(text: str) -> str | None:
    """The kind of enumeration found in ``text``, or None."""
    if _CIRCLED.search(text):
        return "circled numbers"
    if _OPENS_WITH_ONE.match(text):
        return "numbered items"
    found: dict[str, set[int]] = {}
    for family in _FAMILIES:
        found.setdefault(family.kind, set()).update(family.values(text))
    for kind, numbers in found.items():
        if _has_run(numbers):
            return kind
    dashes = len(_BULLET_DASH.findall(text)) if _DASH(text) else 0
    if len(_BULLET_SIGN.findall(text)) + dashes >= 2:
        return "bullets"
    return None


def _strip_markers(text: str) -> str:
    text = _BULLET_DASH.sub(" ", _BULLET_SIGN.sub("", _CIRCLED.sub("", text)))
    for family in _FAMILIES:
        if family.strippable:
            text = family.pattern.sub("", text)
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class RefinerRules:
    """The acceptance rules of one run (``template``: the template tokens refused)."""

    max_length: int
    unit: LengthUnit
    template: re.Pattern[str] = field(default_factory=template_tokens)

    @classmethod
    def for_language(
        cls, language: str, max_length: int | None = None, unit: LengthUnit | None = None
    ) -> RefinerRules:
        default_length, default_unit = DEFAULT_LIMITS.get(language, DEFAULT_LIMITS["en"])
        return cls(max_length or default_length, unit or default_unit)

    def _units(self, text: str) -> list[re.Match[str]] | None:
        """The counted units of ``text`` as matches, or None when every character counts."""
        if self.unit == "chars":
            return None
        return list((_HAN if self.unit == "han" else _WORD).finditer(text))

    def length(self, text: str) -> int:
        if self.unit == "words":  # str.split and \S+ agree on every white-space character
            return len(text.split())
        units = self._units(text)
        return len(text) if units is None else len(units)

    def check(self, text: str) -> RefinerVerdict:
        """Accept or reject one candidate, saying why."""
        stripped = text.strip()
        if not stripped:
            return RefinerVerdict(False, "empty")
        token = self.template.search(stripped)
        if token is not None:
            return RefinerVerdict(False, f"contains a chat-template token ({token.group()})")
        if len(stripped.splitlines()) > 1:
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
        text = cut_at_template(text, self.template)
        flat = " ".join(part.strip() for part in text.strip().splitlines() if part.strip())
        flat = _strip_markers(flat)
        if self.length(flat) <= self.max_length:
            return flat
        cut = self._cut(flat)
        ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
        return (cut[: ends[-1]] if ends else cut).strip()

    def _cut(self, text: str) -> str:
        units = self._units(text)
        if units is None:
            return text[: self.max_length]
        return text[: units[self.max_length - 1].end()]
