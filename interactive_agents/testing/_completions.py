"""The routes of one fake OpenAI-compatible server and the state they share.

``POST /v1/chat/completions`` answers whole or streamed (SSE), with ``n`` choices;
``GET /v1/models`` and ``/v1/models/{model}``, ``/health``, ``/stats`` (what it served
and injected, and the process's CPU time, so that a benchmark can charge the server's
own cost to it) and ``/metrics`` (the same, in vLLM's Prometheus names). Every
route runs on the server's one event loop, so the counters need no lock; the recorded
calls and queued faults have one, as tests reach them from their own thread.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from aiohttp import web

from interactive_agents.testing._faults import JSON, Fault, answer_fault, error_document
from interactive_agents.testing._options import FAULT_KINDS, ServerOptions
from interactive_agents.testing._prefix_cache import PrefixCache, tokens_of
from interactive_agents.testing._scripts import Call, Script, call_of

HOST = "127.0.0.1"
# Generated answers: no closing phrase, no list, nothing a refiner rejects.
FILLER = ("we", "can", "look", "at", "this", "slowly", "together", "and", "notice", "what")
MAX_BODY = 64 * 1024 * 1024


@dataclass(slots=True)
class ServerStats:
    """What a server has done so far, as ``GET /stats`` reports it (with ``cpu_seconds``)."""

    pid: int = field(default_factory=os.getpid)
    requests: int = 0
    served: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    queued: int = 0
    disconnects: int = 0
    injected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    busy_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class _Answer:
    """One answer being sent: the same message in each of ``n`` choices."""

    head: dict[str, Any]
    n: int
    text: str
    finish: str
    usage: dict[str, Any]


class ChatCompletions:
    """One server's behaviour: ``script`` answers (None: generated filler words),
    ``options`` say how it behaves under load; requests are recorded in ``calls`` when
    ``record``. Capacity, seed and cache take effect when :meth:`application` is made."""

    def __init__(self, script: Script | None, options: ServerOptions, *, record: bool) -> None:
        self.script = script
        self.options = options
        self.record = record
        self.calls: list[Call] = []
        self.stats = ServerStats()
        self.port = 0
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._rng = random.Random(options.seed)
        self._slots: asyncio.Semaphore | None = None
        self._cache: PrefixCache | None = None
        self._answered = 0

    def fail_next(self, *faults: Fault) -> None:
        """Answer the next requests with these faults, one each, in order."""
        with self._lock:
            self._faults.extend(faults)

    def calls_of(self, role: str) -> list[Call]:
        """The recorded calls of one dialogue role."""
        with self._lock:
            return [call for call in self.calls if call.role == role]

    def application(self) -> web.Application:
        """A fresh aiohttp application with every route; the queue and cache start empty."""
        options = self.options
        self._rng = random.Random(options.seed)
        self._slots = asyncio.Semaphore(options.capacity) if options.capacity > 0 else None
        self._cache = None
        if options.cache_blocks > 0:
            self._cache = PrefixCache(options.block_tokens, options.cache_blocks)
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/v1/chat/completions", self._chat_completions)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/v1/models/{model}", self._model)
        app.router.add_get("/health", self._health)
        app.router.add_get("/stats", self._stats)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def _health(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def _stats(self, _request: web.Request) -> web.Response:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        document = asdict(self.stats) | {"cpu_seconds": usage.ru_utime + usage.ru_stime}
        return web.Response(body=orjson.dumps(document), content_type=JSON)

    async def _metrics(self, _request: web.Request) -> web.Response:
        """The counters vLLM exposes, under its names: prompt tokens looked up in and
        served from the prefix cache, requests running and queued (no KV cache here)."""
        stats, model = self.stats, self.options.model
        lines = [
            f'vllm:{name}{{engine="0",model_name="{model}"}} {value}'
            for name, value in (
                ("prefix_cache_queries_total", float(stats.prompt_tokens)),
                ("prefix_cache_hits_total", float(stats.cached_tokens)),
                ("num_requests_running", float(stats.in_flight)),
                ("num_requests_waiting", float(stats.queued)),
                ("num_preemptions_total", 0.0),
            )
        ]
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")

    def _serves(self, model: object) -> bool:
        return not self.options.models or model in self.options.models

    async def _models(self, _request: web.Request) -> web.Response:
        names = self.options.models or (self.options.model,)
        document = {"object": "list", "data": [_model_entry(name) for name in names]}
        return web.Response(body=orjson.dumps(document), content_type=JSON)

    async def _model(self, request: web.Request) -> web.Response:
        name = request.match_info["model"]
        if not self._serves(name):
            return _no_such_model(name)
        return web.Response(body=orjson.dumps(_model_entry(name)), content_type=JSON)

    async def _chat_completions(self, request: web.Request) -> web.StreamResponse:
        """Refuse (a drawn fault) at once, or queue for a slot, wait, then answer."""
        self.stats.requests += 1
        try:
            body = orjson.loads(await request.read())
            messages = body["messages"]
            if not isinstance(messages, list):
                raise TypeError("messages must be a list")
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            error = error_document(str(exc), "invalid_request_error")
            return web.Response(status=400, body=error, content_type=JSON)
        if not self._serves(body.get("model")):
            return _no_such_model(body.get("model"))
        call = None
        if self.record or self.script is not None:
            call = call_of(body, messages, self.port)
        kind = self.options.draw_fault(self._rng)
        queued = self._arrive(call, admitted=kind is None)
        if kind is not None:
            self.stats.injected[kind] += 1
            return await answer_fault(request, self.options.fault(kind))
        self.stats.queued += 1
        try:
            if self._slots is not None:
                await self._slots.acquire()
        finally:
            self.stats.queued -= 1
        self.stats.in_flight += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
        try:
            return await self._answer(request, body, messages, call, queued)
        except ConnectionResetError:  # the client left mid-stream; nobody reads the answer
            self.stats.disconnects += 1
            return web.Response()
        finally:
            self.stats.in_flight -= 1
            if self._slots is not None:
                self._slots.release()

    def _arrive(self, call: Call | None, *, admitted: bool) -> Fault | None:
        """Record the call and, unless a drawn fault refused it, take the next queued
        fault, as one step."""
        with self._lock:
            if call is not None and self.record:
                self.calls.append(call)
            return self._faults.popleft() if admitted and self._faults else None

    async def _answer(
        self,
        request: web.Request,
        body: dict[str, Any],
        messages: list[Any],
        call: Call | None,
        queued: Fault | None,
    ) -> web.StreamResponse:
        """Prefill (the latency, plus the uncached prompt), then the reply or a fault."""
        options = self.options
        prompt = tokens_of(messages)
        cached = min(self._cache.lookup(prompt), len(prompt)) if self._cache else 0
        wait = options.draw_latency(self._rng) + options.prefill_per_token * (len(prompt) - cached)
        await asyncio.sleep(wait)
        if queued is not None:
            return await answer_fault(request, queued)
        if self.script is not None:
            assert call is not None
            reply = self.script(call)
            if isinstance(reply, Fault):
                return await answer_fault(request, reply)
            text, finish = reply, "stop"
        else:
            text, finish = self._filler(body)
        words = len(text.split())
        n = body.get("n")
        n = n if isinstance(n, int) and n > 0 else 1
        usage: dict[str, Any] = {
            "prompt_tokens": len(prompt),
            "completion_tokens": n * words,
            "total_tokens": len(prompt) + n * words,
        }
        if self._cache is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        self._answered += 1
        head = {
            "id": f"chatcmpl-fake-{self._answered}",
            "created": int(time.time()),
            "model": body.get("model") or options.model,
        }
        answer = _Answer(head, n, text, finish, usage)
        rate = options.tokens_per_second
        stream_options = body.get("stream_options")
        if body.get("stream"):
            with_usage = isinstance(stream_options, dict) and stream_options.get("include_usage")
            response = await self._stream(request, answer, with_usage=bool(with_usage))
        else:
            if rate > 0:
                await asyncio.sleep(words / rate)
            response = self._whole(answer)
        if self._cache is not None:
            self._cache.insert([*prompt, *tokens_of([{"role": "assistant", "content": text}])])
        stats = self.stats
        stats.served += 1
        stats.prompt_tokens += len(prompt)
        stats.cached_tokens += cached
        stats.completion_tokens += n * words
        stats.busy_seconds += wait + (words / rate if rate > 0 else 0.0)
        return response

    def _filler(self, body: dict[str, Any]) -> tuple[str, str]:
        """A generated reply of ``output_tokens`` words, cut at ``max_tokens``; a request
        with a seed always gets the same reply, so every dialogue has its own history."""
        seed = body.get("seed")
        rng = random.Random(seed) if isinstance(seed, int) else self._rng
        count = rng.randint(*self.options.output_tokens)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if isinstance(limit, int) and 0 < limit < count:
            count, finish = limit, "length"
        return " ".join(rng.choices(FILLER, k=count)).capitalize() + ".", finish

    def _whole(self, answer: _Answer) -> web.Response:
        """A ``chat.completion``."""
        message = {"role": "assistant", "content": answer.text}
        choices = [
            {"index": i, "message": message, "finish_reason": answer.finish, "logprobs": None}
            for i in range(answer.n)
        ]
        document = {
            **answer.head,
            "object": "chat.completion",
            "choices": choices,
            "usage": answer.usage,
        }
        return web.Response(body=orjson.dumps(document), content_type=JSON, charset="utf-8")

    async def _stream(
        self, request: web.Request, answer: _Answer, *, with_usage: bool
    ) -> web.StreamResponse:
        """SSE chunks, one word per chunk per choice, paced at ``tokens_per_second``."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        head = {**answer.head, "object": "chat.completion.chunk"}

        def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            return b"data: " + orjson.dumps({**head, "choices": choices, **extra}) + b"\n\n"

        def deltas(delta: dict[str, str], finish: str | None = None) -> bytes:
            choices = [
                {"index": i, "delta": delta, "finish_reason": finish} for i in range(answer.n)
            ]
            return event(choices)

        rate = self.options.tokens_per_second
        loop = asyncio.get_running_loop()
        start = loop.time()
        await response.write(deltas({"role": "assistant", "content": ""}))
        for i, piece in enumerate(answer.text.split(" ")):
            if rate > 0:
                await asyncio.sleep(start + (i + 1) / rate - loop.time())
            await response.write(deltas({"content": piece if i == 0 else " " + piece}))
        tail = deltas({}, answer.finish)
        if with_usage:
            tail += event([], usage=answer.usage)
        await response.write(tail + b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _model_entry(name: str) -> dict[str, object]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "fake"}


def _no_such_model(name: object) -> web.Response:
    """vLLM's answer to a model it does not serve."""
    error = error_document(f"The model `{name}` does not exist.", "NotFoundError")
    return web.Response(status=404, body=error, content_type=JSON)


async def listen(server: ChatCompletions, port: int) -> web.AppRunner:
    """Serve ``server`` on loopback at ``port`` (0: any free one, then kept in ``port``)."""
    runner = web.AppRunner(server.application(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, HOST, port, backlog=4096, reuse_address=True)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    server.port = runner.addresses[0][1]
    return runner
