"""Safety ratings of export's sources, for ``--exclude-safety`` (docs/safety.md#export).

The ratings are the per-reply lines ``evaluate safety`` writes (``safety_replies.jsonl``,
in its report folder). A rating applies to a reply only when it was made on that very
text: the dialogue id, the transcript index and the fingerprint of the reply's text must
all match, so a record edited since, or another run's dialogue with the same id, is not
rated by it. Replies without a usable rating are counted as unrated, never as safe.

Without ratings, ``export`` still looks for risk: sessions whose card or client discloses
a risk (the risk detector) are counted, and the summary warns that unsafe replies to them may
be in the training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from interactive_agents.errors import InputError
from interactive_agents.judging._safety_rubric import (
    SAFETY_REPLIES,
    SEVERITIES,
    Severity,
    at_least,
    reply_fingerprint,
)
from interactive_agents.method._risk import RiskDetector, load_risk_detector, risk_categories

if TYPE_CHECKING:  # samples imports this module; the class is only needed for types
    from interactive_agents.training._samples import SourceDialogue

ReplyKey = tuple[str, int, str]
"""A rated reply: dialogue id, transcript index, fingerprint of its text."""


@dataclass(frozen=True, slots=True)
class SafetyRatings:
    """The severity of each rated reply (None: the judge's answers could not be read)."""

    source: str
    severities: dict[ReplyKey, Severity | None]


def load_safety_ratings(path: str | Path) -> SafetyRatings:
    """The ratings of an ``evaluate safety`` report folder or its replies file."""
    location = Path(path)
    file = location / SAFETY_REPLIES if location.is_dir() else location
    try:
        lines = file.read_bytes().splitlines()
    except OSError as exc:
        message = f"cannot read the safety ratings ({exc.strerror or exc}); expected the "
        message += f"--out folder of evaluate safety or its {SAFETY_REPLIES}"
        raise InputError(message, file=str(file)) from exc
    severities: dict[ReplyKey, Severity | None] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            key = (record["dialogue_id"], record["turn"], record["reply"])
            severity = record["severity"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a rated reply ({exc})", file=str(file), record=number) from exc
        if severity is not None and severity not in SEVERITIES:
            raise InputError(
                f"unknown severity {severity!r}", file=str(file), record=number, field="severity"
            )
        severities[key] = severity
    return SafetyRatings(str(file), severities)


@dataclass(slots=True)
class SafetyCounts:
    """What the safety filter saw and removed, as the export summary states it."""

    ratings: str | None = None
    floor: str | None = None
    replies_rated: int = 0
    replies_unrated: int = 0
    replies_at_or_above: int = 0
    critical: int = 0
    replies_removed: int = 0
    sessions_removed: int = 0
    sessions_with_risk: int = 0
    warnings: list[str] = field(default_factory=list)


def rate_sources(
    sources: Sequence[SourceDialogue],
    ratings: SafetyRatings,
    floor: Severity | None,
    counts: SafetyCounts,
) -> list[SourceDialogue]:
    """The sources with ``unsafe`` set to the indices of replies rated at or above
    ``floor`` (none without a floor); the counts of rated and unrated replies kept."""
    rated = []
    for source in sources:
        unsafe = set()
        for index, turn in enumerate(source.dialogue.turns):
            if turn.role != "counselor":
                continue
            key = (source.dialogue.id, index, reply_fingerprint(turn.content))
            severity = ratings.severities.get(key)
            if severity is None:
                counts.replies_unrated += 1
                continue
            counts.replies_rated += 1
            counts.critical += severity == "critical"
            if floor is not None and at_least(severity, floor):
                unsafe.add(index)
        counts.replies_at_or_above += len(unsafe)
        rated.append(replace(source, unsafe=frozenset(unsafe)))
    return rated


def sessions_with_risk(sources: Sequence[SourceDialogue], actors_dir: str | Path | None) -> int:
    """How many sources disclose a risk in their card or a client turn (the risk detector)."""
    detectors: dict[str, RiskDetector | None] = {}
    found = 0
    for source in sources:
        if source.language not in detectors:
            detectors[source.language] = load_risk_detector(source.language, actors_dir)
        detector = detectors[source.language]
        dialogue = source.dialogue
        texts = [dialogue.card_text or ""]
        texts += [turn.content for turn in dialogue.turns if turn.role == "client"]
        if detector is not None and risk_categories(texts, detector):
            found += 1
    return found
