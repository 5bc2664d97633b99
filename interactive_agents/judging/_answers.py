"""Reading an LLM judge's answer: one implementation for every judge.

A small or chatty model rarely writes the final line exactly as asked: it puts the
answer inline after its reasoning ("…work stress). Topics: 2, 13"), in bold, after a
``<think>`` block, with full-width digits and colons, or it copies the example line of
the prompt. Every judge (the topic rater, the WAI-O-S judge, the arena's pairwise judge,
and any judge added later) reads answers through :func:`read_answer`, so they accept and
refuse the same things, and a reader is tested once on recorded answers of real models
(``tests/fixtures/judge_answers/``).

**The contract of a judge.** Its prompt card (``actors/<judge>.<lang>.toml``) has an
``[answer]`` table, read by :func:`load_answer_rules`::

    [answer]
    labels = ["Final score", "Score"]   # the words that introduce the answer
    example = "Final score: <score>"    # the answer line exactly as the prompt shows it

The prompt shows ``example`` with placeholders where the value goes: the loader refuses
an example that would itself be read as an answer, and one that the prompt never shows.
The judge brings a :class:`ValueReader` for its kind of value (:func:`score_reader`,
:func:`numbers_reader`, :func:`choice_reader`, or its own) and calls
``read_answer(answer, rules, reader)``, which returns an :class:`AnswerReading`: the value,
or ``None`` with the status ``unparsable`` or ``refused`` and the reason. What the caller
must do with it: count and report both statuses per item, never replace them by a
value, and may ask again (the judge runner shows the judge its answer and the card's
reminder, :func:`~interactive_agents.judging.run_judgements`).

**How an answer is read.**

1. Reasoning is dropped: what comes before the last ``</think>``; after an unclosed
   ``<think>`` nothing is an answer.
2. The text is NFKC-normalised (``５`` ``：`` ``，`` become ``5`` ``:`` ``,``), and
   markdown is dropped (``**``, ``__``, backticks, heading and quote marks).
3. An answer that is then the example line itself is an echo: unparsable.
4. Every place where a label stands, followed by a separator (``:`` ``=`` ``is`` ``为``
   ``是`` or nothing), is a candidate, at the start of a line or inside one; the value
   is read from the rest of that line. The last candidate whose value the reader accepts
   wins; a value the reader finds ambiguous ("5 or 6") is no answer.
5. Without a candidate, an answer that is nothing but a value ("5", "B", "12, 7") is
   read as that value.
6. Otherwise the answer is ``refused`` if it says one of the refusal phrases of
   ``actors/refusals.toml`` (every language's), else ``unparsable``.

**Adopting it in a new judge** (the safety judge, say):

1. Give its card an ``[answer]`` table as above, and show ``example`` in the prompt
   (and in the reminder that asks again).
2. Load the rules once with ``load_answer_rules(data, path, reader, (system, user,
   reminder), actors_dir=...)``; it raises :class:`~interactive_agents.errors.ConfigError`
   naming the file and field when the table is missing, when the prompts never show
   the example, or when the example could be read as an answer. A card that still has
   a ``*_pattern`` key is refused.
3. Read each answer with ``read_answer(answer, rules, reader)``; a reader returns
   ``(value, characters used)`` or ``None`` (ambiguous or no value), so a new kind of
   value needs only a new reader (e.g. ``choice_reader(("yes", "no"))``).
4. Run the calls through :func:`~interactive_agents.judging.run_judgements`: it asks
   again with the reminder while an answer cannot be read (``JudgeSettings.max_attempts``)
   and keeps every :class:`~interactive_agents.judging.Judgement` with its status;
   :func:`~interactive_agents.judging.unread_counts` gives the per-item counts that every
   report and summary shows, and a run whose unread share exceeds
   ``JudgeConfig.max_unparsable`` (default ``DEFAULT_MAX_UNPARSABLE``, 5 %) must exit
   1 and say so.
5. Record real answers of the embedded models to the new prompt
   (``scripts/record_judge_answers.py`` shows how), label them by hand and add them to
   ``tests/fixtures/judge_answers/answers.jsonl``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from interactive_agents._resources import bundled_dir, read_toml, string_list
from interactive_agents.errors import ConfigError

T = TypeVar("T")

AnswerStatus = Literal["parsed", "unparsable", "refused"]
ValueReader = Callable[[str], "tuple[T, int] | None"]
"""Reads a value at the start of a text: the value and the characters it took, or None
when the text does not start with one or the value is ambiguous."""

_THINK_END = re.compile(r"</think\s*>", re.IGNORECASE)
_THINK_START = re.compile(r"<think\s*>", re.IGNORECASE)
_MARKDOWN = re.compile(r"\*\*|__|`+|~~|^[ \t]*(?:#{1,6}|>+)[ \t]*", re.MULTILINE)
_EMPHASIS = re.compile(r"(?<![\w*])[*_](?=\S)|(?<=\S)[*_](?![\w*])")
_SEPARATOR = r"\s*(?:[:=]|->|=>|\bis\b|\bare\b|为|是)?\s*"
_TRAILING = re.compile(r"[\s.,;:!?。，；：！？、)\]}>\"'”’」』】]*")
_SPACES = re.compile(r"\s+")
_LATIN_BEFORE = r"(?<![A-Za-z])"
_LATIN_AFTER = r"(?![A-Za-z])"


@dataclass(frozen=True, slots=True)
class AnswerReading(Generic[T]):
    """What an answer said: ``value`` when ``status`` is ``parsed``, else why not."""

    value: T | None
    status: AnswerStatus
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "parsed"


@dataclass(frozen=True, slots=True)
class AnswerRules:
    """Where a judge's answer is: the ``labels`` that introduce it and the prompt's
    ``example`` line (an answer identical to it is an echo), plus the refusal phrases."""

    labels: tuple[str, ...]
    example: str
    refusals: tuple[str, ...] = ()

    @property
    def pattern(self) -> re.Pattern[str]:
        return _label_pattern(self.labels)


@cache
def _label_pattern(labels: tuple[str, ...]) -> re.Pattern[str]:
    """A label (longest first, spaces flexible, never inside a Latin word) and its
    separator."""
    alternatives = []
    for label in sorted(labels, key=len, reverse=True):
        body = r"\s*".join(re.escape(word) for word in clean(label).split())
        if label[:1].isascii() and label[:1].isalpha():
            body = _LATIN_BEFORE + body
        if label[-1:].isascii() and label[-1:].isalpha():
            body += _LATIN_AFTER
        alternatives.append(body)
    return re.compile(rf"(?:{'|'.join(alternatives)}){_SEPARATOR}", re.IGNORECASE)


def visible_answer(text: str) -> str:
    """The answer without its reasoning: after the last ``</think>``; an unclosed
    ``<think>`` hides everything after it."""
    ends = list(_THINK_END.finditer(text))
    if ends:
        text = text[ends[-1].end() :]
    start = _THINK_START.search(text)
    return text[: start.start()] if start else text


def clean(text: str) -> str:
    """NFKC-normalised, markdown marks removed: the text every reader works on."""
    text = unicodedata.normalize("NFKC", text)
    return _EMPHASIS.sub("", _MARKDOWN.sub("", text))


def _same_line(a: str, b: str) -> bool:
    return _SPACES.sub(" ", a).strip().casefold() == _SPACES.sub(" ", b).strip().casefold()


def read_answer(text: str, rules: AnswerRules, reader: ValueReader[T]) -> AnswerReading[T]:
    """Read one answer by the rules of the module docstring."""
    answer = clean(visible_answer(text)).strip()
    if not answer:
        hidden = "only reasoning, no answer" if text.strip() else "an empty answer"
        return AnswerReading(None, "unparsable", hidden)
    example = clean(rules.example)
    if _same_line(answer, example):
        return AnswerReading(None, "unparsable", "copied the prompt's example")
    for found in reversed(list(rules.pattern.finditer(answer))):
        read = reader(answer[found.end() :].split("\n", 1)[0])
        if read is not None:
            return AnswerReading(read[0], "parsed")
    bare = reader(answer)
    if bare is not None and _TRAILING.fullmatch(answer, bare[1]):
        return AnswerReading(bare[0], "parsed")
    folded = answer.casefold()
    if any(phrase.casefold() in folded for phrase in rules.refusals):
        return AnswerReading(None, "refused", "the judge declined to answer")
    if any(_same_line(line, example) for line in answer.splitlines()):
        return AnswerReading(None, "unparsable", "copied the prompt's example")
    return AnswerReading(None, "unparsable", f"no readable {rules.labels[0]!r} answer")


# -- value readers ----------------------------------------------------------------------

_CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                   "八": 8, "九": 9, "十": 10}  # fmt: skip
_OPENERS = r"[\s\"'“‘(\[{<「『【]*"
_NUMBER = r"(\d+|[一二两三四五六七八九十])(?![\d.]*\d)"
_OR = r"\s*(?:-|–|—|~|/|,|、|\bto\b|\bor\b|\band\b|或者?|到|至|和|与)\s*"


def score_reader(low: int, high: int) -> ValueReader[int]:
    """A whole number in ``low..high`` ("5", "5/7", "5 out of 7", "5分", "五"); a range
    or an alternative ("4-5", "5 or 6") is ambiguous, a number outside the scale wrong."""
    number = re.compile(
        rf"(?:of\b)?{_OPENERS}{_NUMBER}"
        rf"(?:\s*(?:/|out\s+of|分之?|points?|分)\s*(?:{high}(?!\d)|满分)?)?",
        re.IGNORECASE,
    )
    alternative = re.compile(rf"{_OR}{_NUMBER}", re.IGNORECASE)

    def read(text: str) -> tuple[int, int] | None:
        found = number.match(text)
        if found is None:
            return None
        token = found.group(1)
        value = _CHINESE_DIGITS.get(token) or (int(token) if token.isdigit() else 0)
        if not low <= value <= high or alternative.match(text, found.end()):
            return None
        return value, found.end()

    return read


_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】|「[^」]*」|《[^》]*》|<[^>]*>")
_LIST_START = re.compile(rf"{_OPENERS}#?\d")
_LIST_ITEM = re.compile(
    r"\s*(?:#?\d{1,4}(?![\d.]*\d)|[,;/&+、]|\band\b|和|及|与"
    r"|\([^)]*\)|\[[^\]]*\]|【[^】]*】|「[^」]*」|《[^》]*》)",
    re.IGNORECASE,
)
_LIST_NUMBER = re.compile(r"(?<![\d.])\d{1,4}(?![\d.]*\d)")


def numbers_reader(count: int, most: int) -> ValueReader[tuple[int, ...]]:
    """A list of numbers from ``1..count`` ("12, 7", "12 (work stress), 7", "12、7"):
    distinct, in order, at most ``most``; numbers outside the list are dropped."""

    def read(text: str) -> tuple[tuple[int, ...], int] | None:
        if _LIST_START.match(text) is None:
            return None
        end = 0
        while (step := _LIST_ITEM.match(text, end)) is not None and step.end() > end:
            end = step.end()
        chosen: list[int] = []
        for token in _LIST_NUMBER.findall(_BRACKETED.sub(" ", text[:end])):
            number = int(token)
            if 1 <= number <= count and number not in chosen:
                chosen.append(number)
        return (tuple(chosen[:most]), end) if chosen else None

    return read


def choice_reader(options: Iterable[str], prefixes: Iterable[str] = ()) -> ValueReader[str]:
    """One of ``options`` (case-insensitive), optionally after one of ``prefixes``
    ("Reply A", "回复B"); an alternative ("A or B", "A/B") is ambiguous."""
    names = sorted(options, key=len, reverse=True)
    choice = "|".join(re.escape(name) for name in names)
    words = "|".join(re.escape(word) for word in sorted(prefixes, key=len, reverse=True))
    prefix = rf"(?:(?:{words})\s*)?" if words else ""
    head = re.compile(
        rf"{_OPENERS}{prefix}{_OPENERS}{_LATIN_BEFORE}({choice}){_LATIN_AFTER}", re.IGNORECASE
    )
    alternative = re.compile(
        rf"{_OR}{prefix}{_LATIN_BEFORE}({choice}){_LATIN_AFTER}", re.IGNORECASE
    )

    def read(text: str) -> tuple[str, int] | None:
        found = head.match(text)
        if found is None or alternative.match(text, found.end()):
            return None
        picked = found.group(1).casefold()
        return next(name for name in names if name.casefold() == picked), found.end()

    return read


# -- cards ------------------------------------------------------------------------------


@cache
def _refusal_phrases(path: Path) -> tuple[str, ...]:
    data = read_toml(path, "refusal phrases")
    phrases: list[str] = []
    for language, value in data.items():
        phrases += string_list(value, path, language)
    return tuple(phrases)


def refusal_phrases(actors_dir: str | Path | None = None) -> tuple[str, ...]:
    """Every language's refusal phrases (``refusals.toml`` of ``actors_dir``, else the
    bundled one)."""
    path = Path(actors_dir) / "refusals.toml" if actors_dir is not None else None
    if path is None or not path.is_file():
        path = bundled_dir("actors") / "refusals.toml"
    return _refusal_phrases(path.resolve())


def load_answer_rules(
    data: dict[str, Any],
    path: Path,
    reader: ValueReader[Any],
    prompts: Iterable[str],
    *,
    actors_dir: str | Path | None = None,
) -> AnswerRules:
    """A card's ``[answer]`` table, checked: its labels, and an example line that the
    ``prompts`` show and that ``reader`` cannot take for an answer (placeholders)."""
    for key in data:
        if key.endswith("_pattern"):
            message = (
                "answer patterns are replaced by the [answer] table (labels, example; "
                "docs/evaluation.md#reading-the-judges-answers)"
            )
            raise ConfigError(message, file=str(path), field=key)
    table = data.get("answer")
    if not isinstance(table, dict):
        message = "expected an [answer] table with labels and example (docs/evaluation.md)"
        raise ConfigError(message, file=str(path), field="answer")
    labels = table.get("labels")
    if not (
        isinstance(labels, list)
        and labels
        and all(isinstance(label, str) and label.strip() for label in labels)
    ):
        message = "expected a list of non-empty strings"
        raise ConfigError(message, file=str(path), field="answer.labels")
    example = table.get("example")
    if not isinstance(example, str) or not example.strip():
        raise ConfigError("expected a non-empty string", file=str(path), field="answer.example")
    rules = AnswerRules(
        tuple(label.strip() for label in labels), example.strip(), refusal_phrases(actors_dir)
    )
    if not any(rules.example in text for text in prompts):
        message = "the prompt never shows this example line"
        raise ConfigError(message, file=str(path), field="answer.example")
    if read_answer(f"I copy the example.\n{rules.example}", rules, reader).ok:
        raise ConfigError(
            "the example would be read as an answer: show placeholders such as <score> "
            "where the value goes, not a value a judge could copy",
            file=str(path),
            field="answer.example",
        )
    return rules
