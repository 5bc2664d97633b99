"""Passwords and sign-in sessions, with the standard library only.

Passwords are hashed with scrypt (a memory-hard function) at the cost OWASP's Password
Storage Cheat Sheet asks of scrypt today (N=2^17, r=8, p=1) and a random salt per user;
the cost is stored beside each hash, so hashes made at an older cost still verify (and
are upgraded at the next sign-in). Comparisons are constant-time. A session is a random
token kept by the browser in an HttpOnly cookie; the database stores only its SHA-256,
so a leaked database opens no session, and every session carries an expiry time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

MIN_PASSWORD = 8
MAX_PASSWORD = 256  # one limit for the CLI and the API; longer input is refused unhashed


@dataclass(frozen=True, slots=True)
class ScryptCost:
    """scrypt's cost parameters, stored with every hash as ``scrypt:N:r:p``."""

    n: int
    r: int
    p: int

    def __str__(self) -> str:
        return f"scrypt:{self.n}:{self.r}:{self.p}"

    @classmethod
    def parse(cls, text: str) -> ScryptCost:
        kind, n, r, p = text.split(":")
        if kind != "scrypt":
            raise ValueError(f"unknown password hash {kind!r}")
        return cls(int(n), int(r), int(p))

    @property
    def memory(self) -> int:
        """Bytes scrypt needs (128·N·r), plus headroom for hashlib's check."""
        return 129 * self.n * self.r * self.p


CURRENT_COST = ScryptCost(2**17, 8, 1)
LEGACY_COST = ScryptCost(2**14, 8, 1)  # what databases made before the cost was stored hold


def hash_password(
    password: str, salt: bytes | None = None, cost: ScryptCost = CURRENT_COST
) -> tuple[bytes, bytes]:
    """The (salt, hash) pair to store for ``password``."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=cost.memory,
        dklen=32,
    )
    return salt, digest


def verify_password(
    password: str, salt: bytes, expected: bytes, cost: ScryptCost = CURRENT_COST
) -> bool:
    return hmac.compare_digest(hash_password(password, salt, cost)[1], expected)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_key(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()
