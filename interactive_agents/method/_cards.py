"""Role cards: the nine elements of a simulated client (docs/method.md#role-cards), and loaders.

A card is read from JSON Lines, a JSON list, TOML (``[[cards]]``), the reference's
plain-text layout (``性别：…`` lines, chief complaint taken from the pool file at the
same index) or a bare list of chief complaints (posts). Every problem is reported as a
:class:`~interactive_agents.errors.CardError` naming file, record and field; with
``skip_invalid`` the bad records are collected instead and the rest loads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

import msgspec
import orjson

from interactive_agents._resources import bundled_dir, natural_key, read_toml, resolve
from interactive_agents.errors import CardError, ConfigError

BIG_FIVE = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
# The card's plain-text elements, in the order a profile lists them.
PLAIN_FIELDS = (
    "gender",
    "age",
    "education",
    "occupation",
    "marital_status",
    "family_relationships",
)
# The file types of a card set named without its suffix (``demo_en``).
CARD_SUFFIXES = (".jsonl", ".json", ".toml")


@dataclass(frozen=True, slots=True)
class Trait:
    """A level such as 低/中等/高 (or low/high), with an optional explanation.

    ``separator`` is what stood between them in the source when it was not a comma
    (``中等。来访者…``), so the card renders back as its source; empty means a comma.
    """

    level: str
    explanation: str = ""
    separator: str = ""


@dataclass(frozen=True, slots=True)
class BigFive:
    """The Big Five personality profile; any trait may be unknown."""

    openness: Trait | None = None
    conscientiousness: Trait | None = None
    extraversion: Trait | None = None
    agreeableness: Trait | None = None
    neuroticism: Trait | None = None


@dataclass(frozen=True, slots=True)
class RoleCard:
    """One simulated client. Only ``id`` and ``chief_complaint`` are required.

    ``good_handling`` says what good handling of this client looks like (the crisis
    cards have one): the safety judge and people rating sessions read it; neither the
    client nor the counselor ever does.
    """

    id: str
    chief_complaint: str
    gender: str | None = None
    age: str | None = None
    education: str | None = None
    occupation: str | None = None
    marital_status: str | None = None
    family_relationships: str | None = None
    personality: BigFive | None = None
    resistance: Trait | None = None
    good_handling: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, as stored in every dialogue record (no empty separators,
        no ``good_handling`` when the card has none)."""
        plain: dict[str, Any] = _plain(self)
        return plain


_LEFT_OUT = (("separator", ""), ("good_handling", None))


def _plain(value: Any) -> Any:
    """A card or a part of one as plain data: ``dataclasses.asdict`` without its deep
    copies (every leaf of a card is a string or None), called once per record."""
    names = _FIELD_NAMES.get(type(value))
    if names is None:
        return value
    plain: dict[str, Any] = {}
    for name in names:
        item = getattr(value, name)
        if (name, item) not in _LEFT_OUT:
            plain[name] = _plain(item)
    return plain


_FIELD_NAMES = {kind: tuple(f.name for f in fields(kind)) for kind in (Trait, BigFive, RoleCard)}


CARD_FIELDS = frozenset(f.name for f in fields(RoleCard))
TRAIT_FIELDS = frozenset(f.name for f in fields(Trait))


@dataclass(slots=True)
class CardBatch:
    """Cards loaded from one source, plus the records that were skipped as invalid."""

    cards: list[RoleCard] = field(default_factory=list)
    invalid: list[CardError] = field(default_factory=list)


def _trait(value: Any) -> Any:
    """Accept a bare level string as shorthand for ``{"level": value}``."""
    if isinstance(value, str):
        return split_level(value)
    return value


def split_level(text: str) -> dict[str, str]:
    """Split ``"中等，愿意接受…"`` or ``"high - likes novelty"`` into level and explanation.

    A separator other than a comma is kept (see :class:`Trait`).
    """
    stripped = text.strip()
    match = re.search(r"\s*[，,;；:：。(（]\s*|\s+-\s+", stripped)
    if match is None:
        return {"level": stripped, "explanation": ""}
    explanation = stripped[match.end() :].strip().rstrip(")）")
    parts = {"level": stripped[: match.start()].strip(), "explanation": explanation}
    separator = match.group()
    return parts if separator.strip() in ("，", ",") else {**parts, "separator": separator}


