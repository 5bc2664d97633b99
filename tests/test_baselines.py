"""The benchmarks' three baselines (``benchmarks/baselines.py``) against the fake server
run as its own process, as ``bench_baselines.py`` runs them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from interactive_agents.testing import ServerOptions, spawn


def load_baselines() -> ModuleType:
    """The benchmark module, loaded from its file (``benchmarks/`` is not a package and
    stays off ``sys.path``) as the standard library's recipe for a source file does."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "baselines.py"
    spec = importlib.util.spec_from_file_location("benchmark_baselines", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


BASELINES: dict[str, Any] = load_baselines().BASELINES


def served(base_url: str) -> int:
    count: int = httpx.get(base_url.removesuffix("/v1") + "/stats").json()["served"]
    return count


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_makes_two_calls_per_turn(name: str) -> None:
    with spawn(ServerOptions(latency=0.01)) as [url]:
        result = BASELINES[name](url, 2, 2)
        calls = served(url)
    assert (result.calls, result.errors, calls) == (8, 0, 8)


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_baseline_counts_a_failed_call_and_ends_the_dialogue(name: str) -> None:
    with spawn(ServerOptions(p500=1.0)) as [url]:
        result = BASELINES[name](url, 2, 2)
    assert (result.calls, result.errors) == (2, 2)
