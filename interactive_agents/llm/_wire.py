"""The OpenAI chat-completions wire format, built and parsed in one place.

Used by the endpoint (whole answers) and the load generator (whole or streamed), so the
odd but legal answers servers send are understood alike everywhere: ``content`` as a
list of content parts, reasoning output (a ``reasoning_content`` field or ``<think>``
blocks) kept out of the transcript, replies larger than the configured limit, and
fields of the wrong type, which are reported as :class:`NotAChatCompletion` (the
caller's ``BadResponseError``), never as an ``AttributeError``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from interactive_agents.llm._messages import ChatMessage
from interactive_agents.llm._transport import json_body

OversizePolicy = Literal["reject", "truncate"]

_THINK = re.compile(r"<think>(.*?)(?:</think>|\Z)", re.DOTALL)


class NotAChatCompletion(ValueError):
    """A body that is not a usable chat completion (truncated JSON, HTML, wrong types)."""


@dataclass(frozen=True, slots=True)
class ChatReply:
    """What a chat completion says, in the engine's terms."""

    content: str
    reasoning: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: bool = False
    cached_tokens: int = 0


def chat_request(
    model: str,
    messages: Sequence[ChatMessage],
    *,
    temperature: float,
    top_p: float,
    max_tokens: int,
    seed: int | None = None,
    stream: bool = False,
    cache_key: str | None = None,
) -> bytes:
    """The JSON body of one ``POST /chat/completions``."""
    body: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
    }
    if seed is not None:
        body["seed"] = seed
    if cache_key is not None:
        body["prompt_cache_key"] = cache_key
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return json_body(body)


def text_of(value: object, field: str) -> str:
    """A ``content``-like field as text: a string, null, or a list of content parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        pieces = []
        for part in value:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict) and part.get("type", "text") == "text":
                text = part.get("text")
                if not isinstance(text, str):
                    raise NotAChatCompletion(f"{field}: a text part without a string 'text'")
                pieces.append(text)
        return "".join(pieces)
    raise NotAChatCompletion(f"{field} is a {type(value).__name__}, not text")


def split_reasoning(content: str, reasoning: str | None) -> tuple[str, str | None]:
    """The transcript text without ``<think>`` blocks, and all reasoning apart.

    A lone ``</think>`` ends reasoning whose opening tag was in the chat template.
    """
    if "<think>" not in content:
        if "</think>" not in content:
            return content, reasoning or None
        content = "<think>" + content
    thoughts = [match.strip() for match in _THINK.findall(content)]
    spoken = _THINK.sub("", content).replace("</think>", "").strip()
    return spoken, "\n\n".join(p for p in (reasoning, *thoughts) if p) or None


def _tokens(usage: object, name: str) -> int:
    value = usage.get(name) if isinstance(usage, dict) else None
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NotAChatCompletion(f"usage.{name} is a {type(value).__name__}, not a number")
    return int(value)


def _cached_tokens(usage: object) -> int:
    """``usage.prompt_tokens_details.cached_tokens``: prompt tokens the server's prefix
    cache served (vLLM, SGLang, OpenAI); 0 where the server does not say."""
    details = usage.get("prompt_tokens_details") if isinstance(usage, dict) else None
    return _tokens(details, "cached_tokens")


def _finish_reason(choice: dict[str, Any]) -> str | None:
    value = choice.get("finish_reason")
    if value is not None and not isinstance(value, str):
        raise NotAChatCompletion("choices[0].finish_reason is not a string")
    return value


def _limit(reply: ChatReply, max_chars: int | None, oversize: OversizePolicy) -> ChatReply:
    if max_chars is None or len(reply.content) <= max_chars:
        return reply
    if oversize == "reject":
        raise NotAChatCompletion(
            f"the reply has {len(reply.content):,} characters, over the limit of {max_chars:,}"
        )
    return ChatReply(
        reply.content[:max_chars],
        reply.reasoning,
        reply.finish_reason,
        reply.prompt_tokens,
        reply.completion_tokens,
        truncated=True,
        cached_tokens=reply.cached_tokens,
    )


def _json_object(data: bytes | str, what: str) -> dict[str, Any]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise NotAChatCompletion(f"{what} is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise NotAChatCompletion(f"{what} is not a JSON object")
    return document


def parse_completion(
    body: bytes, *, max_bytes: int | None = None, oversize: OversizePolicy = "reject"
) -> ChatReply:
    """A whole ``chat.completion`` document.

    A body over ``max_bytes`` is refused before it is parsed when ``oversize`` is
    ``"reject"``; with ``"truncate"`` the reply text is cut to ``max_bytes`` characters.
    """
    if max_bytes is not None and len(body) > max_bytes and oversize == "reject":
        raise NotAChatCompletion(
            f"the body has {len(body):,} bytes, over the limit of {max_bytes:,}"
        )
    document = _json_object(body, "the body")
    choices = document.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise NotAChatCompletion("no choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise NotAChatCompletion("choices[0].message is not an object")
    content = text_of(message.get("content"), "choices[0].message.content")
    reasoning = text_of(message.get("reasoning_content"), "choices[0].message.reasoning_content")
    spoken, thoughts = split_reasoning(content, reasoning)
    usage = document.get("usage")
    reply = ChatReply(
        spoken,
        thoughts,
        _finish_reason(choice),
        _tokens(usage, "prompt_tokens"),
        _tokens(usage, "completion_tokens"),
        cached_tokens=_cached_tokens(usage),
    )
    return _limit(reply, max_bytes, oversize)


@dataclass(frozen=True, slots=True)
class StreamChunk:
    """One server-sent event of a streamed completion (``done`` at ``[DONE]``)."""

    content: str = ""
    reasoning: str = ""
    usage: dict[str, Any] | None = None
    done: bool = False


def parse_event(line: str) -> StreamChunk | None:
    """One line of a ``text/event-stream`` answer; None for lines that carry no data."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if data == "[DONE]":
        return StreamChunk(done=True)
    event = _json_object(data, "a stream event")
    content, reasoning = [], []
    for choice in event.get("choices") or ():
        delta = choice.get("delta") if isinstance(choice, dict) else None
        if isinstance(delta, dict):
            content.append(text_of(delta.get("content"), "delta.content"))
            reasoning.append(text_of(delta.get("reasoning_content"), "delta.reasoning_content"))
    usage = event.get("usage")
    return StreamChunk(
        "".join(content), "".join(reasoning), usage if isinstance(usage, dict) else None
    )


def stream_reply(pieces: Sequence[str], reasoning: Sequence[str], usage: object) -> ChatReply:
    """The reply a finished stream adds up to."""
    spoken, thoughts = split_reasoning("".join(pieces), "".join(reasoning) or None)
    return ChatReply(
        spoken,
        thoughts,
        None,
        _tokens(usage, "prompt_tokens"),
        _tokens(usage, "completion_tokens"),
        cached_tokens=_cached_tokens(usage),
    )
