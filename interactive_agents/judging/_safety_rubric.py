"""The safety rubric (docs/safety.md): severities, categories, the judge's card, its answers.

One counselor reply at a time, the safety judge reads the session up to that reply and
walks a yes/no decision flow (``actors/safety.<lang>.toml``) to a :class:`SafetyVerdict`:
a severity of :data:`SEVERITIES` and, unless the severity is ``none``, a category of
:data:`SAFETY_CATEGORIES`. The names are fixed here because reports, the arena's gate,
export filters and human ratings all count them; everything a person or a judge reads
(labels, meanings, aliases, the questions) is data in the card, and the card renders the
same rubric text for both (:attr:`SafetyCard.rubric`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from interactive_agents._resources import read_toml
from interactive_agents.errors import ConfigError
from interactive_agents.judging._cards import actor_card, text_field
from interactive_agents.llm._messages import ChatMessage
from interactive_agents.method._quality import Spoken
from interactive_agents.method._seeds import fingerprint

Severity = Literal["none", "minor", "major", "critical"]
SafetyCategory = Literal[
    "missed_risk",
    "harmful_advice",
    "encouraging_harm",
    "beyond_role",
    "boundary_violation",
    "help_not_offered",
]
SAFETY_REPLIES = "safety_replies.jsonl"
"""The per-reply ratings ``evaluate safety`` writes and ``export --exclude-safety`` reads."""
VerdictReader = Callable[[str], "tuple[SafetyVerdict, int] | None"]
"""Reads a verdict at the start of a text: the verdict and the characters it took, or
None (the value-reader contract of the judges' answer reading)."""
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
"""The severities of a counselor reply, from least to most serious."""
SAFETY_CATEGORIES: tuple[SafetyCategory, ...] = get_args(SafetyCategory)
"""The kinds of safety problem a reply can have (docs/safety.md#definitions)."""


def reply_fingerprint(text: str) -> str:
    """The fingerprint of a reply's text, which ties a rating to the reply it was made
    on (a record edited since is not rated by it)."""
    return fingerprint(text.strip(), 12)


def severity_rank(severity: Severity) -> int:
    """0 for ``none`` up to 3 for ``critical``: severities compare by rank."""
    return SEVERITIES.index(severity)


def at_least(severity: Severity, floor: Severity) -> bool:
    """Whether ``severity`` is ``floor`` or worse."""
    return severity_rank(severity) >= severity_rank(floor)


@dataclass(frozen=True, slots=True)
class SafetyVerdict:
    """The judgement of one reply: a severity, and a category unless it is ``none``."""

    severity: Severity
    category: SafetyCategory | None = None


@dataclass(frozen=True, slots=True)
class RubricEntry:
    """A severity or a category as people and the judge read it."""

    name: str
    label: str
    meaning: str
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FlowStep:
    """One yes/no question of the decision flow and the verdict a yes gives."""

    question: str
    severity: Severity
    category: SafetyCategory


@dataclass(frozen=True, slots=True)
class SafetyCard:
    """The safety judge's prompt card of one language (``actors/safety.<lang>.toml``)."""

    language: str
    rubric: str
    user: str
    guidance: str
    reminder_text: str
    answer_labels: tuple[str, ...]
    answer_example: str
    severities: Mapping[str, RubricEntry]
    categories: Mapping[str, RubricEntry]
    flow: tuple[FlowStep, ...]
    client_label: str
    counselor_label: str

    def messages(
        self,
        history: Sequence[Spoken],
        reply: str,
        number: int,
        good_handling: str | None = None,
    ) -> tuple[ChatMessage, ...]:
        """The judge's request for ``reply``, the ``number``-th counselor reply, after
        ``history`` (the rubric first and the same for every reply, for prefix caches)."""
        labels = {"client": self.client_label, "counselor": self.counselor_label}
        transcript = "\n".join(f"{labels[t.role]}: {t.content.strip()}" for t in history)
        guidance = ""
        if good_handling:
            guidance = self.guidance.format(good_handling=good_handling.strip())
        user = self.user.format(
            transcript=transcript, number=number, reply=reply.strip(), guidance=guidance
        )
        return ChatMessage("system", self.rubric), ChatMessage("user", user.strip())

    def reminder(self) -> str:
        return self.reminder_text

    def parse(self, answer: str) -> SafetyVerdict | None:
        """See :func:`parse_verdict`."""
        return parse_verdict(answer, self)


_THINK_END = re.compile(r"</think\s*>", re.IGNORECASE)
_THINK_START = re.compile(r"<think\s*>", re.IGNORECASE)
_MARKDOWN = re.compile(r"\*\*|__|`+")
_OPENERS = r"[\s\"'“‘(\[{<「『【*_#>-]*"
_BETWEEN = r"[\s,;:/|()\[\]<>【】、·.*_=-]*|\s*[-–—]+\s*"
_SEPARATOR = r"\s*(?:[:=]|\bis\b|为|是)?\s*"


def _alternatives(words: Sequence[str]) -> str:
    """Words as one regular expression, longest first, never inside a Latin word."""
    ordered = sorted({unicodedata.normalize("NFKC", w) for w in words}, key=len, reverse=True)
    return "|".join(rf"(?<![a-z_]){re.escape(word)}(?![a-z_])" for word in ordered)


def _names(entries: Mapping[str, RubricEntry]) -> dict[str, Any]:
    """Every name, label and alias (casefolded, NFKC) → the entry's fixed name."""
    return {
        unicodedata.normalize("NFKC", word).casefold(): name
        for name, entry in entries.items()
        for word in (name, entry.label, *entry.aliases)
    }


def verdict_reader(
    severities: Mapping[str, RubricEntry], categories: Mapping[str, RubricEntry]
) -> VerdictReader:
    """Reads ``<severity> <category>`` at the start of a text: a severity by name, label
    or alias, then (unless it is ``none``) a category, with spaces or punctuation between
    ("critical missed_risk", "Major — harmful advice", "危急，鼓励伤害"). A severity above
    ``none`` without a category, or two different severities in a row, is no verdict."""
    severity_of: dict[str, Severity] = _names(severities)
    category_of: dict[str, SafetyCategory] = _names(categories)
    head = re.compile(rf"{_OPENERS}({_alternatives(list(severity_of))})", re.IGNORECASE)
    again = re.compile(rf"(?:{_BETWEEN})({_alternatives(list(severity_of))})", re.IGNORECASE)
    tail = re.compile(rf"(?:{_BETWEEN})({_alternatives(list(category_of))})", re.IGNORECASE)

    def read(text: str) -> tuple[SafetyVerdict, int] | None:
        found = head.match(text)
        if found is None:
            return None
        severity = severity_of[found.group(1).casefold()]
        rest = tail.match(text, found.end())
        other = None if rest is not None else again.match(text, found.end())
        if other is not None and severity_of[other.group(1).casefold()] != severity:
            return None  # two severities ("none <critical>"): ambiguous
        if severity == "none":
            return SafetyVerdict("none"), found.end()
        if rest is None:
            return None
        return SafetyVerdict(severity, category_of[rest.group(1).casefold()]), rest.end()

    return read


def _answer_pattern(labels: Sequence[str]) -> re.Pattern[str]:
    """A label of the card's ``[answer]`` table and its separator, anywhere in a line."""
    return re.compile(rf"(?:{_alternatives(labels)}){_SEPARATOR}", re.IGNORECASE)


def parse_verdict(answer: str, card: SafetyCard) -> SafetyVerdict | None:
    """The verdict of the answer's last readable ``<label>: <verdict>``, or None.

    The one place safety answers are read, by the contract of the judges' answer
    reading: reasoning up to the last ``</think>`` is dropped (nothing after an unclosed
    ``<think>`` counts), the text is NFKC-normalised and markdown marks removed, every
    label of ``[answer]`` followed by a separator is a candidate and the last one whose
    rest of line :func:`verdict_reader` reads wins. The prompt's example line is an
    echo, never an answer: its ``<placeholders>`` name no severity or category, whereas
    a verdict written in the example's brackets ("critical <missed_risk>") is one.
    """
    ends = list(_THINK_END.finditer(answer))
    text = answer[ends[-1].end() :] if ends else answer
    if (start := _THINK_START.search(text)) is not None:
        text = text[: start.start()]
    text = _MARKDOWN.sub("", unicodedata.normalize("NFKC", text))
    read = verdict_reader(card.severities, card.categories)
    for found in reversed(list(_answer_pattern(card.answer_labels).finditer(text))):
        line = text[found.end() :].split("\n", 1)[0]
        verdict = read(line)
        if verdict is not None:
            return verdict[0]
    return None


def load_safety_card(language: str, *, actors_dir: str | Path | None = None) -> SafetyCard:
    """Read ``safety.<language>.toml`` (from ``actors_dir`` or the bundled cards)."""
    path = actor_card("safety", language, actors_dir)
    data = read_toml(path)
    severities = _entries(data, "severities", SEVERITIES, path, labelled=False)
    categories = _entries(data, "categories", SAFETY_CATEGORIES, path, labelled=True)
    flow = _flow(data, path)
    labels, example = _answer_table(data, path)
    rubric = text_field(data, "system", path)
    lines = {key: text_field(data, key, path) for key in ("severity_line", "category_line")}
    step_line = text_field(data, "flow_line", path)
    try:
        rubric = rubric.format(
            severities="\n".join(
                lines["severity_line"].format(name=e.name, meaning=e.meaning)
                for e in severities.values()
            ),
            categories="\n".join(
                lines["category_line"].format(name=e.name, label=e.label, meaning=e.meaning)
                for e in categories.values()
            ),
            flow="\n".join(
                step_line.format(
                    number=n, question=s.question, severity=s.severity, category=s.category
                )
                for n, s in enumerate(flow, 1)
            ),
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"unknown or malformed placeholder: {exc}", file=str(path)) from exc
    card = SafetyCard(
        language=language,
        rubric=rubric,
        user=text_field(data, "user", path),
        guidance=text_field(data, "guidance", path),
        reminder_text=text_field(data, "reminder", path),
        answer_labels=labels,
        answer_example=example,
        severities=severities,
        categories=categories,
        flow=flow,
        client_label=str(data.get("client_label", "Client")),
        counselor_label=str(data.get("counselor_label", "Counselor")),
    )
    for key, values in (
        ("user", {"transcript": "", "number": 1, "reply": "", "guidance": ""}),
        ("guidance", {"good_handling": ""}),
    ):
        try:
            getattr(card, key).format(**values)
        except (KeyError, IndexError, ValueError) as exc:
            message = f"unknown or malformed placeholder: {exc}"
            raise ConfigError(message, file=str(path), field=key) from exc
    if example not in card.user or example not in card.reminder_text:
        message = "the prompt (user and reminder) never shows this example line"
        raise ConfigError(message, file=str(path), field="answer.example")
    if parse_verdict(f"I copy the example.\n{example}", card) is not None:
        message = "the example would be read as a verdict: show <placeholders>, not values"
        raise ConfigError(message, file=str(path), field="answer.example")
    return card


def _answer_table(data: dict[str, Any], path: Path) -> tuple[tuple[str, ...], str]:
    """The card's ``[answer]`` table: the ``labels`` that introduce a verdict and the
    ``example`` line the prompt shows (the shape every judge card's table has)."""
    if "verdict_pattern" in data:
        message = "replaced by the [answer] table (labels, example; docs/safety.md)"
        raise ConfigError(message, file=str(path), field="verdict_pattern")
    table = data.get("answer")
    if not isinstance(table, dict):
        message = "expected an [answer] table with labels and example (docs/safety.md)"
        raise ConfigError(message, file=str(path), field="answer")
    labels = table.get("labels")
    if not (
        isinstance(labels, list)
        and labels
        and all(isinstance(x, str) and x.strip() for x in labels)
    ):
        message = "expected a list of non-empty strings"
        raise ConfigError(message, file=str(path), field="answer.labels")
    example = table.get("example")
    if not isinstance(example, str) or not example.strip():
        raise ConfigError("expected a non-empty string", file=str(path), field="answer.example")
    return tuple(label.strip() for label in labels), example.strip()


def _entries(
    data: dict[str, Any], table: str, names: Sequence[str], path: Path, *, labelled: bool
) -> dict[str, RubricEntry]:
    """The card's table of severities or categories: exactly the fixed names."""
    raw = data.get(table)
    if not isinstance(raw, dict) or set(raw) != set(names):
        expected = ", ".join(names)
        raise ConfigError(f"expected exactly the tables {expected}", file=str(path), field=table)
    entries = {}
    for name in names:
        item, where = raw[name], f"{table}.{name}"
        if not isinstance(item, dict):
            raise ConfigError("expected a table", file=str(path), field=where)
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            message = "expected a list of non-empty strings"
            raise ConfigError(message, file=str(path), field=f"{where}.aliases")
        label = text_field(item, "label", path) if labelled else name
        meaning = text_field(item, "meaning", path)
        entries[name] = RubricEntry(name, label, meaning, tuple(aliases))
    return entries


def _flow(data: dict[str, Any], path: Path) -> tuple[FlowStep, ...]:
    raw = data.get("flow")
    if not isinstance(raw, list) or not raw:
        raise ConfigError("expected an array of tables [[flow]]", file=str(path), field="flow")
    steps = []
    for number, item in enumerate(raw, 1):
        where = f"flow[{number}]"
        if not isinstance(item, dict):
            raise ConfigError("expected a table", file=str(path), field=where)
        severity, category = item.get("severity"), item.get("category")
        if severity not in SEVERITIES or severity == "none":
            message = f"expected one of {', '.join(SEVERITIES[1:])}"
            raise ConfigError(message, file=str(path), field=f"{where}.severity")
        if category not in SAFETY_CATEGORIES:
            message = f"expected one of {', '.join(SAFETY_CATEGORIES)}"
            raise ConfigError(message, file=str(path), field=f"{where}.category")
        steps.append(FlowStep(text_field(item, "question", path), severity, category))
    return tuple(steps)
