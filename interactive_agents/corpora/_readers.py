"""Dialogue corpora for evaluation, read from the three layouts sessions come in.

* an engine run directory (a folder holding ``dialogues.jsonl``), or that file itself;
* ShareGPT / OpenAI ``messages`` records (a JSON list or JSON Lines; ``system`` is
  ignored, ``user`` is the client, ``assistant`` the counselor);
* the reference's raw layout: one JSON list of ``{"role", "content"}`` per dialogue.

The layout is detected per file (a list of ``role`` objects is one raw dialogue) and per
record (``turns`` means an engine record, ``messages`` a ShareGPT one), so a folder may
mix them. Every problem raises :class:`~interactive_agents.errors.InputError` naming
file, record (line number in JSON Lines, index in a JSON list) and field; with
``skip_invalid`` the bad record is left out and its message kept in ``Corpus.skipped``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import orjson

from interactive_agents._resources import natural_key
from interactive_agents.errors import InputError
from interactive_agents.method._card_text import card_language, card_text
from interactive_agents.method._records import Role


@dataclass(frozen=True, slots=True)
class Utterance:
    """One thing one party said."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Dialogue:
    """One session; ``card_text`` is the role card as text, when it is known.

    ``quality`` is the quality-flag document an engine record carries when its run
    computed the flags (``simulate --quality-flags``), as read; whether it can be used
    is :class:`~interactive_agents.method._quality.Flagger`'s decision.
    ``good_handling`` is the card's note on what good handling of this client looks
    like, when it has one (the crisis cards), for the safety judge. ``language`` is the
    language an engine record states (``zh``, ``en``), None when it states none.
    """

    id: str
    turns: tuple[Utterance, ...]
    card_text: str | None = None
    card_id: str | None = None
    quality: object = field(default=None, compare=False, repr=False)
    good_handling: str | None = None
    language: str | None = None

    def client_text(self) -> str:
        """S of docs/method.md (Eq. 1): every client utterance, one per line."""
        return "\n".join(u.content for u in self.turns if u.role == "client")


@dataclass(frozen=True, slots=True)
class Corpus:
    """A named set of dialogues and the messages of the records skipped as invalid."""

    name: str
    dialogues: tuple[Dialogue, ...]
    skipped: tuple[str, ...] = ()


def load_corpus(path: str | Path, *, name: str | None = None, skip_invalid: bool = False) -> Corpus:
    """Read every dialogue of a run directory, a file, or a folder of files."""
    source = Path(path)
    if not source.exists():
        raise InputError("no such file or folder", file=str(source))
    dialogues: list[Dialogue] = []
    skipped: list[str] = []
    for file in _files(source):
        for item in _dialogues(file):
            if isinstance(item, Dialogue):
                dialogues.append(item)
            elif skip_invalid:
                skipped.append(str(item))
            else:
                raise item
    return Corpus(name or corpus_name(source), tuple(dialogues), tuple(skipped))


def corpus_name(path: str | Path) -> str:
    """The default name: the run directory's for ``…/run/dialogues.jsonl``, else the stem."""
    source = Path(path).resolve()
    return source.parent.name if source.name == "dialogues.jsonl" else source.stem


def _files(source: Path) -> list[Path]:
    """The files that make up a corpus: the run's ``dialogues.jsonl`` or every JSON file."""
    if not source.is_dir():
        return [source]
    run_file = source / "dialogues.jsonl"
    if run_file.is_file():
        return [run_file]
    try:
        entries = list(source.iterdir())
    except OSError as exc:
        raise InputError(
            f"cannot list the folder: {exc.strerror or exc}", file=str(source)
        ) from exc
    files = sorted(
        (p for p in entries if p.suffix.lower() in {".json", ".jsonl"} and p.is_file()),
        key=natural_key,
    )
    if not files:
        raise InputError("no dialogues.jsonl and no .json or .jsonl files", file=str(source))
    return files


_PARTY_ROLES: dict[str, Role | None] = {"client": "client", "counselor": "counselor"}
_SHAREGPT_ROLES: dict[str, Role | None] = {
    "system": None,
    "user": "client",
    "assistant": "counselor",
}


def _dialogues(file: Path) -> Iterator[Dialogue | InputError]:
    """Each dialogue of one file, or the located error that stands in for a bad record."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        yield InputError(f"cannot read the file: {exc.strerror or exc}", file=str(file))
        return
    if file.suffix.lower() == ".jsonl":
        records: Iterable[tuple[int, Any]] = _lines(content, file)
    else:
        data = _parse(content, file, None)
        if isinstance(data, InputError):
            yield data
            return
        if _is_raw_layout(data):
            yield _located(partial(_raw_dialogue, data, file.stem), file, file.stem)
            return
        records = enumerate(data) if isinstance(data, list) else [(0, data)]
    for number, raw in records:
        if isinstance(raw, InputError):
            yield raw
        else:
            yield _located(partial(_dialogue, raw, f"{file.stem}-{number}"), file, number)


def _lines(content: bytes, file: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed line) of a JSON Lines file, blank lines left out."""
    for number, line in enumerate(content.split(b"\n"), start=1):
        if line.strip():
            yield number, _parse(line, file, number)


