"""Splitting a run into shards: which shard plays an item, where it keeps its records,
and its share of every limit.

An item goes to shard ``blake2b(id) mod N``: the same id lands in the same shard in
every process, on every machine and in every re-run (Python's ``hash()`` of a string
is salted per process, so it is never used). Shard ``K`` of ``N`` keeps its own run
directory ``OUT/shards/K-of-N/`` (manifest, records, journal), so a killed shard
resumes from its own journal. Each shard gets ``1/N`` of every endpoint's concurrency,
requests and tokens per minute, and of the run's dialogues in flight (at least 1 each),
so the shards together stay within the limits of the whole run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.runtime._counters import EngineStats

if TYPE_CHECKING:
    from interactive_agents.runtime._runner import Runner

SHARDS_DIR = "shards"
ASSIGNMENT = "blake2b-64(id) mod N"
"""How items are split, as the manifest and the summary name it."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` (from 0) of ``count``."""

    index: int
    count: int

    @property
    def name(self) -> str:
        return f"{self.index}-of-{self.count}"

    def directory(self, out: Path) -> Path:
        return out / SHARDS_DIR / self.name

    def share(self, total: int, *, floor: int = 1) -> int:
        """This shard's part of ``total`` (the parts sum to it; each at least ``floor``)."""
        base, extra = divmod(total, self.count)
        return max(base + (1 if self.index < extra else 0), floor)

    def endpoint(self, endpoint: EndpointConfig) -> EndpointConfig:
        """``endpoint`` with this shard's share of its limits (0, no limit, stays 0)."""
        return replace(
            endpoint,
            concurrency=self.share(endpoint.max_concurrency),
            rpm=self.share(endpoint.rpm) if endpoint.rpm else 0,
            tpm=self.share(endpoint.tpm) if endpoint.tpm else 0,
        )


def shard_of(item_id: str, count: int) -> int:
    """The shard (0 .. count-1) of an item id; stable across processes and machines."""
    digest = hashlib.blake2b(item_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def partition(items: Iterable[T], key: Callable[[T], str], count: int) -> list[list[T]]:
    """``items`` split into ``count`` lists by :func:`shard_of` their key, order kept."""
    parts: list[list[T]] = [[] for _ in range(count)]
    for item in items:
        parts[shard_of(key(item), count)].append(item)
    return parts


def endpoint_limits(endpoint: EndpointConfig) -> dict[str, int]:
    """The limits of an endpoint as shown in a summary (0: unlimited)."""
    return {"concurrency": endpoint.max_concurrency, "rpm": endpoint.rpm, "tpm": endpoint.tpm}


class RunnerSpec(Protocol):
    """A picklable description of a runner (its configuration, the endpoints resolved),
    from which a shard's process builds the shard's own runner."""

    def build(self, run_dir: Path, shard: Shard) -> Runner[Any, Any]:
        """The runner of ``shard`` (its share of every limit) on ``run_dir``."""

    def limits(self, shard: Shard) -> dict[str, Any]:
        """The shard's limits, for the manifest and the summary."""


COUNTER_FIELDS = tuple(
    f.name for f in fields(EngineStats) if f.name not in ("started", "flags_raised")
)
FLAG_PREFIX = "flag:"  # a shard's count of sessions raising a quality flag: "flag:echo"


def counters_of(stats: EngineStats) -> dict[str, int]:
    """The counters of a runner as plain integers (what a shard reports)."""
    flags = {FLAG_PREFIX + name: count for name, count in stats.flags_raised.items()}
    return {name: getattr(stats, name) for name in COUNTER_FIELDS} | flags


def add_counters(stats: EngineStats, parts: Iterable[dict[str, int]]) -> None:
    """Set ``stats`` to the sum of the shards' counters (``total``/``already_done`` are
    the caller's: the shards only see what they were given)."""
    parts = list(parts)
    sums = dict.fromkeys(COUNTER_FIELDS, 0)
    for part in parts:
        for name in COUNTER_FIELDS:
            sums[name] += part.get(name, 0)
    for name in COUNTER_FIELDS:
        if name not in ("total", "already_done"):
            setattr(stats, name, sums[name])
    stats.flags_raised.clear()
    for part in parts:
        for name, count in part.items():
            if name.startswith(FLAG_PREFIX):
                stats.flags_raised[name.removeprefix(FLAG_PREFIX)] += count