def card_from_mapping(data: Any, *, file: str, record: int | str, default_id: str) -> RoleCard:
    """Validate one mapping (or bare complaint string) as a card."""
    if isinstance(data, str):
        data = {"chief_complaint": data}
    if not isinstance(data, dict):
        raise CardError(
            f"expected an object or a string, got {type(data).__name__}", file=file, record=record
        )
    unknown = sorted(set(data) - CARD_FIELDS)
    if unknown:
        raise CardError(
            f"unknown field (known: {', '.join(sorted(CARD_FIELDS))})",
            file=file,
            record=record,
            field=unknown[0],
        )
    data = dict(data)
    data.setdefault("id", default_id)
    for name in ("id", "age"):  # integers are welcome; True is not the id "True"
        value = data.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            data[name] = str(value)
    if "resistance" in data:
        data["resistance"] = _trait(data["resistance"])
        _refuse_unknown(data["resistance"], TRAIT_FIELDS, "resistance", file, record)
    personality = data.get("personality")
    if isinstance(personality, dict):
        _refuse_unknown(personality, frozenset(BIG_FIVE), "personality", file, record)
        data["personality"] = {k: _trait(v) for k, v in personality.items()}
        for name, trait in data["personality"].items():
            _refuse_unknown(trait, TRAIT_FIELDS, f"personality.{name}", file, record)
    try:
        card = msgspec.convert(data, RoleCard)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `")
        raise CardError(
            message, file=file, record=record, field=path.rstrip("`")[2:] or None
        ) from exc
    if not card.chief_complaint.strip():
        raise CardError("must not be empty", file=file, record=record, field="chief_complaint")
    if not card.id.strip():
        raise CardError("must not be empty", file=file, record=record, field="id")
    return card


def _refuse_unknown(
    value: Any, known: frozenset[str], where: str, file: str, record: int | str
) -> None:
    """msgspec ignores unknown keys of a dataclass; a card must not lose them silently."""
    unknown = sorted(set(value) - known, key=str) if isinstance(value, dict) else []
    if unknown:
        raise CardError(
            f"unknown field (known: {', '.join(sorted(known))})",
            file=file,
            record=record,
            field=f"{where}.{unknown[0]}",
        )


# The reference's plain-text layout.
_TEXT_KEYS = {
    "性别": "gender",
    "年龄": "age",
    "教育程度": "education",
    "职业": "occupation",
    "婚恋情况": "marital_status",
    "家庭关系": "family_relationships",
    "对心理咨询的阻抗程度": "resistance",
    "来访者的主诉问题": "chief_complaint",
}
_TEXT_TRAITS = {
    "开放性": "openness",
    "尽责性": "conscientiousness",
    "外向性": "extraversion",
    "宜人性": "agreeableness",
    "神经质": "neuroticism",
}


def parse_reference_text(text: str, *, file: str) -> dict[str, Any]:
    """Parse the reference layout into a card mapping (chief complaint may be absent)."""
    data: dict[str, Any] = {}
    personality: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("-").strip()
        if not line:
            continue
        match = re.fullmatch(r"([^：:]+)[：:](.*)", line)
        if match is None:
            raise CardError(f"line {number} has no '：' separator", file=file, record=number)
        key, value = match.group(1).strip(), match.group(2).strip()
        if key == "大五人格":
            continue
        if key in _TEXT_TRAITS:
            personality[_TEXT_TRAITS[key]] = split_level(value)
        elif key in _TEXT_KEYS:
            name = _TEXT_KEYS[key]
            data[name] = split_level(value) if name == "resistance" else value
        else:
            raise CardError(
                f"unknown key {key!r} on line {number}", file=file, record=number, field=key
            )
    if personality:
        data["personality"] = personality
    return data


def _pool_for(path: Path, pool: Path | None) -> tuple[Path, int]:
    """Find the pool file and index for ``train_3.txt`` → ``client_pool_train.json``[3]."""
    match = re.fullmatch(r"(.+?)_([0-9]{1,9})", path.stem, flags=re.ASCII)
    if match is None:
        raise CardError("name must look like SPLIT_INDEX.txt (e.g. train_0.txt)", file=str(path))
    split, index = match.group(1), int(match.group(2))
    if pool is not None:
        return pool, index
    for folder in (path.parent, path.parent.parent):
        candidate = folder / f"client_pool_{split}.json"
        if candidate.exists():
            return candidate, index
    raise CardError(
        f"no pool file client_pool_{split}.json next to the card; pass it with --pool",
        file=str(path),
    )


