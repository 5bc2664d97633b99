"""The rubrics people rate sessions with: the judges' own cards, read as forms.

A rating task shows annotators exactly the text its judge gets (the card's instructions,
each item's statement and anchors), so people and the judge rate the same thing and
their agreement means something. A :class:`RatingRubric` is built from a judge card of
``actors/`` and kept, as JSON, in the task: a card edited later changes no task under
way. Each rubric item says how its values compare (``ordinal``, ``nominal``, ``set``),
which is what ``agreement`` needs to choose its statistics.

Rubrics: ``wai`` (the WAI-O-S judge: 12 statements, 1-7 with an anchor per score),
``topics`` (the topic rater: 1 to ``max_topics`` topics of the topic set) and ``safety``
(the safety judge: each counselor reply's severity and the category of its problem).

A rubric rated *per reply* (safety) is kept as a template of its items; each session's
form repeats them for every counselor reply, ``severity@3`` being reply 3's severity
(:meth:`RatingRubric.session_form`), as the safety judge rates reply by reply.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import msgspec

from interactive_agents.errors import InputError
from interactive_agents.evaluation import load_topic_rater, load_wai_judge
from interactive_agents.judging import load_safety_card, rubric_fingerprint
from interactive_agents.ratings._judge_results import CATEGORY_SCALE
from interactive_agents.ratings._rating_records import Level, Value

RUBRICS = ("wai", "topics", "safety")


@dataclass(frozen=True, slots=True)
class RubricOption:
    """One value an item can take, its label, and the judge's anchor for it (if any)."""

    value: int | str
    label: str
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class RubricItem:
    """One question of a rubric; a ``set`` item takes 1 to ``max_choices`` options."""

    id: str
    text: str
    level: Level
    options: tuple[RubricOption, ...]
    max_choices: int = 1

    @property
    def scale(self) -> tuple[int | str, ...]:
        return tuple(option.value for option in self.options)

    def checked(self, value: Any) -> Value:
        """``value`` as stored, or InputError naming this item."""
        scale = self.scale
        if self.level == "set":
            chosen = value if isinstance(value, list) else None
            if (
                chosen is None
                or not all(v in scale for v in chosen)
                or len(set(chosen)) != len(chosen)
            ):
                raise InputError("expected a list of distinct options", field=self.id)
            if not 1 <= len(chosen) <= self.max_choices:
                raise InputError(f"choose 1 to {self.max_choices} options", field=self.id)
            return tuple(sorted(chosen, key=scale.index))
        if isinstance(value, bool) or value not in scale:
            raise InputError("not one of the item's options", field=self.id)
        return value  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class RatingRubric:
    """A judge's card as people rate with it.

    ``instructions`` is the judge's instruction text as the judge gets it; ``reads``
    says what of the session the judge reads (``session``: all of it, ``client``: the
    client's utterances only, ``replies``: each counselor reply in the light of what
    came before it), which the page points out. ``per_reply`` rubrics rate every
    counselor reply on ``items``; ``none_together`` names items that are ``none`` for
    a reply exactly when the others are (a safety severity and its category).
    """

    name: str
    language: str
    instructions: str
    items: tuple[RubricItem, ...]
    reads: str = "session"
    per_reply: bool = False
    none_together: tuple[str, ...] = ()

    def item(self, item_id: str) -> RubricItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise InputError("no such item in the rubric", field=item_id)

    def fingerprint(self) -> str:
        """The card people rate with (judging's fingerprint, model ``people``)."""
        return rubric_fingerprint(self, "people")

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> RatingRubric:
        return msgspec.json.decode(data, type=cls)

    def checked(self, values: Mapping[str, Any]) -> dict[str, Value]:
        """Values by item id, each checked (InputError naming the first bad item)."""
        return {item_id: self.item(item_id).checked(value) for item_id, value in values.items()}

    def missing(self, values: Mapping[str, Any]) -> list[str]:
        """The items still without a value."""
        return [item.id for item in self.items if item.id not in values]

    def session_form(self, turns: Sequence[tuple[str, str]]) -> RatingRubric:
        """The items of one session (role, text): a per-reply rubric's for each of its
        counselor replies; any other rubric as it is."""
        if not self.per_reply:
            return self
        replies = sum(role == "counselor" for role, _ in turns)
        items = tuple(
            replace(item, id=f"{item.id}@{reply}")
            for reply in range(1, replies + 1)
            for item in self.items
        )
        return replace(self, items=items)

    def conflicts(self, values: Mapping[str, Any]) -> list[str]:
        """The items whose ``none`` disagrees with another of ``none_together`` (of the
        same reply), among those rated."""
        groups: dict[str | None, dict[str, Any]] = {}
        for item_id, value in values.items():
            base, reply = split_item(item_id)
            if base in self.none_together:
                groups.setdefault(reply, {})[item_id] = value
        return [
            item_id
            for group in groups.values()
            if len({value == "none" for value in group.values()}) > 1
            for item_id in group
        ]


