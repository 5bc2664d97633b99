"""A role card as text (R of docs/method.md#vocabulary-overlap-eq-1), for readers and runtime.

Evaluation measures the client against this text and the quality flags measure early
disclosure against it, so a flag computed when a record is made and one recomputed from
the record later read the same text.
"""

from __future__ import annotations

from typing import Any, Literal

from interactive_agents.errors import InputError
from interactive_agents.method._cards import BIG_FIVE, PLAIN_FIELDS

CardLanguage = Literal["zh", "en"]


def card_language(language: object) -> CardLanguage:
    """The card layout of a record's language: English labels for ``en``, else Chinese."""
    return "en" if language == "en" else "zh"


# Labels of the reference's card layout (zh) and their English equivalents.
_LABELS: dict[CardLanguage, dict[str, str]] = {
    "zh": {
        "gender": "性别",
        "age": "年龄",
        "education": "教育程度",
        "occupation": "职业",
        "marital_status": "婚恋情况",
        "family_relationships": "家庭关系",
        "personality": "大五人格",
        "openness": "开放性",
        "conscientiousness": "尽责性",
        "extraversion": "外向性",
        "agreeableness": "宜人性",
        "neuroticism": "神经质",
        "resistance": "对心理咨询的阻抗程度",
        "chief_complaint": "来访者的主诉问题",
    },
    "en": {
        "gender": "Gender",
        "age": "Age",
        "education": "Education",
        "occupation": "Occupation",
        "marital_status": "Marital status",
        "family_relationships": "Family relationships",
        "personality": "Big Five personality",
        "openness": "Openness",
        "conscientiousness": "Conscientiousness",
        "extraversion": "Extraversion",
        "agreeableness": "Agreeableness",
        "neuroticism": "Neuroticism",
        "resistance": "Resistance to counseling",
        "chief_complaint": "Chief complaint",
    },
}
_SEPARATORS: dict[CardLanguage, tuple[str, str]] = {"zh": ("：", "，"), "en": (": ", ", ")}


def card_text(card: dict[str, Any], language: CardLanguage = "zh") -> str:
    """Render a card's non-null fields as R of docs/method.md (Eq. 1), in the reference's layout.

    For ``zh`` this is exactly the reference's full card (``性别：…`` lines, the Big
    Five as `` - 开放性：level，explanation`` sub-lines, then ``来访者的主诉问题：``), so
    overlap and similarity are measured against the same text the paper used. The id
    is not content and is left out.
    """
    labels = _LABELS[language]
    colon, comma = _SEPARATORS[language]
    lines = [
        f"{labels[name]}{colon}{_string(card, name)}"
        for name in PLAIN_FIELDS
        if card.get(name) is not None
    ]
    personality = card.get("personality")
    if personality is not None:
        if not isinstance(personality, dict):
            raise InputError("expected an object or null", field="card.personality")
        traits = [
            f" - {labels[name]}{colon}{_trait(personality, name, comma, 'card.personality.')}"
            for name in BIG_FIVE
            if personality.get(name) is not None
        ]
        lines += [f"{labels['personality']}{colon.rstrip()}", *traits] if traits else []
    if card.get("resistance") is not None:
        lines.append(f"{labels['resistance']}{colon}{_trait(card, 'resistance', comma, 'card.')}")
    lines.append(f"{labels['chief_complaint']}{colon}{_string(card, 'chief_complaint')}")
    return "\n".join(lines)


def _string(card: dict[str, Any], name: str) -> str:
    value = card.get(name)
    if not isinstance(value, str):
        raise InputError(f"expected a string, got {type(value).__name__}", field=f"card.{name}")
    return value


def _trait(owner: dict[str, Any], name: str, comma: str, prefix: str) -> str:
    """``level，explanation`` (or the level alone) of a ``{"level", "explanation"}`` object,
    joined by the card's own ``separator`` when it has one."""
    trait = owner[name] if isinstance(owner[name], dict) else {}
    level, explanation, separator = (trait.get(k) for k in ("level", "explanation", "separator"))
    if not isinstance(level, str) or not all(
        isinstance(s, str | None) for s in (explanation, separator)
    ):
        raise InputError("expected {level, explanation} strings", field=f"{prefix}{name}")
    return f"{level}{separator or comma}{explanation}" if explanation else level
