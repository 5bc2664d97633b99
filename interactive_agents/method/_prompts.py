"""The actors' prompt cards (``actors/*.toml``) and how they become chat messages.

Prompts are data: the code only fills placeholders. Each role's messages are built so
that the request of turn i is a strict prefix-extension of the request of turn i-1
(system prompt first, history in order), which is what vLLM's prefix caching needs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interactive_agents._resources import bundled_dir, read_toml, string_list
from interactive_agents.errors import ConfigError
from interactive_agents.llm._messages import ChatMessage
from interactive_agents.method._cards import BIG_FIVE, PLAIN_FIELDS, RoleCard, Trait
from interactive_agents.method._records import Stage

STAGES: tuple[Stage, ...] = ("early", "middle", "late")


def _require(data: dict[str, Any], key: str, path: Path) -> Any:
    if key not in data:
        raise ConfigError("missing", file=str(path), field=key)
    return data[key]


def clean_reply(text: str, speaker_labels: tuple[str, ...]) -> str:
    """Trim white space and a leading speaker label such as "Counselor:"."""
    text = text.strip()
    for label in speaker_labels:
        if text.casefold().startswith(label.casefold()):
            text = text[len(label) :].strip()
            break
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return text


@dataclass(frozen=True, slots=True)
class ClientPrompt:
    """The client's system prompt template, opening line and profile labels."""

    opening: str
    system: str
    speaker_labels: tuple[str, ...]
    profile_labels: dict[str, str]
    trait_labels: dict[str, str]
    separator: str
    comma: str
    resistance_rule: str
    act_resistance: bool = True

    def render_profile(self, card: RoleCard) -> str:
        """The card as the labelled lines the client reads about itself."""
        labels, sep = self.profile_labels, self.separator
        lines = [
            f"{labels[name]}{sep}{value}" for name in PLAIN_FIELDS if (value := getattr(card, name))
        ]
        if card.personality is not None:
            traits = [
                f"  - {self.trait_labels[name]}{sep}{self._trait_text(trait)}"
                for name in BIG_FIVE
                if (trait := getattr(card.personality, name)) is not None
            ]
            if traits:
                lines.append(f"{labels['personality']}{sep.rstrip()}")
                lines.extend(traits)
        if card.resistance is not None:
            lines.append(f"{labels['resistance']}{sep}{self._trait_text(card.resistance)}")
        lines.append(f"{labels['chief_complaint']}{sep}{card.chief_complaint.strip()}")
        return "\n".join(lines)

    def _trait_text(self, trait: Trait) -> str:
        if not trait.explanation:
            return trait.level
        return f"{trait.level}{trait.separator or self.comma}{trait.explanation}"

    def system_message(self, card: RoleCard, max_turns: int) -> ChatMessage:
        text = self.system.format(
            profile=self.render_profile(card),
            max_turns=max_turns,
            resistance_rule=self.resistance_rule if self.act_resistance else "",
        )
        return ChatMessage("system", text.strip())


@dataclass(frozen=True, slots=True)
class CounselorPrompt:
    """The counselor's system prompt and the per-turn stage cue."""

    system: str
    stage_cue: str
    stage_names: dict[str, str]
    speaker_labels: tuple[str, ...]

    def system_message(self) -> ChatMessage:
        return ChatMessage("system", self.system.strip())

    def cue(self, stage: Stage, turn: int, max_turns: int) -> ChatMessage:
        text = self.stage_cue.format(
            stage_name=self.stage_names[stage], turn=turn, max_turns=max_turns
        )
        return ChatMessage("system", text)


@dataclass(frozen=True, slots=True)
class HelpResource:
    """One place a client at risk can turn to, as the deployment lists it."""

    name: str
    contact: str
    hours: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class HelpResources:
    """``actors/help_resources.<lang>.toml``: the help the crisis rule points to, filled
    in by whoever deploys the engine (docs/safety.md#help-resources); ``fallback`` names
    kinds of help, never a number, for as long as ``resources`` is empty."""

    resources: tuple[HelpResource, ...]
    line: str
    fallback: str

    def render(self) -> str:
        """The listed resources, one ``line`` each, or the fallback when there are none."""
        if not self.resources:
            return self.fallback
        lines = [
            re.sub(r"\s+", " ", self.line.format(**vars_of(resource))).strip()
            for resource in self.resources
        ]
        return "; ".join(lines)


def vars_of(resource: HelpResource) -> dict[str, str]:
    return {
        "name": resource.name,
        "contact": resource.contact,
        "hours": resource.hours,
        "note": resource.note,
    }


