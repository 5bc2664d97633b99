"""Where converted model files are kept between runs, and how they are keyed.

Conversions (GGUF to a trainable checkpoint, a checkpoint to GGUF) are slow and their
results large, so both training and serving cache them here, keyed by content.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CACHE_ENV = "INTERACTIVE_AGENTS_CACHE"


def cache_root() -> Path:
    """``$INTERACTIVE_AGENTS_CACHE``, else ``$XDG_CACHE_HOME``/``~/.cache`` /interactive-agents."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "interactive-agents"


def file_digest(path: Path) -> str:
    """SHA-256 of a file (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
