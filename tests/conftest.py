"""Shared fixtures: the scripted loopback server and the reference data beside the repo."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .scripted_server import ScriptedServer

# The tests of the pipeline's mechanics run on the smallest embedded model, four times
# faster than the default; `test_local_e2e` runs the quickstart on the real default.
# Set the variable to run the whole suite on another model.
os.environ.setdefault("INTERACTIVE_AGENTS_LOCAL_MODEL", "smollm2-135m-instruct")

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
