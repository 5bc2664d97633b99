"""Typed, immutable records exchanged by the actors and written to the run directory.

Everything here is a frozen, slotted dataclass: cheap to create by the million, safe to
share between tasks, and serialised natively by orjson in the order fields are declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["client", "counselor"]
Stage = Literal["early", "middle", "late"]
StageSource = Literal["schedule", "inferred"]
ChatRole = Literal["system", "user", "assistant"]
TerminationReason = Literal["phrase", "max_turns", "error", "cancelled"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of an OpenAI chat-completions request."""

    role: ChatRole
    content: str


@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampling parameters sent with every request of one role."""

    temperature: float = 0.7
    top_p: float = 0.8
    max_tokens: int = 512


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage and call counts, as the endpoint reported them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    retries: int = 0
    cached_tokens: int = 0  # of prompt_tokens, served by the server's prefix cache

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.calls + other.calls,
            self.retries + other.retries,
            self.cached_tokens + other.cached_tokens,
        )


@dataclass(frozen=True, slots=True)
class Completion:
    """One chat completion: the text, what it cost and which replica served it.

    ``reasoning`` is the model's reasoning output (``reasoning_content`` or ``<think>``
    blocks), kept out of ``content`` so it never enters the transcript; ``truncated``
    says the reply was cut to the endpoint's ``max_response_bytes``.
    """

    content: str
    usage: Usage
    finish_reason: str | None = None
    base_url: str = ""
    reasoning: str | None = None
    truncated: bool = False


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
    """

    role: Role
    content: str
    stage: Stage | None = None
    rejected: tuple[Rejection, ...] = ()
    refiner_gave_up: bool = False
    stage_source: StageSource | None = None
    reasoning: str | None = None


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
    ``simulate --quality-flags``; :meth:`~interactive_agents.method.quality.Flagger.document`),
    else null.
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