def split_item(item_id: str) -> tuple[str, str | None]:
    """``severity@3`` as (``severity``, ``3``); an item of the whole session as (id, None)."""
    base, _, reply = item_id.partition("@")
    return base, reply or None


def load_rating_rubric(
    name: str,
    language: str,
    *,
    actors_dir: str | Path | None = None,
    topics: str | Path | None = None,
    max_topics: int = 3,
) -> RatingRubric:
    """The rubric ``name`` (one of :data:`RUBRICS`) from its judge card in ``language``."""
    if name == "wai":
        return wai_rubric(language, actors_dir)
    if name == "topics":
        return topics_rubric(language, actors_dir, topics, max_topics)
    if name == "safety":
        return safety_rubric(language, actors_dir)
    raise InputError(f"unknown rubric {name!r} (known: {', '.join(RUBRICS)})", field="rubric")


def wai_rubric(language: str, actors_dir: str | Path | None = None) -> RatingRubric:
    """The WAI-O-S judge's card: its instructions, 12 statements, 1-7 with anchors."""
    judge = load_wai_judge(language, actors_dir=actors_dir)
    items = tuple(
        RubricItem(
            id=f"wai-{number}",
            text=item.text,
            level="ordinal",
            options=tuple(
                RubricOption(score, str(score), anchor)
                for score, anchor in enumerate(item.anchors, start=1)
            ),
        )
        for number, item in sorted(judge.items.items())
    )
    return RatingRubric("wai", language, judge.system, items)


def topics_rubric(
    language: str,
    actors_dir: str | Path | None = None,
    topics: str | Path | None = None,
    max_topics: int = 3,
) -> RatingRubric:
    """The topic rater's card: its instructions with the numbered topic set, one item."""
    rater = load_topic_rater(language, actors_dir=actors_dir, topics=topics, max_topics=max_topics)
    instructions = rater.system.format(topics=rater.topic_set.numbered(), max_topics=max_topics)
    item = RubricItem(
        id="topics",
        text="",  # the question is the instructions' own
        level="set",
        options=tuple(RubricOption(t.id, t.name) for t in rater.topic_set.topics),
        max_choices=max_topics,
    )
    return RatingRubric("topics", language, instructions, (item,), reads="client")


def safety_rubric(language: str, actors_dir: str | Path | None = None) -> RatingRubric:
    """The safety judge's card: its rubric text, and per counselor reply a severity
    (ordinal, ``none`` to ``critical``) and the category of the problem (nominal,
    ``none`` when the severity is), each meaning as the card words it."""
    card = load_safety_card(language, actors_dir=actors_dir)
    entries = {**card.categories, "none": card.severities["none"]}
    severity = RubricItem(
        id="severity",
        text="",  # the page names the reply and the aspect
        level="ordinal",
        options=tuple(RubricOption(e.name, e.label, e.meaning) for e in card.severities.values()),
    )
    category = RubricItem(
        id="category",
        text="",
        level="nominal",
        options=tuple(
            RubricOption(name, entries[name].label, entries[name].meaning)
            for name in CATEGORY_SCALE
        ),
    )
    return RatingRubric(
        "safety",
        language,
        card.rubric,
        (severity, category),
        reads="replies",
        per_reply=True,
        none_together=("severity", "category"),
    )
