"""Which replica serves a call: session affinity by consistent hashing with bounded loads.

A dialogue's next request to a role repeats the whole previous request as its prefix, so
it is cheapest on the replica that served the last one (its prefix cache holds the
history). ``affinity`` gives each stream (one role of one dialogue) a replica once, on
its first call, and keeps it there for the rest of the dialogue:

- the replica is chosen by consistent hashing — a ring of virtual points per replica,
  the stream going to the first point clockwise from its own hash — with bounded loads
  over *streams* (Mirrokni, Thorup and Zadimoghaddam, "Consistent Hashing with Bounded
  Loads", 2018): a replica already holding ``ceil((1 + epsilon) × mean)`` of the live
  streams, counting the new one, is passed over for the next one on the ring, so no
  replica is ever given a stream beyond ``(1 + epsilon)`` times the mean;
- the assignment is remembered; a call goes elsewhere only while its replica is
  unhealthy or full (as many requests in flight as it serves at once, when that
  capacity is known), to the first usable replica after it on the ring — the same one
  each time, so a detour's cache stays warm — and returns once the replica is usable;
- a stream is released when its dialogue ends, so the table holds live streams only,
  however many dialogues a run plays; its replica's count goes down with it.

How busy a replica is at the moment of a call plays no part: a burst of in-flight calls
on one replica moves no stream (each move would be a cache miss), only a full or failing
replica does. With one more replica, about 1/N of the streams hash to a new home (a
modulo hash would move most). ``fewest`` (fewest requests in flight, ties in rotation)
ignores streams.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Iterator, Sequence
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

    def release(self, stream: str) -> None:
        """Nothing to forget: this policy keeps no streams."""


@dataclass(slots=True)
class SessionAffinity:
    """Streams assigned once by consistent hashing with bounded loads, then kept.

    ``capacity`` is how many requests one replica serves at once (0: unknown, a replica
    is never full). Calls without a stream go to the replica with the fewest in flight.
    """

    replicas: int
    epsilon: float = 0.1
    capacity: int = 0
    _ring: list[int] = field(default_factory=list)
    _owner: list[int] = field(default_factory=list)
    _assigned: dict[str, int] = field(default_factory=dict)
    _streams: list[int] = field(default_factory=list)
    _fallback: FewestInFlight = field(default_factory=FewestInFlight)

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError("affinity routing needs at least one replica")
        if self.epsilon <= 0:
            raise ValueError("the load bound's epsilon must be positive")
        if self.capacity < 0:
            raise ValueError("a replica's capacity must not be negative (0: unknown)")
        points = sorted(
            (_point(f"replica-{index}#{virtual}"), index)
            for index in range(self.replicas)
            for virtual in range(VIRTUAL_POINTS)
        )
        self._ring = [point for point, _ in points]
        self._owner = [index for _, index in points]
        self._streams = [0] * self.replicas

    def _clockwise(self, stream: str) -> Iterator[int]:
        """Every replica once, in ring order from the stream's hash."""
        start = bisect.bisect(self._ring, _point(stream))
        seen: set[int] = set()
        for step in range(len(self._ring)):
            index = self._owner[(start + step) % len(self._ring)]
            if index not in seen:
                seen.add(index)
                yield index
                if len(seen) == self.replicas:
                    return

    def home(self, stream: str) -> int:
        """The replica a stream's hash points at (where it goes when every one has room)."""
        return next(self._clockwise(stream))

    def usable(self, load: ReplicaLoad) -> bool:
        """Healthy and not full: a stream's calls stay on such a replica."""
        return load.healthy and (self.capacity == 0 or load.in_flight < self.capacity)

    @property
    def live_streams(self) -> int:
        """Streams assigned and not yet released."""
        return len(self._assigned)

    def streams_on(self, index: int) -> int:
        """Live streams assigned to replica ``index``."""
        return self._streams[index]

    def bound(self) -> int:
        """Most streams a replica may hold once one more stream is assigned."""
        return math.ceil((1 + self.epsilon) * (len(self._assigned) + 1) / self.replicas)

    def _assign(self, stream: str, replicas: Sequence[ReplicaLoad]) -> int:
        """The first replica on the ring under the bound, usable ones first."""
        bound = self.bound()
        room = [i for i in self._clockwise(stream) if self._streams[i] < bound]
        index = next((i for i in room if self.usable(replicas[i])), room[0])
        self._assigned[stream] = index
        self._streams[index] += 1
        return index

    def choose(self, stream: str | None, replicas: Sequence[ReplicaLoad]) -> int:
        if stream is None or len(replicas) == 1:
            return self._fallback.choose(stream, replicas)
        index = self._assigned.get(stream)
        if index is None:
            index = self._assign(stream, replicas)
        if self.usable(replicas[index]):
            return index
        detour = next((i for i in self._clockwise(stream) if self.usable(replicas[i])), None)
        return detour if detour is not None else self._fallback.choose(stream, replicas)

    def release(self, stream: str) -> None:
        """The stream's dialogue is over: forget it and free its place on its replica."""
        index = self._assigned.pop(stream, None)
        if index is not None:
            self._streams[index] -= 1


RoutingPolicy = FewestInFlight | SessionAffinity


def routing_policy(
    name: RoutingName, replicas: int, epsilon: float = 0.1, capacity: int = 0
) -> RoutingPolicy:
    """The policy named in the configuration (``affinity`` is the default)."""
    if name == "fewest":
        return FewestInFlight()
    return SessionAffinity(replicas, epsilon, capacity)
