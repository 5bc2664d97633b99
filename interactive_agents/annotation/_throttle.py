"""Brute-force throttling of sign-ins that slows the attacker, never the team.

Only **failed** attempts are counted, in a sliding window, per account name and per
client address; a successful sign-in costs nothing, so thirty annotators behind one
NAT or one reverse proxy can all sign in at nine o'clock. The rules:

* **An account under attack** (``per_account`` failures within the window, from any
  address) refuses further attempts without checking the password (so it cannot be
  probed) until its oldest failure leaves the window. Its owner still gets in from a
  browser where they signed in before: that browser holds a *device cookie* for the
  account (OWASP's "device cookies" defence), which exempts it from both limits while
  the cookie itself has fewer than ``per_account`` failures.
* **An address under attack** (``per_address`` failures within the window) refuses
  attempts on the accounts that have already failed from it; an account with no
  failure from that address is still let through, so one person typing wrong passwords
  (or spraying guesses over many names, one each) cannot lock out the colleagues who
  share the address, and each sprayed name gets a single guess per window.

Unknown names are counted like real ones, so throttling tells nothing about which
names exist. Counters live in memory (the platform is one process); a restart clears
them, and device cookies survive it in the database.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Key = tuple[str, ...]


@dataclass(slots=True)
class LoginThrottle:
    """Sliding-window counters of failed sign-ins; ``clock`` is injectable for tests."""

    per_account: int = 5
    per_address: int = 30
    window: float = 900.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[Key, deque[float]] = field(default_factory=dict)

    def wait(self, name: str, address: str, *, device: bool = False) -> float:
        """0 if an attempt may check its password now, else the seconds to wait.

        ``device`` is True when the browser holds a device cookie of this account that
        is not itself under attack (see :meth:`device_failures`).
        """
        if device:
            return 0.0
        now = self.clock()
        waits = [self._blocked(("account", name), self.per_account, now)]
        if self._count(("address", address), now) >= self.per_address:
            waits.append(self._blocked(("pair", address, name), 1, now))
        return max(waits)

    def failed(self, name: str, address: str, device_key: str | None = None) -> None:
        """Count a wrong password against the account, the address, and the device."""
        now = self.clock()
        keys: list[Key] = [("account", name), ("address", address), ("pair", address, name)]
        if device_key is not None:
            keys.append(("device", device_key))
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, name: str, address: str) -> None:
        """A right password clears the account's failures from this address, and its
        failures everywhere unless they lock it (then the owner came in by a device
        cookie, and the attacker stays locked out)."""
        self._failures.pop(("pair", address, name), None)
        if self._count(("account", name), self.clock()) < self.per_account:
            self._failures.pop(("account", name), None)

    def device_trusted(self, device_key: str) -> bool:
        """Whether a device cookie may still skip the limits (few failures of its own)."""
        return self._count(("device", device_key), self.clock()) < self.per_account

    def _blocked(self, key: Key, limit: int, now: float) -> float:
        times = self._recent(key, now)
        return times[0] + self.window - now if len(times) >= limit else 0.0

    def _count(self, key: Key, now: float) -> int:
        return len(self._recent(key, now))

    def _recent(self, key: Key, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times
