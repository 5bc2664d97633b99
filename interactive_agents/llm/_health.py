"""Whether an endpoint is answering at all: a circuit breaker shared by its calls.

A dialogue that retries through an outage spends its retries in a minute and fails,
though the server may be back in two. So once an endpoint has failed (refused, 5xx,
timed out) without a single answer for ``health_window`` seconds, its calls stop
retrying on their own: one call at a time probes it, the others wait for the probe's
outcome, and nobody's retries are spent. The first answer closes the breaker and every
waiting call goes on. Failing for ``outage_limit`` seconds raises
:class:`EndpointDownError`, which stops the run with the unfinished dialogues unfinished.
"""

from __future__ import annotations

import anyio

from interactive_agents.errors import EndpointDownError
from interactive_agents.llm._retry import RetryPolicy


class EndpointHealth:
    """The breaker of one endpoint (all its replicas: they serve the same model)."""

    def __init__(self, name: str, policy: RetryPolicy) -> None:
        self.name = name
        self.policy = policy
        self.failing_since: float | None = None
        self.pauses = 0
        self._probing = False
        self._probes = 0
        self._next_probe = 0.0
        self._changed = anyio.Event()

    @property
    def paused(self) -> bool:
        """Whether calls are held back (the breaker is open)."""
        since = self.failing_since
        return since is not None and self.policy.clock() - since >= self.policy.health_window

    async def admit(self) -> bool:
        """Wait until a call may go; True if it goes as the probe of a paused endpoint.

        A probe's failure costs its dialogue no retry: the outage limit bounds it instead.
        """
        policy = self.policy
        while self.failing_since is not None:
            now = policy.clock()
            down_for = now - self.failing_since
            if down_for < policy.health_window:
                return False
            if down_for >= policy.outage_limit:
                raise EndpointDownError(
                    f"{self.name}: no answer for {down_for:.0f} s (outage limit "
                    f"{policy.outage_limit:g} s); resume the run once it is back",
                    url=self.name,
                )
            if self._probing:
                await self._changed.wait()
            elif now >= self._next_probe:
                self._probing = True
                return True
            else:
                limit = self.failing_since + policy.outage_limit
                await policy.sleep(min(self._next_probe, limit) - now)
        return False

    def answered(self, probe: bool) -> None:
        """The endpoint answered (any HTTP status but 5xx): it is up."""
        if self.failing_since is not None:
            self.failing_since = None
            self._probes = 0
        if probe:
            self._end_probe()

    def failed(self, probe: bool) -> None:
        """A call found the endpoint down: refused, reset, timed out or 5xx."""
        now = self.policy.clock()
        if self.failing_since is None:
            self.failing_since = now
        if probe:
            self._probes += 1
            self.pauses += self._probes == 1
            self._next_probe = now + self.policy.wait(self._probes)
            self._end_probe()

    def abandoned(self, probe: bool) -> None:
        """A call ended without an outcome (cancelled): let another one probe."""
        if probe and self._probing:
            self._end_probe()

    def _end_probe(self) -> None:
        self._probing = False
        self._changed.set()
        self._changed = anyio.Event()
