"""Which replica serves a call: session affinity by consistent hashing with bounded load.

A dialogue's next request to a role repeats the whole previous request as its prefix, so
it is cheapest on the replica that served the last one (its prefix cache holds the
history). ``affinity`` keeps each stream (one role of one dialogue) on one replica by
consistent hashing — a ring of virtual points per replica, a stream going to the first
point clockwise from its own hash — and bounds the load (Mirrokni, Thorup and
Zadimoghaddam, "Consistent Hashing with Bounded Loads", 2018): a replica already
serving more than ``(1 + epsilon)`` times the mean load is passed over for the next one
on the ring, and so is a replica marked unhealthy. A stream thus moves only when its
replica is full or unwell, and adding a replica moves only about 1/N of the streams.
``fewest`` (fewest requests in flight, ties in rotation) ignores the streams.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

RoutingName = Literal["affinity", "fewest"]

VIRTUAL_POINTS = 64
"""Points per replica on the ring: enough for an even spread of streams over 2-16 replicas."""


def _point(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@dataclass(slots=True)
class ReplicaLoad:
    """What routing needs to know of a replica: requests in flight and health."""

    in_flight: int = 0
    healthy: bool = True


@dataclass(slots=True)
class FewestInFlight:
    """The replica with the fewest requests in flight; ties broken in rotation."""

    _turn: int = 0

    def choose(self, stream: str | None, replicas: Sequence[ReplicaLoad]) -> int:
        count = len(replicas)
        self._turn = (self._turn + 1) % count
        order = [(self._turn + i) % count for i in range(count)]
        usable = [i for i in order if replicas[i].healthy] or order
        return min(usable, key=lambda i: replicas[i].in_flight)


@dataclass(slots=True)
class SessionAffinity:
    """Consistent hashing with bounded load; calls without a stream go to the fewest."""

    replicas: int
    epsilon: float = 0.25
    _ring: list[int] = field(default_factory=list)
    _owner: list[int] = field(default_factory=list)
    _fallback: FewestInFlight = field(default_factory=FewestInFlight)

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError("affinity routing needs at least one replica")
        if self.epsilon <= 0:
            raise ValueError("the load bound's epsilon must be positive")
        points = sorted(
            (_point(f"replica-{index}#{virtual}"), index)
            for index in range(self.replicas)
            for virtual in range(VIRTUAL_POINTS)
        )
        self._ring = [point for point, _ in points]
        self._owner = [index for _, index in points]

    def home(self, stream: str) -> int:
        """The replica a stream goes to when every replica has room."""
        start = bisect.bisect(self._ring, _point(stream)) % len(self._ring)
        return self._owner[start]

    def choose(self, stream: str | None, replicas: Sequence[ReplicaLoad]) -> int:
        if stream is None or len(replicas) == 1:
            return self._fallback.choose(stream, replicas)
        total = sum(r.in_flight for r in replicas) + 1  # the call being placed
        bound = math.ceil((1 + self.epsilon) * total / len(replicas))
        start = bisect.bisect(self._ring, _point(stream)) % len(self._ring)
        seen: set[int] = set()
        for step in range(len(self._ring)):
            index = self._owner[(start + step) % len(self._ring)]
            if index in seen:
                continue
            seen.add(index)
            if replicas[index].healthy and replicas[index].in_flight < bound:
                return index
            if len(seen) == len(replicas):
                break
        return self._fallback.choose(stream, replicas)


RoutingPolicy = FewestInFlight | SessionAffinity


def routing_policy(name: RoutingName, replicas: int, epsilon: float = 0.25) -> RoutingPolicy:
    """The policy named in the configuration (``affinity`` is the default)."""
    if name == "fewest":
        return FewestInFlight()
    return SessionAffinity(replicas, epsilon)
