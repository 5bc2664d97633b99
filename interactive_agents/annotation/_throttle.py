"""Brute-force throttling of sign-ins, per account name and per client address.

Every attempt counts until it succeeds; once a name or an address has made too many
in the window, further attempts are refused without checking the password (so a
locked account cannot be probed) until the oldest attempt leaves the window. Unknown
names are throttled exactly like real ones, so throttling tells nothing about which
names exist. Counters live in memory: the platform is one process.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class LoginThrottle:
    """Sliding-window counters of sign-in attempts; ``clock`` is injectable for tests."""

    per_account: int = 5
    per_address: int = 30
    window: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _attempts: dict[tuple[str, str], deque[float]] = field(default_factory=dict)

    def admit(self, name: str, address: str) -> float:
        """Count an attempt and return 0, or the seconds to wait if it is refused."""
        now = self.clock()
        keys = ((("account", name), self.per_account), (("address", address), self.per_address))
        wait = 0.0
        for key, limit in keys:
            times = self._recent(key, now)
            if len(times) >= limit:
                wait = max(wait, times[0] + self.window - now)
        if wait > 0:
            return wait
        for key, _ in keys:
            self._attempts.setdefault(key, deque()).append(now)
        return 0.0

    def succeeded(self, name: str) -> None:
        """A right password clears the account's count (not the address's)."""
        self._attempts.pop(("account", name), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._attempts.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._attempts.pop(key, None)
        return times