def load_help_resources(path: Path) -> HelpResources:
    """Read a help-resource file; every listed resource needs a name and a contact."""
    data = read_toml(path, "help-resource file")
    raw = data.get("resources", [])
    if not isinstance(raw, list):
        raise ConfigError("expected an array of tables [[resources]]", file=str(path))
    resources = []
    for number, item in enumerate(raw, 1):
        where = f"resources[{number}]"
        if not isinstance(item, dict):
            raise ConfigError("expected a table", file=str(path), field=where)
        values = {key: item.get(key, "") for key in ("name", "contact", "hours", "note")}
        for key, value in values.items():
            if not isinstance(value, str):
                raise ConfigError("expected a string", file=str(path), field=f"{where}.{key}")
        for key in ("name", "contact"):
            if not values[key].strip() or values[key].lstrip().startswith("<"):
                message = "missing: fill in the service's real name and contact"
                raise ConfigError(message, file=str(path), field=f"{where}.{key}")
        resources.append(HelpResource(**values))
    help_resources = HelpResources(
        tuple(resources),
        str(_require(data, "line", path)),
        str(_require(data, "fallback", path)),
    )
    try:
        help_resources.render()
    except (KeyError, IndexError, ValueError) as exc:
        message = f"unknown or malformed placeholder: {exc}"
        raise ConfigError(message, file=str(path), field="line") from exc
    return help_resources


@dataclass(frozen=True, slots=True)
class PromptSet:
    """The prompt cards of one language, with a fingerprint of their exact text.

    ``help_resources`` is what the counselor's crisis rule points to (None when the rule
    is off); an empty list means the deployment has not filled it in.
    """

    language: str
    client: ClientPrompt
    counselor: CounselorPrompt
    terminator_phrases: tuple[str, ...]
    fingerprint: str
    help_resources: HelpResources | None = None
    terminator_sign_offs: tuple[str, ...] = ()
    terminator_continuations: tuple[str, ...] = ()


def load_prompts(
    language: str,
    actors_dir: str | Path | None = None,
    *,
    client_resistance: bool = True,
    crisis_rule: bool = True,
) -> PromptSet:
    """Load ``client.<lang>.toml``, ``counselor.<lang>.toml`` and ``terminator.toml``.

    ``client_resistance`` adds the client's rule to act out the card's resistance;
    ``crisis_rule`` appends the counselor's crisis rule (when the card has one) with the
    help of ``help_resources.<lang>.toml`` (docs/safety.md#the-counselors-crisis-rule).
    """
    folder = Path(actors_dir) if actors_dir is not None else bundled_dir("actors")
    client_path = folder / f"client.{language}.toml"
    counselor_path = folder / f"counselor.{language}.toml"
    terminator_path = folder / "terminator.toml"
    for path in (client_path, counselor_path, terminator_path):
        if not path.is_file():
            raise ConfigError(f"no prompt card for language {language!r}", file=str(path))
    client = read_toml(client_path, "prompt card")
    counselor = read_toml(counselor_path, "prompt card")
    terminator = read_toml(terminator_path, "prompt card")
    phrases = _require(terminator, "phrases", terminator_path)
    if language not in phrases:
        raise ConfigError(
            f"no phrases for {language!r}", file=str(terminator_path), field=f"phrases.{language}"
        )
    digest = hashlib.sha256()
    for path in (client_path, counselor_path, terminator_path):
        digest.update(path.read_bytes())
    system = _require(counselor, "system", counselor_path)
    help_resources = None
    rule = counselor.get("crisis_rule")
    if crisis_rule and isinstance(rule, str) and rule.strip():
        help_path = folder / f"help_resources.{language}.toml"
        if not help_path.is_file():
            help_path = bundled_dir("actors") / help_path.name
        if not help_path.is_file():
            raise ConfigError(f"no help resources for language {language!r}", file=str(help_path))
        help_resources = load_help_resources(help_path)
        digest.update(help_path.read_bytes())
        rendered = rule.strip().replace("{help_resources}", help_resources.render())
        system = f"{system.strip()}\n\n{rendered}"
    return PromptSet(
        language=language,
        client=ClientPrompt(
            opening=_require(client, "opening", client_path),
            system=_require(client, "system", client_path),
            speaker_labels=tuple(client.get("speaker_labels", ())),
            profile_labels=_require(client, "profile_labels", client_path),
            trait_labels=_require(client, "trait_labels", client_path),
            separator=client.get("separator", ": "),
            comma=client.get("comma", ", "),
            resistance_rule=client.get("resistance_rule", ""),
            act_resistance=client_resistance,
        ),
        counselor=CounselorPrompt(
            system=system,
            stage_cue=_require(counselor, "stage_cue", counselor_path),
            stage_names=_require(counselor, "stage_names", counselor_path),
            speaker_labels=tuple(counselor.get("speaker_labels", ())),
        ),
        terminator_phrases=tuple(phrases[language]),
        fingerprint=digest.hexdigest()[:16],
        help_resources=help_resources,
        terminator_sign_offs=_optional_phrases(terminator, "sign_offs", language, terminator_path),
        terminator_continuations=_optional_phrases(
            terminator, "continuations", language, terminator_path
        ),
    )


def _optional_phrases(
    data: dict[str, Any], table: str, language: str, path: Path
) -> tuple[str, ...]:
    """One language's list of an optional table of the terminator card (a card written
    before the table existed has none)."""
    return string_list(data.get(table, {}).get(language, []), path, f"{table}.{language}")
