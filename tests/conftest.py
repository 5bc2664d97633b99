"""Shared fixtures: the fake server on loopback, and the reference data (a few files of it
in ``fixtures/``, the whole of it beside the repository)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# The tests of the pipeline's mechanics run on the smallest embedded model, four times
# faster than the default; `test_local_e2e` runs the quickstart on the real default.
# Set the variable to run the whole suite on another model (set before anything of the
# library is imported).
os.environ.setdefault("INTERACTIVE_AGENTS_LOCAL_MODEL", "smollm2-135m-instruct")

from interactive_agents.testing import FakeServer

from .support import FIXTURES, REFERENCE


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fixtures() -> Path:
    """A few posts of each pool, the role cards and the dialogues of the reference data."""
    return FIXTURES


@pytest.fixture
def reference() -> Path:
    """The whole reference data, for the tests that need every post of a pool."""
    if not REFERENCE.is_dir():
        raise RuntimeError(
            f"the reference data is expected at {REFERENCE} (../shared beside the repo)"
        )
    return REFERENCE


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake
