"""Keep API keys out of everything the engine writes or prints.

Every key the engine reads (:func:`interactive_agents.llm._transport.json_headers`) is
remembered here, and :func:`redact` replaces it, wherever it appears, with ``***``:
error bodies that quote the key back (some gateways do), messages bound for
``failures.jsonl``, logs and the terminal. Bearer tokens are masked too, whoever's
they are.
"""

from __future__ import annotations

import re

MASK = "***"
_MIN_SECRET = 4  # shorter values would mask ordinary words
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
_secrets: set[str] = set()


def remember_secret(value: str) -> None:
    """Mask ``value`` from now on in whatever passes through :func:`redact`."""
    if len(value) >= _MIN_SECRET:
        _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every known key and every bearer token replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return _BEARER.sub(lambda match: match.group(1) + MASK, text)
