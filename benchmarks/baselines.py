"""Three yardsticks for the engine: the same N dialogues × T turns, done three simple ways.

A turn is two chat calls, the client's then the counselor's, each on that party's own view
of a growing history (its lines as ``assistant``, the other's as ``user``). A failed call
ends its dialogue and counts one error; nothing retries.

- ``reference``: the reference implementation's style, one dialogue at a time, blocking.
- ``openai_sdk``: asyncio with the official SDK, one task per dialogue, a fair best effort.
- ``raw_sockets``: the floor, hand-written HTTP/1.1 over asyncio streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, cast
from urllib.parse import urlsplit

import httpx
import httpx2
import openai
import orjson
from openai.types.chat import ChatCompletionMessageParam

MODEL = "mock-model"
TIMEOUT = 60.0
Speaker = Literal["client", "counselor"]
SPEAKERS: tuple[Speaker, ...] = ("client", "counselor")
PROMPTS: dict[Speaker, str] = {
    "client": "You are a person seeking counseling. Speak in one or two sentences.",
    "counselor": "You are Xiaotian, an experienced counselor. Reply in one or two sentences.",
}


class Message(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class Result:
    """What one baseline run cost: wall and CPU seconds of this process, calls, errors."""

    wall_seconds: float
    cpu_seconds: float
    calls: int
    errors: int


class CallFailed(Exception):
    """A call got an answer that is not a usable chat completion."""


class Dialogue:
    """Both parties' views of one session, each under its own system prompt."""

    __slots__ = ("views",)

    def __init__(self) -> None:
        self.views: dict[Speaker, list[Message]] = {
            speaker: [{"role": "system", "content": prompt}] for speaker, prompt in PROMPTS.items()
        }

    def say(self, speaker: Speaker, text: str) -> None:
        for listener, view in self.views.items():
            view.append({"role": "assistant" if listener == speaker else "user", "content": text})


def request_body(messages: list[Message]) -> dict[str, Any]:
    return {"model": MODEL, "messages": messages, "temperature": 0.8}


def reply_text(document: Any) -> str:
    """The first choice's content of a decoded ``chat.completion``."""
    try:
        return str(document["choices"][0]["message"]["content"])
    except (LookupError, TypeError) as exc:
        raise CallFailed(f"not a chat completion: {document!r:.200}") from exc


def measure(run: Callable[[], tuple[int, int]]) -> Result:
    """Time ``run`` (which returns calls and errors) on the wall clock and in CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    calls, errors = run()
    return Result(time.perf_counter() - wall, time.process_time() - cpu, calls, errors)


def run_reference(base_url: str, dialogues: int, turns: int) -> Result:
    """(a) One dialogue after the other, each call blocking until its answer."""
    failures = (httpx.HTTPError, CallFailed, ValueError)

    def run() -> tuple[int, int]:
        calls = errors = 0
        with httpx.Client(base_url=base_url, timeout=TIMEOUT) as http:
            for _ in range(dialogues):
                dialogue = Dialogue()
                try:
                    for _ in range(turns):
                        for speaker in SPEAKERS:
                            calls += 1
                            response = http.post(
                                "/chat/completions", json=request_body(dialogue.views[speaker])
                            )
                            response.raise_for_status()
                            dialogue.say(speaker, reply_text(response.json()))
                except failures:
                    errors += 1
        return calls, errors

    return measure(run)


Call = Callable[[list[Message]], Awaitable[str]]


async def run_dialogue(
    call: Call, turns: int, failures: tuple[type[Exception], ...]
) -> tuple[int, int]:
    """Drive one dialogue through ``call``; return its calls and errors (0 or 1)."""
    dialogue, calls = Dialogue(), 0
    try:
        for _ in range(turns):
            for speaker in SPEAKERS:
                calls += 1
                dialogue.say(speaker, await call(dialogue.views[speaker]))
    except failures:
        return calls, 1
    return calls, 0


def tally(results: list[tuple[int, int]]) -> tuple[int, int]:
    return sum(calls for calls, _ in results), sum(errors for _, errors in results)


def run_openai_sdk(base_url: str, dialogues: int, turns: int) -> Result:
    """(b) ``asyncio.gather`` of one task per dialogue on one ``AsyncOpenAI`` client."""

    async def run() -> tuple[int, int]:
        limits = httpx2.Limits(max_connections=dialogues, max_keepalive_connections=dialogues)
        async with openai.AsyncOpenAI(
            base_url=base_url,
            api_key="mock",
            max_retries=0,
            timeout=TIMEOUT,
            http_client=openai.DefaultAsyncHttpxClient(limits=limits),
        ) as client:

            async def call(messages: list[Message]) -> str:
                completion = await client.chat.completions.create(
                    model=MODEL,
                    # Our messages are plain system/user/assistant dicts, a subset of the SDK's.
                    messages=cast("list[ChatCompletionMessageParam]", messages),
                    temperature=0.8,
                )
                return completion.choices[0].message.content or ""

            failures = (openai.APIError,)
            return tally(
                await asyncio.gather(
                    *(run_dialogue(call, turns, failures) for _ in range(dialogues))
                )
            )

    return measure(lambda: asyncio.run(run()))


class RawConnection:
    """One keep-alive HTTP/1.1 connection carrying one request at a time."""

    __slots__ = ("host", "port", "prefix", "reader", "writer")

    def __init__(self, base_url: str) -> None:
        url = urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.prefix = (
            f"POST {url.path}/chat/completions HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def complete(self, messages: list[Message]) -> str:
        async with asyncio.timeout(TIMEOUT):
            if self.reader is None or self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            body = orjson.dumps(request_body(messages))
            self.writer.write(self.prefix + b"%d\r\n\r\n" % len(body) + body)
            head = await self.reader.readuntil(b"\r\n\r\n")
            payload = await self.reader.readexactly(content_length(head))
        if not head.startswith(b"HTTP/1.1 200 "):
            raise CallFailed(head.split(b"\r\n", 1)[0].decode("latin-1"))
        return reply_text(orjson.loads(payload))

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


def content_length(head: bytes) -> int:
    """The body length from a response head; the floor does not do chunked bodies."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise CallFailed("response without Content-Length")


def run_raw_sockets(base_url: str, dialogues: int, turns: int) -> Result:
    """(c) The same calls on raw asyncio streams: one connection per dialogue in flight."""
    failures = (
        OSError,
        TimeoutError,
        asyncio.IncompleteReadError,
        asyncio.LimitOverrunError,
        CallFailed,
        ValueError,
    )

    async def dialogue() -> tuple[int, int]:
        connection = RawConnection(base_url)
        try:
            return await run_dialogue(connection.complete, turns, failures)
        finally:
            await connection.close()

    async def run() -> tuple[int, int]:
        return tally(await asyncio.gather(*(dialogue() for _ in range(dialogues))))

    return measure(lambda: asyncio.run(run()))


Baseline = Callable[[str, int, int], Result]
BASELINES: dict[str, Baseline] = {
    "reference": run_reference,
    "openai_sdk": run_openai_sdk,
    "raw_sockets": run_raw_sockets,
}
