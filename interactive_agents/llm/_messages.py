"""The vocabulary of chat completions: messages, sampling, usage and one completion.

Frozen, slotted dataclasses: cheap to create by the million, safe to share between
tasks, and serialised natively by orjson in the order fields are declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ChatRole = Literal["system", "user", "assistant"]


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
