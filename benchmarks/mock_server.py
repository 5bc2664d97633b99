"""A fast OpenAI-compatible chat server on loopback: the load target of the benchmarks.

It answers like vLLM would (latency, limited capacity with a queue, token pacing, faults)
while spending as little CPU as possible per request, so that what a benchmark measures
is the client, not the target. Run it as its own process:

    python benchmarks/mock_server.py --port 0 --latency 0.1 --capacity 256 --p429 0.05

It prints one line ``READY http://127.0.0.1:PORT`` once it listens, and stops on
SIGTERM or SIGINT. ``GET /stats`` reports what it served and injected, and its CPU time.

This module is also the one fault-injecting OpenAI fake of the tests: :class:`Fault`
(the fault table: a status, ``Retry-After``, a hang, a dropped connection, or any raw
body such as truncated JSON, HTML or an odd completion), :func:`fault_response` and
:func:`completion_document` serve both this server and ``tests/scripted_server.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from aiohttp import web

HOST = "127.0.0.1"
WORD = "ok"
LATENCY_DISTS = ("fixed", "uniform", "exponential", "lognormal")
JSON = "application/json"
# Injectable faults, in the order they are drawn.
FAULTS = ("429", "500", "503", "timeout")


@dataclass(frozen=True, slots=True)
class Options:
    """How the server behaves; one field per command-line option."""

    port: int = 0
    model: str = "mock-model"
    latency: float = 0.1
    latency_dist: str = "fixed"
    latency_jitter: float = 0.0
    output_tokens: tuple[int, int] = (16, 16)
    tokens_per_second: float = 0.0
    capacity: int = 0
    p429: float = 0.0
    retry_after: float = 1.0
    p500: float = 0.0
    p503: float = 0.0
    ptimeout: float = 0.0
    hang_seconds: float = 30.0
    seed: int | None = None


@dataclass(slots=True)
class Stats:
    """Counters served by ``GET /stats``; mutated only on the event loop, so no lock."""

    pid: int
    requests: int = 0
    served: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    queued: int = 0
    disconnects: int = 0
    injected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULTS, 0))
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected failure or odd answer, in place of a normal completion.

    ``status`` with an OpenAI error document (or ``body`` verbatim), after ``hang``
    seconds; ``retry_after`` adds the header; ``reset`` drops the connection unanswered.
    """

    status: int = 500
    retry_after: float | None = None
    hang: float = 0.0
    reset: bool = False
    body: bytes | None = None
    content_type: str = JSON


def error_kind(status: int) -> str:
    """The OpenAI error ``type`` of a status."""
    if status == 429:
        return "rate_limit_error"
    if status in (401, 403):
        return "authentication_error"
    return "server_error" if status >= 500 else "invalid_request_error"


async def fault_response(request: web.Request, fault: Fault) -> web.Response:
    """Answer ``request`` as ``fault`` says (a reset answers nothing at all)."""
    if fault.hang:
        await asyncio.sleep(fault.hang)
    if fault.reset:
        request.protocol.force_close()
        return web.Response(status=fault.status)  # never sent: the connection is closed
    headers = {}
    if fault.retry_after is not None:
        headers = {
            "Retry-After": f"{fault.retry_after:g}",
            "retry-after-ms": f"{fault.retry_after * 1e3:g}",
        }
    body = fault.body
    if body is None:
        body = error_body(f"injected {fault.status}", error_kind(fault.status))
    return web.Response(
        status=fault.status, body=body, content_type=fault.content_type, headers=headers
    )


def completion_document(
    model: str, content: object, usage: dict[str, int], **message: object
) -> dict[str, Any]:
    """A ``chat.completion`` with one choice; ``message`` adds fields such as
    ``reasoning_content``; ``content`` may be anything, to test odd answers."""
    return {
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }


def sample_latency(rng: random.Random, options: Options) -> float:
    """Draw one time-to-first-token: ``latency`` is the floor (exponential), the centre
    (uniform, ± jitter) or the median (lognormal, jitter = sigma)."""
    base, jitter = options.latency, options.latency_jitter
    if options.latency_dist == "uniform":
        return max(0.0, rng.uniform(base - jitter, base + jitter))
    if options.latency_dist == "exponential":
        return base + (rng.expovariate(1.0 / jitter) if jitter > 0 else 0.0)
    if options.latency_dist == "lognormal":
        return base * rng.lognormvariate(0.0, jitter)
    return base


