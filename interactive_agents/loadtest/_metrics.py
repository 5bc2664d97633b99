"""The load report's figures, computed from the requests' outcomes.

Names follow ``vllm bench serve`` where the quantity is the same (``request_throughput``,
``mean_ttft_ms``, ``p99_itl_ms``, ``request_goodput``...), so results from either tool
can be read side by side; the earlier names of this report are kept beside them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from interactive_agents.errors import ConfigError

PERCENTILES = (50, 90, 99)
SLO_METRICS = ("ttft", "tpot", "e2el")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One request: timings (seconds), tokens, the turn depth of its conversation, or its
    error: a kind (``http_429``, ``timeout``, ``connection``, ``bad_response``) and what
    the server or the connection said (``message``).

    ``itl`` holds the gaps between successive streamed content chunks; ``ttft`` and
    ``itl`` are only known when the answer is streamed.
    """

    latency: float
    ttft: float | None = None
    prompt_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    itl: tuple[float, ...] = ()
    depth: int = 1
    error: str | None = None
    message: str = ""

    @property
    def tpot(self) -> float | None:
        """Time per output token after the first, as vLLM defines it."""
        if self.ttft is None or self.output_tokens < 2:
            return None
        return (self.latency - self.ttft) / (self.output_tokens - 1)

    def meets(self, slo: Mapping[str, float]) -> bool:
        """Every target met. A target on a figure the request lacks (TTFT of a whole
        answer) is not met; a one-token answer meets any TPOT target, as in vLLM."""
        tpot = self.tpot if self.output_tokens >= 2 or self.ttft is None else 0.0
        measured = {"ttft": self.ttft, "tpot": tpot, "e2el": self.latency}
        return all((value := measured[k]) is not None and value <= v for k, v in slo.items())


def parse_slo(items: Iterable[str]) -> dict[str, float]:
    """``ttft=0.5`` (seconds) pairs into a dict; unknown names or values are refused."""
    slo: dict[str, float] = {}
    for item in items:
        name, _, value = item.partition("=")
        name = name.strip().lower()
        if name not in SLO_METRICS:
            raise ConfigError(
                f"{item!r}: the metric must be one of {', '.join(SLO_METRICS)}", field="slo"
            )
        try:
            seconds = float(value)
        except ValueError:
            raise ConfigError(
                f"{item!r}: give the target in seconds, e.g. {name}=0.5", field="slo"
            ) from None
        if seconds <= 0:
            raise ConfigError(f"{item!r}: the target must be positive", field="slo")
        slo[name] = seconds
    return slo


def summarize(values: list[float]) -> dict[str, float] | None:
    """Mean and percentiles in seconds, or None without values (the earlier ``*_s`` form)."""
    if not values:
        return None
    points = np.percentile(np.asarray(values), PERCENTILES)
    summary = {"mean": round(float(np.mean(values)), 6)}
    summary.update({f"p{p}": round(float(v), 6) for p, v in zip(PERCENTILES, points, strict=True)})
    return summary


def distribution_ms(name: str, values: list[float]) -> dict[str, float | None]:
    """``mean_<name>_ms``, ``median_``, ``std_``, ``p50_``, ``p90_``, ``p99_`` (null if none)."""
    keys = ["mean", "median", "std", *(f"p{p}" for p in PERCENTILES)]
    if not values:
        return {f"{key}_{name}_ms": None for key in keys}
    array = np.asarray(values) * 1000.0
    figures = [np.mean(array), np.median(array), np.std(array), *np.percentile(array, PERCENTILES)]
    return {f"{key}_{name}_ms": round(float(v), 3) for key, v in zip(keys, figures, strict=True)}


def by_depth(good: list[Outcome]) -> list[dict[str, Any]]:
    """Per turn depth: requests, prompt and cached tokens, hit rate, mean TTFT."""
    groups: defaultdict[int, list[Outcome]] = defaultdict(list)
    for outcome in good:
        groups[outcome.depth].append(outcome)
    rows = []
    for depth in sorted(groups):
        group = groups[depth]
        prompt = sum(o.prompt_tokens for o in group)
        cached = sum(o.cached_tokens for o in group)
        ttfts = [o.ttft for o in group if o.ttft is not None]
        rows.append(
            {
                "turn": depth,
                "requests": len(group),
                "prompt_tokens": prompt,
                "cached_tokens": cached,
                "cache_hit_rate": round(cached / prompt, 4) if prompt else None,
                "mean_ttft_ms": round(float(np.mean(ttfts)) * 1000, 3) if ttfts else None,
            }
        )
    return rows


def figures(outcomes: list[Outcome], wall: float, slo: Mapping[str, float]) -> dict[str, Any]:
    """Throughput, goodput, latency distributions, cached tokens, errors."""
    good = [o for o in outcomes if o.error is None]
    prompt = sum(o.prompt_tokens for o in good)
    output = sum(o.output_tokens for o in good)
    cached = sum(o.cached_tokens for o in good)
    ttfts = [o.ttft for o in good if o.ttft is not None]
    tpots = [t for t in (o.tpot for o in good) if t is not None]
    itls = [gap for o in good for gap in o.itl]
    latencies = [o.latency for o in good]

    def per_second(count: float) -> float:
        return round(count / wall, 3) if wall > 0 else 0.0

    report: dict[str, Any] = {
        "duration": round(wall, 3),
        "completed": len(good),
        "failed": len(outcomes) - len(good),
        "total_input_tokens": prompt,
        "total_output_tokens": output,
        "total_cached_tokens": cached,
        "cache_hit_rate": round(cached / prompt, 4) if prompt else None,
        "request_throughput": per_second(len(good)),
        "request_goodput": per_second(sum(o.meets(slo) for o in good)) if slo else None,
        "output_throughput": per_second(output),
        "total_token_throughput": per_second(prompt + output),
        **distribution_ms("ttft", ttfts),
        **distribution_ms("tpot", tpots),
        **distribution_ms("itl", itls),
        **distribution_ms("e2el", latencies),
        "by_turn_depth": by_depth(good),
        # vLLM writes a list of error messages; the counts by kind are beside it.
        "errors": [f"{o.error}: {o.message}" for o in outcomes if o.error is not None],
        "error_counts": dict(Counter(o.error for o in outcomes if o.error is not None)),
        # The earlier names, kept working.
        "wall_s": round(wall, 3),
        "requests_per_s": per_second(len(good)),
        "prompt_tokens": prompt,
        "output_tokens": output,
        "output_tokens_per_s": per_second(output),
        "latency_s": summarize(latencies),
        "ttft_s": summarize(ttfts),
    }
    return report
