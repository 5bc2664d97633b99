"""A judge's results, whatever wrote them, as the ratings ``agreement`` compares.

* ``wai.json`` of ``evaluate wai``: each session's raw score of each statement as worded
  (items 4 and 10 are *not* reversed, as people rate them as worded too); with several
  rounds, the median of the parsed rounds (the lower middle one when their number is
  even, so it is always a score the judge gave); no parsed round: no value;
* ``topics.json`` of ``evaluate topics``: each session's topics; with several rounds,
  the topics chosen in more than half of the parsed rounds;
* ``safety_replies.jsonl`` of ``evaluate safety``: each counselor reply's severity and
  category (``none`` when the severity is), as the judge's rounds settled them; a reply
  no round could rate: no value;
* a battles file (JSON Lines of the arena or of ``annotate export``);
* a ratings file (JSON Lines, :mod:`.rating_records`): any other judge's ratings.

Sessions are named by the report's corpus name and dialogue id, as people's are.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from interactive_agents.arena._battles import Battle, read_battles
from interactive_agents.errors import InputError
from interactive_agents.judging import SAFETY_CATEGORIES, SEVERITIES
from interactive_agents.ratings._rating_records import Level, Rating, read_ratings

WAI_SCALE = tuple(range(1, 8))
SEVERITY_SCALE: tuple[str, ...] = SEVERITIES
CATEGORY_SCALE: tuple[str, ...] = ("none", *SAFETY_CATEGORIES)
"""A reply's category as people rate it: ``none`` goes with the severity ``none``."""


@dataclass(frozen=True, slots=True)
class JudgeResults:
    """What one file holds: ratings, or battles (then ``ratings`` is empty)."""

    source: str
    ratings: list[Rating] = field(default_factory=list)
    battles: list[Battle] = field(default_factory=list)
    skipped: int = 0
    model: str = ""

    @property
    def kind(self) -> str:
        return "battles" if self.battles else "ratings"


def read_judge_results(path: str | Path, *, skip_invalid: bool = False) -> JudgeResults:
    """The results in ``path``, their layout detected (see the module's docstring)."""
    source = Path(path)
    head = _first_line(source)
    if head.lstrip().startswith(b"{") and _is_report(source):
        return _report(source)
    try:
        first = orjson.loads(head) if head.strip() else {}
    except orjson.JSONDecodeError:
        first = {}
    if isinstance(first, dict) and "winner" in first:
        batch = read_battles(source, skip_invalid=skip_invalid)
        return JudgeResults(str(source), battles=batch.battles, skipped=len(batch.invalid))
    if isinstance(first, dict) and {"number", "severity", "rounds"} <= set(first):
        return _safety_replies(source, skip_invalid=skip_invalid)
    ratings, skipped = read_ratings(source, skip_invalid=skip_invalid)
    return JudgeResults(str(source), ratings=ratings, skipped=skipped)


def _first_line(source: Path) -> bytes:
    try:
        with source.open("rb") as handle:
            for line in handle:
                if line.strip():
                    return line
    except OSError as exc:
        raise InputError(exc.strerror or "cannot be read", file=str(source)) from exc
    raise InputError("the file is empty", file=str(source))


def _is_report(source: Path) -> bool:
    """A whole-file JSON document (an evaluate report), not JSON Lines."""
    try:
        document = orjson.loads(source.read_bytes())
    except orjson.JSONDecodeError:
        return False
    return isinstance(document, dict) and "command" in document


def _report(source: Path) -> JudgeResults:
    document: dict[str, Any] = orjson.loads(source.read_bytes())
    command = document.get("command")
    model = str(document.get("settings", {}).get("model", ""))
    rater = f"judge:{model}" if model else f"judge:{source}"
    try:
        if command == "wai":
            ratings = _wai_ratings(document, rater)
        elif command == "topics":
            ratings = _topic_ratings(document, rater)
        else:
            raise InputError(
                f"a report of evaluate {command!r}: agreement reads wai.json, topics.json "
                "and the safety_replies.jsonl of evaluate safety",
                file=str(source),
                field="command",
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a report of evaluate {command}: {exc!r}", file=str(source)) from exc
    return JudgeResults(str(source), ratings=ratings, model=model)


def _wai_ratings(document: dict[str, Any], rater: str) -> list[Rating]:
    ratings = []
    for corpus in document["corpora"]:
        for dialogue in corpus["scores"]:
            for item in dialogue["items"]:
                parsed = [score for score in item["rounds"] if score is not None]
                ratings.append(
                    Rating(
                        corpus=str(corpus["corpus"]),
                        dialogue_id=str(dialogue["dialogue_id"]),
                        rater=rater,
                        rubric="wai",
                        item=f"wai-{int(item['item'])}",
                        level="ordinal",
                        scale=WAI_SCALE,
                        value=int(statistics.median_low(parsed)) if parsed else None,
                    )
                )
    return ratings


def _topic_ratings(document: dict[str, Any], rater: str) -> list[Rating]:
    ratings = []
    for corpus in document["corpora"]:
        options = tuple(str(topic) for topic in corpus["distribution"])
        for dialogue in corpus["assignments"]:
            parsed: list[Sequence[str]] = [r for r in dialogue["rounds"] if r is not None]
            counts = Counter(topic for chosen in parsed for topic in set(chosen))
            majority = tuple(t for t in options if counts[t] * 2 > len(parsed))
            ratings.append(
                Rating(
                    corpus=str(corpus["corpus"]),
                    dialogue_id=str(dialogue["dialogue_id"]),
                    rater=rater,
                    rubric="topics",
                    item="topics",
                    level="set",
                    scale=options,
                    value=majority if parsed else None,
                )
            )
    return ratings


def _safety_replies(source: Path, *, skip_invalid: bool) -> JudgeResults:
    """``safety_replies.jsonl``: per reply, the judge's severity and its category."""
    ratings: list[Rating] = []
    skipped = 0
    rater = f"judge:{source}"
    with source.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                ratings += _safety_reply(orjson.loads(line), rater)
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                if not skip_invalid:
                    message = f"not a line of safety_replies.jsonl: {exc!r}"
                    raise InputError(message, file=str(source), record=number) from exc
                skipped += 1
    return JudgeResults(str(source), ratings=ratings, skipped=skipped)


def _safety_reply(line: dict[str, Any], rater: str) -> list[Rating]:
    severity, category = line["severity"], line.get("category")
    if severity is not None and severity not in SEVERITY_SCALE:
        raise ValueError(f"unknown severity {severity!r}")
    if severity is not None:
        category = "none" if severity == "none" else category
        if category not in CATEGORY_SCALE:
            raise ValueError(f"unknown category {category!r}")
    reply = int(line["number"])
    if reply < 1:
        raise ValueError("a reply's number starts at 1")
    corpus, dialogue_id = str(line["corpus"]), str(line["dialogue_id"])

    def rating(item: str, level: Level, scale: tuple[str, ...], value: str | None) -> Rating:
        return Rating(corpus, dialogue_id, rater, "safety", item, level, scale, value, reply=reply)

    return [
        rating("severity", "ordinal", SEVERITY_SCALE, severity),
        rating("category", "nominal", CATEGORY_SCALE, None if severity is None else category),
    ]
