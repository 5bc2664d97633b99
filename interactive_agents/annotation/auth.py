"""Passwords and sign-in sessions, with the standard library only.

Passwords are hashed with scrypt (a memory-hard function) and a random salt per user;
comparisons are constant-time. A session is a random token kept by the browser in an
HttpOnly cookie; the database stores only its SHA-256, so a leaked database opens no
session, and every session carries an expiry time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSWORD = 8


def hash_password(password: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    """The (salt, hash) pair to store for ``password``."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return salt, digest


def verify_password(password: str, salt: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(hash_password(password, salt)[1], expected)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_key(token: str) -> str:
    """What the database keeps of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()