def prompt_tokens(messages: Sequence[Any]) -> int:
    """Estimate prompt tokens as characters / 4, as a tokenizer would roughly count."""
    chars = sum(
        len(content)
        for message in messages
        if isinstance(message, dict) and isinstance(content := message.get("content"), str)
    )
    return max(1, chars // 4)


def error_body(message: str, kind: str) -> bytes:
    """An OpenAI-style error document."""
    return orjson.dumps({"error": {"message": message, "type": kind, "code": None}})


class MockServer:
    """The request handlers and the state they share (stats, RNG, capacity)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.stats = Stats(pid=os.getpid())
        self.rng = random.Random(options.seed)
        self.capacity = asyncio.Semaphore(options.capacity) if options.capacity > 0 else None
        self.counter = 0

    def app(self) -> web.Application:
        """The aiohttp application with every route."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat_completions)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/health", self.health)
        app.router.add_get("/stats", self.stats_handler)
        return app

    async def health(self, _request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def stats_handler(self, _request: web.Request) -> web.Response:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        document = asdict(self.stats) | {"cpu_seconds": usage.ru_utime + usage.ru_stime}
        return web.Response(body=orjson.dumps(document), content_type=JSON)

    async def models(self, _request: web.Request) -> web.Response:
        model = {"id": self.options.model, "object": "model", "created": 0, "owned_by": "mock"}
        return web.Response(
            body=orjson.dumps({"object": "list", "data": [model]}), content_type=JSON
        )

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        """Reject (fault), or queue for capacity, wait the latency, then answer."""
        self.stats.requests += 1
        try:
            body = orjson.loads(await request.read())
            messages = body["messages"]
            if not isinstance(messages, list):
                raise TypeError("messages must be a list")
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            return web.Response(
                status=400, body=error_body(str(exc), "invalid_request_error"), content_type=JSON
            )
        fault = await self.inject_fault(request)
        if fault is not None:
            return fault
        self.stats.queued += 1
        if self.capacity is not None:
            await self.capacity.acquire()
        self.stats.queued -= 1
        self.stats.in_flight += 1
        self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
        try:
            return await self.generate(request, body, prompt_tokens(messages))
        except ConnectionResetError:  # the client left mid-stream; nobody reads the answer
            self.stats.disconnects += 1
            return web.Response()
        finally:
            self.stats.in_flight -= 1
            if self.capacity is not None:
                self.capacity.release()

    def draw_fault(self) -> str | None:
        """Pick at most one fault for a request, with the configured probabilities."""
        options, draw = self.options, self.rng.random()
        for kind, probability in zip(
            FAULTS, (options.p429, options.p500, options.p503, options.ptimeout), strict=True
        ):
            if draw < probability:
                return kind
            draw -= probability
        return None

    async def inject_fault(self, request: web.Request) -> web.Response | None:
        """Answer with an error at once, or hang and then drop the connection unanswered."""
        kind = self.draw_fault()
        if kind is None:
            return None
        self.stats.injected[kind] += 1
        options = self.options
        if kind == "timeout":
            fault = Fault(504, hang=options.hang_seconds, reset=True)
        else:
            retry_after = options.retry_after if kind == "429" else None
            fault = Fault(int(kind), retry_after=retry_after)
        return await fault_response(request, fault)

    async def generate(
        self, request: web.Request, body: dict[str, Any], n_prompt: int
    ) -> web.StreamResponse:
        """Wait the latency and answer, streamed or whole."""
        options = self.options
        low, high = options.output_tokens
        seed = body.get("seed")
        length_rng = random.Random(seed) if isinstance(seed, int) else self.rng
        tokens = length_rng.randint(low, high)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        finish = "stop"
        if isinstance(limit, int) and 0 < limit < tokens:
            tokens, finish = limit, "length"
        n = body.get("n")
        n = n if isinstance(n, int) and n > 0 else 1
        usage = {
            "prompt_tokens": n_prompt,
            "completion_tokens": n * tokens,
            "total_tokens": n_prompt + n * tokens,
        }
        self.counter += 1
        head = {
            "id": f"chatcmpl-mock-{self.counter}",
            "created": int(time.time()),
            "model": body.get("model") or options.model,
        }
        await asyncio.sleep(sample_latency(self.rng, options))
        if body.get("stream"):
            stream_options = body.get("stream_options")
            with_usage = isinstance(stream_options, dict) and stream_options.get("include_usage")
            response = await self.stream(
                request, head, n, tokens, finish, usage if with_usage else None
            )
        else:
            if options.tokens_per_second > 0:
                await asyncio.sleep(tokens / options.tokens_per_second)
            response = self.whole(head, n, tokens, finish, usage)
        self.stats.served += 1
        self.stats.prompt_tokens += n_prompt
        self.stats.completion_tokens += n * tokens
        return response

    def whole(
        self, head: dict[str, Any], n: int, tokens: int, finish: str, usage: dict[str, int]
    ) -> web.Response:
        """A non-streaming ``chat.completion`` with ``n`` identical choices."""
        message = {"role": "assistant", "content": " ".join([WORD] * tokens)}
        choices = [
            {"index": i, "message": message, "finish_reason": finish, "logprobs": None}
            for i in range(n)
        ]
        document = {**head, "object": "chat.completion", "choices": choices, "usage": usage}
        return web.Response(body=orjson.dumps(document), content_type=JSON)

    async def stream(
        self,
        request: web.Request,
        head: dict[str, Any],
        n: int,
        tokens: int,
        finish: str,
        usage: dict[str, int] | None,
    ) -> web.StreamResponse:
        """SSE chunks, one token per chunk per choice, paced at ``tokens_per_second``."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        head = {**head, "object": "chat.completion.chunk"}

        def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            return b"data: " + orjson.dumps({**head, "choices": choices, **extra}) + b"\n\n"

        def deltas(delta: dict[str, str], finish_reason: str | None = None) -> bytes:
            return event(
                [{"index": i, "delta": delta, "finish_reason": finish_reason} for i in range(n)]
            )

        rate = self.options.tokens_per_second
        start = asyncio.get_running_loop().time()
        await response.write(deltas({"role": "assistant", "content": ""}))
        for i in range(tokens):
            if rate > 0:
                await asyncio.sleep(start + (i + 1) / rate - asyncio.get_running_loop().time())
            await response.write(deltas({"content": WORD if i == 0 else " " + WORD}))
        tail = deltas({}, finish)
        if usage is not None:
            tail += event([], usage=usage)
        await response.write(tail + b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def token_range(text: str) -> tuple[int, int]:
    """Parse ``N`` or ``LOW-HIGH`` (tokens) for ``--output-tokens``."""
    low, _, high = text.partition("-")
    bounds = (int(low), int(high or low))
    if not 1 <= bounds[0] <= bounds[1]:
        raise argparse.ArgumentTypeError(f"expected N or LOW-HIGH with 1 <= LOW <= HIGH: {text}")
    return bounds


def parse_options(argv: Sequence[str] | None = None) -> Options:
    """Read the command line into ``Options``."""
    defaults = Options()
    parser = argparse.ArgumentParser(description="A fast OpenAI-compatible mock chat server.")
    add = parser.add_argument
    add("--port", type=int, default=0, help="0 picks a free port (see the READY line)")
    add("--model", default=defaults.model)
    add("--latency", type=float, default=defaults.latency, help="seconds to first token")
    add("--latency-dist", choices=LATENCY_DISTS, default=defaults.latency_dist)
    add(
        "--latency-jitter",
        type=float,
        default=0.0,
        help="± for uniform, mean of the exponential tail, sigma for lognormal",
    )
    add("--output-tokens", type=token_range, default=defaults.output_tokens, help="N or LOW-HIGH")
    add("--tokens-per-second", type=float, default=0.0, help="0 = instant generation")
    add("--capacity", type=int, default=0, help="max requests generating at once; 0 = unlimited")
    add("--p429", type=float, default=0.0)
    add("--retry-after", type=float, default=defaults.retry_after, help="seconds, sent with 429")
    add("--p500", type=float, default=0.0)
    add("--p503", type=float, default=0.0)
    add("--ptimeout", type=float, default=0.0, help="probability to hang, then close")
    add("--hang-seconds", type=float, default=defaults.hang_seconds)
    add("--seed", type=int, default=None, help="seed of the fault and latency RNG")
    args = parser.parse_args(argv)
    probabilities = (args.p429, args.p500, args.p503, args.ptimeout)
    if any(p < 0 for p in probabilities) or sum(probabilities) > 1:
        parser.error("fault probabilities must be >= 0 and sum to at most 1")
    return Options(**vars(args))


def raise_fd_limit() -> None:
    """Thousands of open connections need more descriptors than the usual soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve(options: Options) -> None:
    """Listen on loopback, announce the address, and run until SIGTERM or SIGINT."""
    runner = web.AppRunner(MockServer(options).app(), access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, HOST, options.port, backlog=4096)
    await site.start()
    port = runner.addresses[0][1]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"READY http://{HOST}:{port}", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve on uvloop's event loop where it is installed: the target should cost little."""
    raise_fd_limit()
    options = parse_options(argv)
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(options))
    else:
        uvloop.run(serve(options))


if __name__ == "__main__":
    main(sys.argv[1:])
