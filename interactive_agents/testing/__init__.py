"""Fakes for testing code that talks to OpenAI-compatible chat servers, as httpx ships
``MockTransport`` and trio ``trio.testing``.

:class:`FakeServer` is a real HTTP server on loopback, in a thread of its own: it plays
both roles of a counselling dialogue from a :data:`Script` (a :class:`Call` in, a reply
or a :class:`Fault` out), records every call, answers queued faults and comes back on
the same port after :meth:`~FakeServer.stop`. :class:`ServerOptions` make it behave as
a server under load: latency, a queue, token pacing, streaming, random faults and a
prefix cache whose hits are reported in ``usage.prompt_tokens_details.cached_tokens``.
:func:`spawn` runs it as a child process, ``python -m interactive_agents.testing``,
as the benchmarks do, so that its CPU time is its own.

It imports nothing else of the library, which never imports it.
"""

from __future__ import annotations

from interactive_agents.testing._completions import ServerStats
from interactive_agents.testing._fake_server import FakeServer
from interactive_agents.testing._faults import Fault
from interactive_agents.testing._options import ServerOptions
from interactive_agents.testing._scripts import Call, Script, default_script
from interactive_agents.testing._spawn import spawn

__all__ = [
    "Call",
    "FakeServer",
    "Fault",
    "Script",
    "ServerOptions",
    "ServerStats",
    "default_script",
    "spawn",
]