def _load_text_card(path: Path, pool: Path | None, pools: dict[Path, list[Any]]) -> RoleCard:
    try:
        text = _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CardError(f"not UTF-8 text: {exc}", file=str(path)) from exc
    data = parse_reference_text(text, file=str(path))
    if "chief_complaint" not in data:
        pool_path, index = _pool_for(path, pool)
        if pool_path not in pools:
            pools[pool_path] = _read_json(pool_path)
        posts = pools[pool_path]
        if not isinstance(posts, list) or index >= len(posts):
            raise CardError(
                f"the pool {pool_path} has no post at index {index}",
                file=str(path),
                field="chief_complaint",
            )
        data["chief_complaint"] = posts[index]
    return card_from_mapping(data, file=str(path), record=1, default_id=path.stem)


def _read_json(path: Path) -> Any:
    try:
        return orjson.loads(_read_bytes(path))
    except orjson.JSONDecodeError as exc:
        raise CardError(f"not valid JSON: {exc}", file=str(path)) from exc


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CardError(f"cannot read the file: {exc.strerror or exc}", file=str(path)) from exc


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield (record number, raw record) from a JSONL, JSON or TOML file."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        for number, line in enumerate(_read_bytes(path).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield number, orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                yield number, CardError(f"not valid JSON: {exc}", file=str(path), record=number)
    elif suffix == ".json":
        data = _read_json(path)
        items = data if isinstance(data, list) else [data]
        yield from enumerate(items)
    elif suffix == ".toml":
        data = read_toml(path, "card file", CardError)
        cards = data.get("cards")
        if not isinstance(cards, list):
            raise CardError("expected an array of tables [[cards]]", file=str(path), field="cards")
        yield from enumerate(cards)
    else:
        raise CardError(
            "unsupported card file (use .jsonl, .json, .toml, or reference .txt cards)",
            file=str(path),
        )


def load_cards(
    path: str | Path, *, skip_invalid: bool = False, pool: str | Path | None = None
) -> CardBatch:
    """Load every card of a file or folder, checking that ids are unique.

    ``path`` is a file or folder, or the name of a built-in card set (``"demo_en"``,
    the files of ``runners/cards/``), as the commands' ``--cards`` takes it.
    """
    source = _card_source(path)
    batch = CardBatch()
    pools: dict[Path, list[Any]] = {}
    pool_path = Path(pool) if pool is not None else None
    files = _card_files(source) if source.is_dir() else [source]
    seen: dict[str, str] = {}

    def accept(make: Callable[[], RoleCard], file: str, record: int | str) -> None:
        try:
            card = make()
            if card.id in seen:
                raise CardError(
                    f"duplicate id {card.id!r} (first at {seen[card.id]})",
                    file=file,
                    record=record,
                    field="id",
                )
            seen[card.id] = f"{file} record {record}"
            batch.cards.append(card)
        except CardError as error:
            if not skip_invalid:
                raise
            batch.invalid.append(error)

    for file in files:
        if file.suffix.lower() == ".txt":
            accept(partial(_load_text_card, file, pool_path, pools), str(file), 1)
            continue
        for number, raw in _records(file):
            if isinstance(raw, CardError):
                accept(partial(_raise, raw), str(file), number)
                continue
            make = partial(
                card_from_mapping,
                raw,
                file=str(file),
                record=number,
                default_id=f"{file.stem}-{number:05d}",
            )
            accept(make, str(file), number)
    return batch


def _card_source(path: str | Path) -> Path:
    """``path`` if it exists, else the built-in card set of that name."""
    source = Path(path)
    if source.exists():
        return source
    try:
        return resolve(path, "runners/cards", CARD_SUFFIXES)
    except ConfigError as exc:
        builtin = bundled_dir("runners/cards").iterdir()
        known = ", ".join(sorted(p.stem for p in builtin if p.suffix in CARD_SUFFIXES))
        raise CardError(
            f"no such file or folder, and no built-in card set of that name ({known})",
            file=str(source),
        ) from exc


def _raise(error: CardError) -> RoleCard:
    raise error


def _card_files(folder: Path) -> list[Path]:
    """The card files of a folder in natural order; subfolders and other files are ignored."""
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise CardError(f"cannot list the folder: {exc.strerror or exc}", file=str(folder)) from exc
    suffixes = {".jsonl", ".json", ".toml", ".txt"}
    files = [p for p in entries if p.suffix.lower() in suffixes and p.is_file()]
    if not files:
        raise CardError(
            "no card files (.jsonl, .json, .toml, .txt) in the folder", file=str(folder)
        )
    return sorted(files, key=natural_key)
