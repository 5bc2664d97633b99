"""How right the quality flags and the terminator are, measured against hand labels.

A labels file (JSON Lines) holds, per session, what a person read in its transcript::

    {"id": "d1", "labels": {"echo": true, "role_flip": false}, "closings": [5],
     "split": "held-out", "note": "the client copies the counselor"}

``labels`` names any of the quality flags (a flag left out is not measured on that
session); ``closings`` lists the indices of the turns that close the session (a farewell
after which it should end), when they were labelled; ``split`` and ``note`` are
optional. ``evaluate quality --labels FILE`` then reports, per flag, precision (of the
sessions flagged, the share labelled) and recall (of the sessions labelled, the share
flagged), over all labelled sessions and per split; and, per terminator mode, how many
labelled sessions it would have ended on a turn that is no closing (premature endings)
and how many closings it would have let pass. A figure without sessions to rest on is
NaN, never 0 or 1.

The labels must come from reading the sessions, not from the flags: a flag measured
against its own output is always right (tests/fixtures/quality_labels/GUIDE.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson

from interactive_agents.corpora._readers import Corpus
from interactive_agents.errors import InputError
from interactive_agents.method._quality import FLAG_NAMES, SessionQuality
from interactive_agents.method._terminator import TERMINATOR_MODES, TerminatorRules

ALL = "all"


@dataclass(frozen=True, slots=True)
class SessionLabels:
    """A person's reading of one session (see the module docstring)."""

    id: str
    flags: Mapping[str, bool]
    closings: tuple[int, ...] | None = None
    split: str | None = None


def read_labels(path: str | Path) -> list[SessionLabels]:
    """Every line of a labels file, checked: errors name the file, line and field."""
    source = Path(path)
    try:
        lines = source.read_bytes().splitlines()
    except OSError as exc:
        raise InputError(exc.strerror or "cannot be read", file=str(source)) from exc
    found: list[SessionLabels] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        found.append(_labels(line, str(source), number))
        if found[-1].id in seen:
            raise InputError("labelled twice", file=str(source), record=number, field="id")
        seen.add(found[-1].id)
    return found


def _labels(line: bytes, file: str, record: int) -> SessionLabels:
    def fail(message: str, field: str | None = None) -> InputError:
        return InputError(message, file=file, record=record, field=field)

    try:
        data: Any = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise fail(f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise fail("expected a JSON object")
    ident, flags = data.get("id"), data.get("labels")
    if not isinstance(ident, str) or not ident:
        raise fail("expected a non-empty string", "id")
    if not isinstance(flags, dict):
        raise fail("expected an object of flag names to true or false", "labels")
    for name, value in flags.items():
        if name not in FLAG_NAMES:
            raise fail(f"not a quality flag (known: {', '.join(FLAG_NAMES)})", f"labels.{name}")
        if not isinstance(value, bool):
            raise fail("expected true or false", f"labels.{name}")
    closings = data.get("closings")
    if closings is not None and not (
        isinstance(closings, list)
        and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in closings)
    ):
        raise fail("expected a list of turn indices", "closings")
    split = data.get("split")
    if split is not None and not isinstance(split, str):
        raise fail("expected a string", "split")
    return SessionLabels(ident, flags, None if closings is None else tuple(closings), split)


@dataclass(frozen=True, slots=True)
class FlagAccuracy:
    """One flag on the labelled sessions of one split: labelled and flagged counts."""

    flag: str
    split: str
    sessions: int
    labelled: int
    flagged: int
    agreed: int

    @property
    def precision(self) -> float:
        """Of the sessions flagged, the share labelled (NaN when none was flagged)."""
        return self.agreed / self.flagged if self.flagged else math.nan

    @property
    def recall(self) -> float:
        """Of the sessions labelled, the share flagged (NaN when none was labelled)."""
        return self.agreed / self.labelled if self.labelled else math.nan

    def as_dict(self) -> dict[str, Any]:
        precision, recall = self.precision, self.recall
        return {
            "flag": self.flag,
            "split": self.split,
            "sessions": self.sessions,
            "labelled": self.labelled,
            "flagged": self.flagged,
            "agreed": self.agreed,
            "precision": None if math.isnan(precision) else precision,
            "recall": None if math.isnan(recall) else recall,
        }


