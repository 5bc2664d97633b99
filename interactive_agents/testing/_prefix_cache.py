"""Tokens of a prompt and the prefix cache a replica keeps of them.

A token is a whitespace-separated word of a message, plus one per message for its role:
cheap to count, and a history grows by whole tokens, as a prefix cache needs.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any


def tokens_of(messages: Iterable[Any]) -> list[str]:
    """The prompt as tokens: each message's role, then its words."""
    tokens: list[str] = []
    for message in messages:
        if isinstance(message, dict):
            tokens.append(f"<{message.get('role', '')}>")
            content = message.get("content")
            tokens.extend(content.split() if isinstance(content, str) else ())
    return tokens


class PrefixCache:
    """An LRU of token blocks keyed by the hash of everything up to the block's end (as
    vLLM's automatic prefix caching), so a request reuses the leading blocks an earlier
    request on the same replica computed."""

    def __init__(self, block_tokens: int, capacity: int) -> None:
        self.block_tokens = block_tokens
        self.capacity = capacity
        self._blocks: OrderedDict[bytes, None] = OrderedDict()

    def _hashes(self, tokens: Sequence[str]) -> list[bytes]:
        hashes, digest, size = [], hashlib.blake2b(digest_size=16), self.block_tokens
        for end in range(size, len(tokens) + 1, size):
            digest.update("\x1f".join(tokens[end - size : end]).encode())
            hashes.append(digest.copy().digest())
        return hashes

    def lookup(self, tokens: Sequence[str]) -> int:
        """Tokens of the longest cached prefix (whole blocks), refreshing what it used."""
        cached = 0
        for block in self._hashes(tokens):
            if block not in self._blocks:
                break
            self._blocks.move_to_end(block)
            cached += self.block_tokens
        return cached

    def insert(self, tokens: Sequence[str]) -> None:
        """Keep every whole block of ``tokens``, forgetting the least recently used."""
        for block in self._hashes(tokens):
            self._blocks[block] = None
            self._blocks.move_to_end(block)
        while len(self._blocks) > self.capacity:
            self._blocks.popitem(last=False)
