"""Ratings of sessions on a rubric: one rater's value for one rubric item of one session
(or of one counselor reply of it).

The one format of people's ratings (``annotate export --task``) and of a judge's when
they are compared (``agreement``): JSON Lines, one rating per line, each line saying
what it needs to be read alone::

    {"task": "wai-pilot", "rubric": "wai", "fingerprint": "…", "corpus": "run-a",
     "dialogue_id": "c017", "rater": "human:ana", "item": "wai-3", "level": "ordinal",
     "scale": [1, 2, 3, 4, 5, 6, 7], "value": 5, "length": 412, "timestamp": 1733490000.0}

``level`` is how the values compare: ``ordinal`` (ordered, ``scale`` lists them in
order: the WAI-O-S scores, safety severities), ``nominal`` (unordered categories) or
``set`` (several of ``scale`` at once: the topics). ``value`` is one of ``scale``, a
list of them for ``set``, or null when a judge gave no readable value (counted, never
guessed). ``length`` is the session's length in tokens (Han characters and words, as
the quality flags count them), which the judge's length bias is measured against; null
where unknown. A session is named by ``corpus`` and ``dialogue_id`` as ``evaluate`` names it,
so people's ratings line up with the judge's report on the same corpus. A rubric rated
reply by reply (the safety severities) adds ``reply``, the counselor reply's number in
the session (1 for the first), as ``evaluate safety`` numbers them; absent otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import orjson

from interactive_agents.errors import InputError

Level = Literal["ordinal", "nominal", "set"]
LEVELS: tuple[str, ...] = get_args(Level)
Value = int | str | tuple[int | str, ...]


@dataclass(frozen=True, slots=True)
class Rating:
    """One rater's value for one rubric item of one session (None: no readable value)."""

    corpus: str
    dialogue_id: str
    rater: str
    rubric: str
    item: str
    level: Level
    scale: tuple[int | str, ...]
    value: Value | None
    task: str = ""
    fingerprint: str = ""
    length: int | None = None
    timestamp: float = 0.0
    reply: int | None = None

    @property
    def session(self) -> tuple[str, ...]:
        """What was rated: the session, or the session and the reply's number."""
        if self.reply is None:
            return self.corpus, self.dialogue_id
        return self.corpus, self.dialogue_id, str(self.reply)

    def as_json(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {
            "task": self.task,
            "rubric": self.rubric,
            "fingerprint": self.fingerprint,
            "corpus": self.corpus,
            "dialogue_id": self.dialogue_id,
            **({} if self.reply is None else {"reply": self.reply}),
            "rater": self.rater,
            "item": self.item,
            "level": self.level,
            "scale": list(self.scale),
            "value": value,
            "length": self.length,
            "timestamp": self.timestamp,
        }


def write_ratings(path: str | Path, ratings: Iterable[Rating]) -> int:
    """Write ratings as JSON Lines; returns how many were written."""
    count = 0
    with Path(path).open("wb") as handle:
        for rating in ratings:
            handle.write(orjson.dumps(rating.as_json(), option=orjson.OPT_APPEND_NEWLINE))
            count += 1
    return count


def read_ratings(path: str | Path, *, skip_invalid: bool = False) -> tuple[list[Rating], int]:
    """The ratings of a JSON Lines file, and how many bad lines were skipped.

    A bad line raises :class:`InputError` naming the file, the line and the field,
    unless ``skip_invalid``.
    """
    ratings: list[Rating] = []
    skipped = 0
    for number, data in _lines(Path(path)):
        try:
            ratings.append(rating_from_mapping(data, file=str(path), record=number))
        except InputError:
            if not skip_invalid:
                raise
            skipped += 1
    return ratings, skipped


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(exc.strerror or "cannot be read", file=str(path)) from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield number, _Unreadable(str(exc))


@dataclass(frozen=True, slots=True)
class _Unreadable:
    error: str


def rating_from_mapping(data: Any, *, file: str, record: int) -> Rating:
    """Validate one decoded line (unknown keys are ignored)."""

    def fail(message: str, field: str | None = None) -> InputError:
        return InputError(message, file=file, record=record, field=field)

    if isinstance(data, _Unreadable):
        raise fail(f"not valid JSON: {data.error}")
    if not isinstance(data, dict):
        raise fail(f"expected a JSON object, got {type(data).__name__}")
    texts = {}
    for name in ("corpus", "dialogue_id", "rater", "rubric", "item"):
        value = data.get(name)
        if not isinstance(value, str) or not value:
            raise fail("expected a non-empty string", name)
        texts[name] = value
    level = data.get("level")
    if level not in LEVELS:
        raise fail(f"must be one of {', '.join(LEVELS)}", "level")
    scale = data.get("scale")
    if not isinstance(scale, list) or not scale or not all(_atom(v) for v in scale):
        raise fail("expected a non-empty list of numbers or strings", "scale")
    length = data.get("length")
    if length is not None and (not _atom(length) or isinstance(length, str) or length < 0):
        raise fail("expected a non-negative integer or null", "length")
    reply = data.get("reply")
    if reply is not None and (not _atom(reply) or isinstance(reply, str) or reply < 1):
        raise fail("expected a positive integer or null", "reply")
    return Rating(
        **texts,
        level=level,
        scale=tuple(scale),
        value=_value(data.get("value"), level, scale, fail),
        task=str(data.get("task", "")),
        fingerprint=str(data.get("fingerprint", "")),
        length=length,
        timestamp=float(data.get("timestamp", 0.0) or 0.0),
        reply=reply,
    )


def _atom(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _value(value: Any, level: str, scale: list[Any], fail: Any) -> Value | None:
    if value is None:
        return None
    if level == "set":
        if not isinstance(value, list) or not all(v in scale for v in value):
            raise fail("expected a list of values of 'scale'", "value")
        return tuple(sorted(set(value), key=scale.index))
    if not _atom(value) or value not in scale:
        raise fail(f"{value!r} is not in 'scale'", "value")
    return value  # type: ignore[no-any-return]
