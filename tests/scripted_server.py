"""A scripted OpenAI-compatible chat server on loopback, for integration tests.

It plays both roles from scripts: a request whose history (after the system prompt)
starts with an ``assistant`` message comes from the client (its own greeting), one that
starts with ``user`` from the counselor. Faults can be queued or returned by a script;
they are the benchmarks' fault table (``benchmarks/mock_server.py``: any status with
Retry-After, a hang, a reset, any raw body), answered by the same code as there. Every
request is recorded, and the server runs in its own thread and event loop, so a test can
drive the engine in-process or as a separate CLI process; :meth:`ScriptedServer.stop`
then :meth:`ScriptedServer.start` brings it back on the same port (an outage).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from mock_server import Fault, completion_document, fault_response

__all__ = ["Call", "Fault", "Script", "ScriptedServer", "default_script"]


@dataclass(frozen=True)
class Call:
    """What a script sees of one request."""

    role: str
    turn: int
    messages: list[dict[str, str]]
    body: dict[str, Any]
    port: int

    @property
    def system(self) -> str:
        return self.messages[0]["content"] if self.messages[0]["role"] == "system" else ""

    @property
    def last_user(self) -> str:
        """The other party's latest utterance (a stage cue may follow it)."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")


Script = Callable[[Call], "str | Fault"]


def default_script(call: Call) -> str | Fault:
    """Polite, well-formed replies that never end the session."""
    if call.role == "client":
        return f"I keep worrying about it, part {call.turn}."
    return f"What goes through your mind when that happens, part {call.turn}?"


@dataclass
class ScriptedServer:
    """Start with :meth:`start`, stop with :meth:`stop`; ``base_url`` ends in ``/v1``."""

    script: Script = default_script
    delay: float = 0.0
    faults: deque[Fault] = field(default_factory=deque)
    calls: list[Call] = field(default_factory=list)
    base_url: str = ""
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the scripted server did not start")
        return self.base_url

    def _serve(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=4096, reuse_address=True)
        self._loop.run_until_complete(site.start())
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    def stop(self) -> None:
        """Stop listening; connections then fail as refused until :meth:`start`."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = self._thread = None

    def fail_next(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def calls_of(self, role: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.role == role]

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": []})

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        messages = body["messages"]
        history = [m for m in messages if m["role"] != "system"]
        role = "client" if history and history[0]["role"] == "assistant" else "counselor"
        users = sum(1 for m in history if m["role"] == "user")
        turn = users + 1 if role == "client" else users
        call = Call(role, turn, messages, body, self.port)
        with self._lock:
            self.calls.append(call)
            fault = self.faults.popleft() if self.faults else None
        if self.delay:
            await asyncio.sleep(self.delay)
        outcome = fault if fault is not None else self.script(call)
        if isinstance(outcome, Fault):
            return await fault_response(request, outcome)
        usage = {
            "prompt_tokens": sum(len(m["content"]) for m in messages) // 4,
            "completion_tokens": len(outcome) // 4 + 1,
        }
        document = completion_document(body.get("model"), outcome, usage)
        return web.Response(
            body=orjson.dumps(document), content_type="application/json", charset="utf-8"
        )