def _matched(
    flags: Mapping[str, SessionQuality], labels: Sequence[SessionLabels], file: str
) -> list[tuple[SessionLabels, SessionQuality]]:
    """Each label with its session's flags; a label of no session is an input error."""
    missing = [label.id for label in labels if label.id not in flags]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:3])
        raise InputError(f"{len(missing)} labelled sessions are in no corpus: {shown}", file=file)
    return [(label, flags[label.id]) for label in labels]


def flag_accuracy(
    flags: Mapping[str, SessionQuality],
    labels: Sequence[SessionLabels],
    *,
    file: str = "labels",
) -> list[FlagAccuracy]:
    """Every labelled flag over all labelled sessions, then per split (in file order);
    ``flags`` are the sessions' flags by dialogue id."""
    pairs = _matched(flags, labels, file)
    splits = [ALL, *dict.fromkeys(label.split for label in labels if label.split)]
    measured = []
    for split in splits:
        chosen = [(label, q) for label, q in pairs if split == ALL or label.split == split]
        for name in FLAG_NAMES:
            rows = [
                (label.flags[name], name in q.raised) for label, q in chosen if name in label.flags
            ]
            if not rows:
                continue
            measured.append(
                FlagAccuracy(
                    flag=name,
                    split=split,
                    sessions=len(rows),
                    labelled=sum(want for want, _ in rows),
                    flagged=sum(got for _, got in rows),
                    agreed=sum(want and got for want, got in rows),
                )
            )
    return measured


@dataclass(frozen=True, slots=True)
class TerminatorEndings:
    """One terminator mode replayed on the labelled sessions: ``ended`` of them it would
    end, ``premature`` on a counselor turn that is no closing, before any closing; of
    the ``closing`` sessions (a labelled counselor closing it may end on), ``missed`` it
    would not end at or before their first closing."""

    mode: str
    sessions: int
    closing: int
    ended: int
    premature: int
    missed: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "sessions": self.sessions,
            "closing": self.closing,
            "ended": self.ended,
            "premature": self.premature,
            "missed": self.missed,
        }


def terminator_endings(
    corpora: Sequence[Corpus],
    labels: Iterable[SessionLabels],
    terminators: Mapping[str, TerminatorRules],
    *,
    first_turn: int = 2,
) -> list[TerminatorEndings]:
    """Every terminator mode on the sessions whose closings are labelled.

    ``terminators`` are the terminator's rules per corpus name (each mode is tried with
    their phrases); a counselor turn is checked from counselor turn ``first_turn`` on, as
    a simulation does.
    """
    closings = {label.id: label.closings for label in labels if label.closings is not None}
    sessions = [
        (corpus.name, dialogue, set(closings[dialogue.id]))
        for corpus in corpora
        for dialogue in corpus.dialogues
        if dialogue.id in closings
    ]
    measured = []
    for mode in TERMINATOR_MODES:
        ended = premature = missed = closing = 0
        rules = {name: replace(found, mode=mode) for name, found in terminators.items()}
        for name, dialogue, closes in sessions:
            counselor = [i for i, u in enumerate(dialogue.turns) if u.role == "counselor"]
            checked = counselor[first_turn - 1 :]
            stop = next((i for i in checked if rules[name].check(dialogue.turns[i].content)), None)
            first_closing = next((i for i in checked if i in closes), None)
            closing += first_closing is not None
            if stop is not None:
                ended += 1
                too_soon = first_closing is None or stop < first_closing
                premature += stop not in closes and too_soon
            if first_closing is not None and (stop is None or stop > first_closing):
                missed += 1
        measured.append(TerminatorEndings(mode, len(sessions), closing, ended, premature, missed))
    return measured


@dataclass(frozen=True, slots=True)
class LabelledMeasures:
    """What ``evaluate quality --labels`` adds to its report."""

    labels: str
    flags: list[FlagAccuracy]
    terminator: list[TerminatorEndings]

    def as_dict(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "flags": [row.as_dict() for row in self.flags],
            "terminator": [row.as_dict() for row in self.terminator],
        }
