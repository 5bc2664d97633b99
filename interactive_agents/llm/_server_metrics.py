"""What a server counts itself: its Prometheus ``/metrics``, read beside the client's counts.

The engine counts cached prompt tokens from each answer's ``usage``, which vLLM fills
only with ``--enable-prompt-tokens-details`` and hosted APIs fill their own way. The
server's own counters are the truth of what it did: vLLM's prefix-cache queries and
hits (in tokens), KV-cache usage, requests running and waiting, preemptions; llama.cpp's
(``--metrics``) prompt tokens evaluated and reused from its cache, requests processing
and deferred. :func:`watch_server_metrics` samples every server while a block runs and
reports counters as the difference between its first and last sample, gauges as their
mean and peak. A server without such metrics (a gateway, a hosted API, the fake server
of :mod:`interactive_agents.testing` answers in vLLM's names) is reported as unavailable,
with the reason, never as a zero.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio

from interactive_agents.llm._default_client import default_http_client
from interactive_agents.llm._transport import HttpClient

ServerEngine = Literal["vllm", "llama.cpp"]
METRICS_TIMEOUT = 10.0
DEFAULT_INTERVAL = 2.0

# Per engine: sample field -> (metric name, how series of several engines or models combine).
_NAMES: dict[ServerEngine, dict[str, tuple[str, str]]] = {
    "vllm": {
        "prefix_cache_queries": ("vllm:prefix_cache_queries_total", "sum"),
        "prefix_cache_hits": ("vllm:prefix_cache_hits_total", "sum"),
        "kv_cache_usage": ("vllm:kv_cache_usage_perc", "mean"),
        "requests_running": ("vllm:num_requests_running", "sum"),
        "requests_waiting": ("vllm:num_requests_waiting", "sum"),
        "preemptions": ("vllm:num_preemptions_total", "sum"),
    },
    "llama.cpp": {
        "prefix_cache_hits": ("llamacpp:prompt_tokens_cached_total", "sum"),
        "prompt_tokens_evaluated": ("llamacpp:prompt_tokens_total", "sum"),
        "requests_running": ("llamacpp:requests_processing", "sum"),
        "requests_waiting": ("llamacpp:requests_deferred", "sum"),
    },
}
_COUNTERS = ("prefix_cache_queries", "prefix_cache_hits", "preemptions")
_GAUGES = ("kv_cache_usage", "requests_running", "requests_waiting")


def parse_prometheus(text: str) -> dict[str, list[float]]:
    """Every sample of Prometheus' text format, by metric name (one value per label set)."""
    series: dict[str, list[float]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, _, rest = line.partition("{")
            rest = rest.rpartition("}")[2]
        else:
            name, _, rest = line.partition(" ")
        try:
            value = float(rest.split()[0])
        except (IndexError, ValueError):
            continue
        series.setdefault(name.strip(), []).append(value)
    return series


@dataclass(frozen=True, slots=True)
class MetricsSample:
    """One reading of a server's metrics; None where the server does not count it.

    ``prefix_cache_queries`` and ``prefix_cache_hits`` are prompt tokens looked up in
    the prefix cache and found there (llama.cpp: tokens evaluated plus reused, and
    reused); ``kv_cache_usage`` is a fraction of the KV cache (0-1).
    """

    engine: ServerEngine
    prefix_cache_queries: float | None = None
    prefix_cache_hits: float | None = None
    kv_cache_usage: float | None = None
    requests_running: float | None = None
    requests_waiting: float | None = None
    preemptions: float | None = None


def read_sample(text: str) -> MetricsSample | None:
    """The sample of a vLLM or llama.cpp ``/metrics`` page; None for other metrics."""
    series = parse_prometheus(text)
    for engine, names in _NAMES.items():
        values: dict[str, float] = {}
        for key, (name, combine) in names.items():
            if name in series:
                found = series[name]
                values[key] = sum(found) / len(found) if combine == "mean" else sum(found)
        if values:
            evaluated = values.pop("prompt_tokens_evaluated", None)
            if evaluated is not None and "prefix_cache_hits" in values:
                values["prefix_cache_queries"] = evaluated + values["prefix_cache_hits"]
            return MetricsSample(engine, **values)
    return None


def metrics_root(base_url: str) -> str:
    """Where a server's ``/metrics`` is: its base URL without the ``/v1`` of the API."""
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")


@dataclass(slots=True)
class _ServerReadings:
    """The readings of one server so far, or why it has none."""

    first: MetricsSample | None = None
    last: MetricsSample | None = None
    gauges: dict[str, list[float]] = field(default_factory=dict)
    unavailable: str | None = None

    def add(self, sample: MetricsSample) -> None:
        if self.first is None:
            self.first = sample
        self.last = sample
        for name in _GAUGES:
            value = getattr(sample, name)
            if value is not None:
                self.gauges.setdefault(name, []).append(value)

    def report(self) -> dict[str, Any]:
        if self.first is None or self.last is None:
            return {"available": False, "reason": self.unavailable or "no sample was taken"}
        counted = {name: _difference(self.first, self.last, name) for name in _COUNTERS}
        queries, hits = counted["prefix_cache_queries"], counted["prefix_cache_hits"]
        report: dict[str, Any] = {
            "available": True,
            "engine": self.last.engine,
            "samples": max((len(v) for v in self.gauges.values()), default=1),
            "prefix_cache_hit_rate": round(hits / queries, 4)
            if queries and hits is not None
            else None,
            **counted,
        }
        for name in _GAUGES:
            values = self.gauges.get(name)
            report[name] = (
                {"mean": round(sum(values) / len(values), 4), "max": round(max(values), 4)}
                if values
                else None
            )
        return report


def _difference(first: MetricsSample, last: MetricsSample, name: str) -> float | None:
    before: float | None = getattr(first, name)
    after: float | None = getattr(last, name)
    if before is None or after is None:
        return None
    return max(0.0, after - before)  # a restarted server starts its counters again


class ServerMetricsWatch:
    """The servers' readings while a block runs (:func:`watch_server_metrics`)."""

    def __init__(self, base_urls: Sequence[str], headers: Mapping[str, str] | None = None) -> None:
        self.base_urls = list(dict.fromkeys(url.rstrip("/") for url in base_urls))
        self._headers = dict(headers or {})
        self._readings = {url: _ServerReadings() for url in self.base_urls}
        self._clients: dict[str, HttpClient] = {}

    async def sample(self) -> None:
        """Read every server that has not been found without metrics, at once."""
        async with anyio.create_task_group() as group:
            for url, readings in self._readings.items():
                if readings.unavailable is None:
                    group.start_soon(self._read, url, readings)

    async def _read(self, url: str, readings: _ServerReadings) -> None:
        client = self._clients.get(url)
        if client is None:
            client = self._clients[url] = default_http_client(metrics_root(url), METRICS_TIMEOUT)
        get = getattr(client, "get", None)
        if get is None:
            readings.unavailable = "the HTTP client cannot GET"
            return
        try:
            async with get("/metrics", self._headers) as response:
                status, body = response.status, await response.read()
        except (TimeoutError, ConnectionError) as exc:
            if readings.first is None:  # never reached: say so; later misses are gaps
                readings.unavailable = f"GET /metrics failed: {exc or type(exc).__name__}"
            return
        if status != 200:
            readings.unavailable = f"GET /metrics answered {status}"
            return
        sample = read_sample(body.decode(errors="replace"))
        if sample is None:
            readings.unavailable = "its /metrics has neither vLLM's nor llama.cpp's counters"
            return
        readings.add(sample)

    def report(self) -> dict[str, dict[str, Any]]:
        """Per base URL: the server's engine, counters over the block (prefix-cache
        queries, hits and hit rate, preemptions), gauges' mean and max (KV-cache usage,
        requests running and waiting), or ``available: false`` with the reason."""
        return {url: readings.report() for url, readings in self._readings.items()}

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


@asynccontextmanager
async def watch_server_metrics(
    base_urls: Sequence[str],
    *,
    interval: float = DEFAULT_INTERVAL,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[ServerMetricsWatch]:
    """Sample the servers' ``/metrics`` when the block starts, every ``interval`` seconds
    while it runs, and when it ends; :meth:`ServerMetricsWatch.report` then holds the
    figures."""
    watch = ServerMetricsWatch(base_urls, headers)
    try:
        await watch.sample()

        async def keep_sampling() -> None:
            while True:
                await anyio.sleep(interval)
                await watch.sample()

        async with anyio.create_task_group() as group:
            group.start_soon(keep_sampling)
            try:
                yield watch
            finally:
                group.cancel_scope.cancel()
        await watch.sample()
    finally:
        with anyio.CancelScope(shield=True):
            await watch.aclose()
