"""Arena battles (docs/method.md#arena-algorithm-2): one judge's choice between two bots' replies.

A battle names its bots in a fixed order (``bot_a``, ``bot_b``) and records separately
which candidate was *shown* first, so presentation-order bias can be studied without
touching the outcome: ``winner`` always refers to ``bot_a``/``bot_b``, never to the
position on screen. The arena keeps the choice of each order it judged
in ``choices`` (``{"ab": "a", "ba": "b"}``, sides again meaning ``bot_a``/``bot_b``), and
``length_a``/``length_b`` hold the two replies' lengths in tokens
(:func:`~interactive_agents.method._quality.text_tokens`): what the judge-bias statistics
of :mod:`.battle_reliability` read. ``refused`` lists the orders whose judge answer was a
refusal rather than merely unreadable (both are ``unparsable`` choices). ``both_bad``
marks a tie whose judge (a person, on the annotation platform) found both replies bad
rather than equally good; it is a tie for every rating. ``safety`` holds each reply's
severity from the safety judge (``{"a": "none", "b": "critical"}``, or ``unparsable``)
when the arena rated them, and ``gated`` says the safety gate decided ``winner``
(:mod:`.safety_gate`). All of these are optional, so files written before them (or by
hand, or by annotators) still read: ``choices`` empty means the battle is the one
judgement ``shown_order`` → ``winner``, and a length of None means not recorded.
Unparsable judgements are kept in the files (nothing generated is lost), left out of the
statistics by the readers of :mod:`ratings` and counted (:func:`judge_answers`).

Files are JSON Lines written with orjson, which serialises the dataclass natively.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, cast, get_args

import orjson

from interactive_agents.errors import InputError
from interactive_agents.judging._judgements import UnreadCounts
from interactive_agents.judging._safety_rubric import SEVERITIES

ShownOrder = Literal["ab", "ba"]
Winner = Literal["a", "b", "tie", "unparsable"]
SHOWN_ORDERS: tuple[str, ...] = get_args(ShownOrder)
WINNERS: tuple[str, ...] = get_args(Winner)


@dataclass(frozen=True, slots=True)
class Battle:
    """One selection of the arena: the judge preferred ``winner`` at this turn."""

    dialogue_id: str
    turn: int
    bot_a: str
    bot_b: str
    shown_order: ShownOrder
    winner: Winner
    judge: str
    reasoning: str = ""
    timestamp: float = 0.0
    rubric: str = ""  # fingerprint of the judge card and model (method/rubrics)
    choices: dict[ShownOrder, Winner] = field(default_factory=dict)
    length_a: int | None = None
    length_b: int | None = None
    both_bad: bool = False
    refused: tuple[ShownOrder, ...] = ()
    safety: dict[str, str] = field(default_factory=dict)
    gated: bool = False

    @property
    def usable(self) -> bool:
        """Whether the battle can enter ratings (the judge's choice could be read)."""
        return self.winner != "unparsable"

    @property
    def judgements(self) -> int:
        """The judge's answers this battle holds: one per presentation order."""
        return len(self.choices) or 1

    @property
    def unread(self) -> int:
        """The answers whose choice could not be read (unparsable or refused)."""
        if self.choices:
            return sum(1 for choice in self.choices.values() if choice == "unparsable")
        return 0 if self.usable else 1


def judge_answers(battles: Iterable[Battle]) -> UnreadCounts:
    """The judge's answers in these battles, and those unparsable or refused."""
    judgements = unread = refused = 0
    for battle in battles:
        judgements += battle.judgements
        unread += battle.unread
        refused += len(battle.refused)
    return UnreadCounts(judgements, unread - refused, refused)


@dataclass(slots=True)
class BattleBatch:
    """Battles read from files, plus the lines skipped as invalid."""

    battles: list[Battle] = field(default_factory=list)
    invalid: list[InputError] = field(default_factory=list)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value


def _any_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _turn(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a non-negative integer")
    return value


def _timestamp(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number (Unix seconds)")
    return float(value)


def _length(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("must be a non-negative integer (tokens) or null")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _choices(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not set(value) <= set(SHOWN_ORDERS):
        raise ValueError(f"must map shown orders ({', '.join(map(repr, SHOWN_ORDERS))}) to winners")
    check = _one_of(WINNERS)
    return {order: check(choice) for order, choice in value.items()}


def _refused(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not set(value) <= set(SHOWN_ORDERS):
        raise ValueError(f"must list shown orders ({', '.join(map(repr, SHOWN_ORDERS))})")
    return tuple(value)


def _safety(value: Any) -> dict[str, str]:
    severities = (*SEVERITIES, "unparsable")
    if not isinstance(value, dict) or not set(value) <= {"a", "b"}:
        raise ValueError("must map the sides 'a' and 'b' to severities")
    check = _one_of(severities)
    return {side: check(severity) for side, severity in value.items()}


def _one_of(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return cast(str, value)

    return check


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "dialogue_id": _text,
    "turn": _turn,
    "bot_a": _text,
    "bot_b": _text,
    "shown_order": _one_of(SHOWN_ORDERS),
    "winner": _one_of(WINNERS),
    "judge": _any_text,
    "reasoning": _any_text,
    "timestamp": _timestamp,
    "rubric": _any_text,
    "choices": _choices,
    "length_a": _length,
    "length_b": _length,
    "both_bad": _flag,
    "refused": _refused,
    "safety": _safety,
    "gated": _flag,
}
_OPTIONAL = frozenset(
    f.name for f in fields(Battle) if f.default is not MISSING or f.default_factory is not MISSING
)


def battle_from_mapping(data: Any, *, file: str, record: int) -> Battle:
    """Validate one decoded line; unknown keys are ignored so logs may carry extras."""
    if not isinstance(data, dict):
        raise InputError(
            f"expected a JSON object, got {type(data).__name__}", file=file, record=record
        )
    values: dict[str, Any] = {}
    for name, check in _CHECKS.items():
        if name not in data:
            if name in _OPTIONAL:
                continue
            raise InputError("missing required field", file=file, record=record, field=name)
        try:
            values[name] = check(data[name])
        except ValueError as exc:
            raise InputError(str(exc), file=file, record=record, field=name) from exc
    if values["bot_a"] == values["bot_b"]:
        raise InputError("a bot cannot battle itself", file=file, record=record, field="bot_b")
    if values.get("both_bad") and values["winner"] != "tie":
        raise InputError("only a tie can be 'both bad'", file=file, record=record, field="both_bad")
    return Battle(**values)


def read_battles(
    paths: str | Path | Iterable[str | Path], *, skip_invalid: bool = False
) -> BattleBatch:
    """Read battles from one or more JSONL files, in file order then line order.

    A bad line raises :class:`InputError` naming file, line number and field; with
    ``skip_invalid`` it is collected in ``invalid`` and the rest is read.
    """
    sources = [paths] if isinstance(paths, str | Path) else list(paths)
    batch = BattleBatch()
    for source in map(Path, sources):
        try:
            handle = source.open("rb")
        except OSError as exc:
            raise InputError(exc.strerror or "cannot be read", file=str(source)) from exc
        with handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    batch.battles.append(_parse_line(line, file=str(source), record=number))
                except InputError as error:
                    if not skip_invalid:
                        raise
                    batch.invalid.append(error)
    return batch


def _parse_line(line: bytes, *, file: str, record: int) -> Battle:
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc}", file=file, record=record) from exc
    return battle_from_mapping(data, file=file, record=record)


def write_battles(path: str | Path, battles: Iterable[Battle], *, append: bool = False) -> int:
    """Write battles as JSON Lines (appending if asked) and return how many were written."""
    count = 0
    with Path(path).open("ab" if append else "wb") as handle:
        for battle in battles:
            handle.write(orjson.dumps(battle, option=orjson.OPT_APPEND_NEWLINE))
            count += 1
    return count


def battle_rubrics(battles: Iterable[Battle]) -> dict[str, str]:
    """Which rubric (judge card and model) judged which battles, as ``{"judge=model,
    rubric=…": rubric}``; human battles carry no rubric and are left out."""
    found: dict[str, str] = {}
    for battle in battles:
        if battle.rubric:
            found.setdefault(f"judge {battle.judge}, rubric {battle.rubric}", battle.rubric)
    return found
