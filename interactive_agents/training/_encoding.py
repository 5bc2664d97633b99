"""Exported samples → token ids and labels, with the loss on assistant tokens only.

Reads what :mod:`interactive_agents.training._samples` writes, in either layout (ShareGPT with a
``loss`` flag per ``gpt`` message, OpenAI with a ``weight`` per assistant message; a
missing flag means "learn it"). Each sample is rendered with the model's own chat
template; an assistant message's tokens are found as the text its turn adds to the
template rendering (from the generation prompt to the end of the turn, closing tokens
included), mapped to tokens through the tokenizer's offsets. Every other token is
labelled -100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from interactive_agents.errors import InputError

IGNORE = -100
ChatTurn = dict[str, str]


@dataclass(frozen=True, slots=True)
class Conversation:
    """A sample as chat messages (system first) and which assistant messages to learn."""

    messages: tuple[ChatTurn, ...]
    learn: frozenset[int]


_SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system"}


def parse_record(raw: Any) -> Conversation:
    """One exported record (either layout) as a conversation."""
    if not isinstance(raw, dict):
        raise InputError(f"expected an object, got {type(raw).__name__}")
    if "conversations" in raw:
        items, role_key, text_key, mask_key, roles = (
            raw["conversations"],
            "from",
            "value",
            "loss",
            _SHAREGPT_ROLES,
        )
        system = raw.get("system")
        messages = [{"role": "system", "content": system}] if isinstance(system, str) else []
        field = "conversations"
    elif "messages" in raw:
        items, role_key, text_key, mask_key = raw["messages"], "role", "content", "weight"
        roles = {name: name for name in ("system", "user", "assistant")}
        messages, field = [], "messages"
    else:
        raise InputError("neither 'conversations' (ShareGPT) nor 'messages' (OpenAI)")
    if not isinstance(items, list):
        raise InputError("expected a list", field=field)
    learn = set()
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        role = roles.get(str(item.get(role_key))) if isinstance(item, dict) else None
        text = item.get(text_key) if isinstance(item, dict) else None
        if role is None:
            raise InputError(f"expected one of {sorted(roles)}", field=f"{where}.{role_key}")
        if not isinstance(text, str):
            raise InputError("expected a string", field=f"{where}.{text_key}")
        if role == "assistant" and item.get(mask_key, True) not in (False, 0):
            learn.add(len(messages))
        messages.append({"role": role, "content": text})
    if not learn:
        raise InputError("no assistant message to learn", field=field)
    return Conversation(tuple(messages), frozenset(learn))


def read_conversations(path: str | Path) -> list[Conversation]:
    """Every record of an exported JSON Lines file, errors naming file and line."""
    file = Path(path)
    if not file.is_file():
        raise InputError("no such file", file=str(file))
    conversations = []
    with file.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                conversations.append(parse_record(orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                raise InputError(f"not valid JSON: {exc}", file=str(file), record=number) from None
            except InputError as error:
                raise InputError(
                    error.reason, file=str(file), record=number, field=error.field
                ) from None
    return conversations


@dataclass(frozen=True, slots=True)
class Encoded:
    """Token ids and labels (-100 where no loss) of one conversation."""

    input_ids: list[int]
    labels: list[int]


def _render(tokenizer: Any, messages: Sequence[ChatTurn], generation: bool = False) -> str:
    text: str = tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=generation
    )
    return text


def encode(conversation: Conversation, tokenizer: Any) -> Encoded:
    """Render with the chat template and label the tokens of the messages to learn."""
    messages = conversation.messages
    full = _render(tokenizer, messages)
    spans = []
    for index in sorted(conversation.learn):
        before = _render(tokenizer, messages[:index], generation=True)
        through = _render(tokenizer, messages[: index + 1])
        if not (through.startswith(before) and full.startswith(through)):
            raise InputError(
                "the chat template does not render conversations as growing prefixes, "
                "so the assistant tokens cannot be located"
            )
        spans.append((len(before), len(through)))
    tokens = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(tokens["input_ids"])
    labels = [IGNORE] * len(ids)
    for position, (start, end) in enumerate(tokens["offset_mapping"]):
        if end > start and any(low <= start < high for low, high in spans):
            labels[position] = ids[position]
    return Encoded(ids, labels)


def encode_all(
    conversations: Sequence[Conversation], tokenizer: Any, max_length: int
) -> tuple[list[Encoded], int]:
    """Encoded samples that fit ``max_length``, and how many were too long (left out)."""
    kept, too_long = [], 0
    for conversation in conversations:
        encoded = encode(conversation, tokenizer)
        if len(encoded.input_ids) > max_length:
            too_long += 1
        else:
            kept.append(encoded)
    return kept, too_long


@dataclass(frozen=True, slots=True)
class Collator:
    """Right-pads a batch: ids with the pad token, labels with -100, and the mask."""

    pad_id: int

    def __call__(self, batch: Sequence[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(item["input_ids"]) for item in batch)
        ids, labels, mask = [], [], []
        for item in batch:
            gap = width - len(item["input_ids"])
            ids.append(item["input_ids"] + [self.pad_id] * gap)
            labels.append(item["labels"] + [IGNORE] * gap)
            mask.append([1] * len(item["input_ids"]) + [0] * gap)
        return {
            "input_ids": torch.tensor(ids),
            "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(mask),
        }
