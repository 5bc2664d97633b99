"""Typed, immutable records exchanged by the actors and written to the run directory.

Everything here is a frozen, slotted dataclass: cheap to create by the million, safe to
share between tasks, and serialised natively by orjson in the order fields are declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from interactive_agents.llm._messages import Usage

Role = Literal["client", "counselor"]
Stage = Literal["early", "middle", "late"]
StageSource = Literal["schedule", "inferred"]
TerminationReason = Literal["phrase", "max_turns", "error", "cancelled"]
RiskCategory = Literal["suicide", "self_harm", "harm_to_others", "abuse"]
DisclosureKind = Literal["direct", "indirect"]


@dataclass(frozen=True, slots=True)
class RiskCue:
    """One disclosure of risk (docs/safety.md#risk-detector): its category and kind, the
    words that carry it and where they are (character offsets ``start``..``end`` of the
    text that was scanned)."""

    category: RiskCategory
    kind: DisclosureKind
    cue: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """A counselor candidate the refiner refused, kept so nothing generated is lost."""

    content: str
    reason: str


@dataclass(frozen=True, slots=True)
class RefinerVerdict:
    """The refiner's judgement of one candidate; ``reason`` is empty when accepted."""

    accepted: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance of the session transcript.

    Counselor turns carry the stage they were produced in, the candidates the refiner
    rejected before this one, and ``refiner_gave_up`` when attempts ran out and the
    configured policy produced this text instead of an accepted candidate.
    ``stage_source`` says how the stage was obtained (null on client turns).
    ``reasoning`` is the model's reasoning output for this text (``reasoning_content``
    or ``<think>`` blocks), kept out of ``content`` and so out of the other side's view.
    ``risk`` holds the risks a client turn discloses, where the record was made with a
    risk detector (null when none).
    """

    role: Role
    content: str
    stage: Stage | None = None
    rejected: tuple[Rejection, ...] = ()
    refiner_gave_up: bool = False
    stage_source: StageSource | None = None
    reasoning: str | None = None
    risk: tuple[RiskCue, ...] | None = None


@dataclass(frozen=True, slots=True)
class Termination:
    """Why a session ended: a phrase (and which), the max-turns cap, an error."""

    reason: TerminationReason
    phrase: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Timings:
    """Wall-clock start and end (Unix seconds) and duration of one session."""

    started: float
    finished: float
    duration_s: float


@dataclass(frozen=True, slots=True)
class DialogueRecord:
    """One finished session: a line of ``dialogues.jsonl``.

    ``quality`` is the session's quality flags when the run computed them (``[quality]``,
    ``simulate --quality-flags``; :meth:`~interactive_agents.method._quality.Flagger.document`),
    else null. ``risk`` says which risks were disclosed and where: in the card's chief
    complaint, at which client turns (:func:`~interactive_agents.method._risk.risk_document`);
    null when the run's language has no risk lexicon.
    """

    id: str
    card_id: str
    card: dict[str, object]
    language: str
    turns: tuple[Turn, ...]
    termination: Termination
    usage: Usage
    models: dict[str, str]
    seed: int
    timings: Timings
    refiner: dict[str, object] = field(default_factory=dict)
    quality: dict[str, object] | None = None
    risk: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An exception, flattened for the record."""

    type: str
    message: str


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """A session that failed for good: a line of ``failures.jsonl``, partial turns kept."""

    id: str
    card_id: str
    error: ErrorInfo
    turns: tuple[Turn, ...]
    termination: Termination
    usage: Usage
    models: dict[str, str]
    seed: int
    timings: Timings
