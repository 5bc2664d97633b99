"""Stable numbers from content: per-request seeds and configuration fingerprints.

Both must be the same in every process and on every run of the same inputs (resume and
reproducibility depend on it), so they hash a canonical encoding instead of using
Python's salted ``hash``.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson


def derive_seed(*parts: object) -> int:
    """A stable 31-bit seed from any parts (same run seed + card → same dialogue seeds)."""
    text = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "big") >> 1


def fingerprint(document: Any, length: int = 16) -> str:
    """Hex digest of a JSON-able document with sorted keys: equal content, equal print."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()[:length]
