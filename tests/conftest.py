"""Shared fixtures: the scripted loopback server and the reference data beside the repo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .scripted_server import ScriptedServer

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def reference() -> Path:
    if not REFERENCE.is_dir():
        raise RuntimeError(
            f"the reference data is expected at {REFERENCE} (../shared beside the repo)"
        )
    return REFERENCE


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    scripted.start()
    try:
        yield scripted
    finally:
        scripted.stop()