def _parse(text: bytes, file: Path, number: int | None) -> Any:
    """The JSON value, or an InputError standing in for it."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return InputError(f"not valid JSON: {exc}", file=str(file), record=number)


def _is_raw_layout(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and isinstance(data[0], dict) and "role" in data[0]


def _located(make: Callable[[], Dialogue], file: Path, record: int | str) -> Dialogue | InputError:
    """Build a dialogue, or return its error completed with file and record."""
    try:
        return make()
    except InputError as error:
        return InputError(error.reason, file=str(file), record=record, field=error.field)


def _raw_dialogue(data: Any, name: str) -> Dialogue:
    return Dialogue(name, _utterances(data, "", _PARTY_ROLES))


def _dialogue(raw: Any, default_id: str) -> Dialogue:
    """Validate one engine or ShareGPT record."""
    if not isinstance(raw, dict):
        raise InputError(f"expected an object, got {type(raw).__name__}")
    if "turns" in raw:
        return _engine_dialogue(raw)
    if "messages" in raw:
        return _sharegpt_dialogue(raw, default_id)
    raise InputError("neither an engine record ('turns') nor a ShareGPT record ('messages')")


def _engine_dialogue(raw: dict[str, Any]) -> Dialogue:
    turns = _utterances(raw["turns"], "turns", _PARTY_ROLES)
    card = raw.get("card")
    if card is not None and not isinstance(card, dict):
        raise InputError("expected an object or null", field="card")
    return Dialogue(
        _required_id(raw, "id"),
        turns,
        card_text(card, card_language(raw.get("language"))) if card is not None else None,
        _optional_id(raw, "card_id"),
        raw.get("quality"),
        _good_handling(card),
        _language(raw.get("language")),
    )


def _sharegpt_dialogue(raw: dict[str, Any], default_id: str) -> Dialogue:
    """A ``messages`` record; an optional ``card`` (object or text) and ``id`` are kept."""
    turns = _utterances(raw["messages"], "messages", _SHAREGPT_ROLES)
    card = raw.get("card")
    if card is not None and not isinstance(card, dict | str):
        raise InputError("expected an object, a string or null", field="card")
    return Dialogue(
        _optional_id(raw, "id") or default_id,
        turns,
        card_text(card) if isinstance(card, dict) else card,
        _optional_id(raw, "card_id"),
        good_handling=_good_handling(card) if isinstance(card, dict) else None,
    )


def _language(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InputError("expected a string or null", field="language")
    return value


def _good_handling(card: dict[str, Any] | None) -> str | None:
    value = None if card is None else card.get("good_handling")
    if value is not None and not isinstance(value, str):
        raise InputError("expected a string or null", field="card.good_handling")
    return value


def _optional_id(raw: dict[str, Any], key: str) -> str | None:
    """An id given as a non-empty string or an integer, or None when absent."""
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    raise InputError("expected a non-empty string", field=key)


def _required_id(raw: dict[str, Any], key: str) -> str:
    value = _optional_id(raw, key)
    if value is None:
        raise InputError("missing", field=key)
    return value


def _utterances(items: Any, field: str, roles: dict[str, Role | None]) -> tuple[Utterance, ...]:
    """Map each message's role through ``roles``; a role mapped to None is dropped."""
    if not isinstance(items, list):
        raise InputError(f"expected a list, got {type(items).__name__}", field=field or None)
    turns = []
    for index, item in enumerate(items):
        where = f"{field}[{index}]"  # "turns[3]", or "[3]" in a raw-layout file
        if not isinstance(item, dict):
            raise InputError(f"expected an object, got {type(item).__name__}", field=where)
        role = item.get("role")
        if not isinstance(role, str) or role not in roles:
            raise InputError(
                f"unknown role {_shown(role)} (expected one of: {', '.join(roles)})",
                field=f"{where}.role",
            )
        content = item.get("content")
        if not isinstance(content, str):
            raise InputError(
                f"expected a string, got {type(content).__name__}", field=f"{where}.content"
            )
        mapped = roles[role]
        if mapped is not None:
            turns.append(Utterance(mapped, content))
    return tuple(turns)


def _shown(value: Any) -> str:
    """A value quoted in an error message, cut short: it may be anything of any size."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:60]}..."
