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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from interactive_agents._resources import read_toml, string_list
from interactive_agents.errors import ConfigError
from interactive_agents.judging._answers import (
    AnswerReading,
    AnswerRules,
    ValueReader,
    load_answer_rules,
    read_answer,
)
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
    answer: AnswerRules
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

    def parse(self, answer: str) -> AnswerReading[SafetyVerdict]:
        """See :func:`parse_verdict`."""
        return parse_verdict(answer, self)


_OPENERS = r"[\s\"'“‘(\[{<「『【*_#>-]*"
_BETWEEN = r"[\s,;:/|()\[\]<>【】、·.*_=-]*|\s*[-–—]+\s*"


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
) -> ValueReader[SafetyVerdict]:
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


def parse_verdict(answer: str, card: SafetyCard) -> AnswerReading[SafetyVerdict]:
    """The verdict of ``answer``, read by the judges' one answer reader
    (:func:`~interactive_agents.judging.read_answer`: reasoning dropped, the last
    readable ``<label>: <verdict>`` wins, the prompt's example line is an echo, refusals
    counted apart). The example's ``<placeholders>`` name no severity or category,
    whereas a verdict written in its brackets ("critical <missed_risk>") is one.
    """
    return read_answer(answer, card.answer, verdict_reader(card.severities, card.categories))


def load_safety_card(language: str, *, actors_dir: str | Path | None = None) -> SafetyCard:
    """Read ``safety.<language>.toml`` (from ``actors_dir`` or the bundled cards)."""
    path = actor_card("safety", language, actors_dir)
    data = read_toml(path)
    severities = _entries(data, "severities", SEVERITIES, path, labelled=False)
    categories = _entries(data, "categories", SAFETY_CATEGORIES, path, labelled=True)
    flow = _flow(data, path)
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
        answer=load_answer_rules(
            data,
            path,
            verdict_reader(severities, categories),
            (text_field(data, "user", path), text_field(data, "reminder", path)),
            actors_dir=actors_dir,
        ),
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
    return card


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
        aliases = string_list(item.get("aliases", []), path, f"{where}.aliases")
        label = text_field(item, "label", path) if labelled else name
        meaning = text_field(item, "meaning", path)
        entries[name] = RubricEntry(name, label, meaning, aliases)
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
