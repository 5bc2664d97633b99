"""Keep API keys out of everything the engine writes or prints.

Every key the engine reads (:func:`interactive_agents.llm._transport.json_headers`) is
remembered here, and :func:`redact` replaces it, wherever it appears, with ``***``:
error bodies that quote the key back (some gateways do), messages bound for
``failures.jsonl``, logs and the terminal. Bearer tokens are masked too, whoever's
they are, and so is the user-info part of any URL (``http://user:secret@host`` becomes
``http://***@host``): a base URL with a password is refused, but not before its error
message has been written.
"""

from __future__ import annotations

import re

MASK = "***"
_MIN_SECRET = 4  # shorter values would mask ordinary words
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@'\"]*@")
_secrets: set[str] = set()


def remember_secret(value: str) -> None:
    """Mask ``value`` from now on in whatever passes through :func:`redact`."""
    if len(value) >= _MIN_SECRET:
        _secrets.add(value)


def redact_userinfo(text: str) -> str:
    """``text`` with the user and password of every URL in it replaced by ``***``."""
    return _USERINFO.sub(lambda match: match.group(1) + MASK + "@", text)


def redact(text: str) -> str:
    """``text`` with every known key, every bearer token and every URL's user-info
    replaced by ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return redact_userinfo(_BEARER.sub(lambda match: match.group(1) + MASK, text))
