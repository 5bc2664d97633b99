"""Load generation against an OpenAI-compatible server with realistic counseling traffic.

Each request continues a simulated conversation: the bundled client and counselor
prompts, a role card, and a history that grows with the server's own replies, alternating
the two sides as :mod:`interactive_agents.runtime._roles` does. Successive requests of one
conversation therefore share their prefix, as they do in a real run, so a server's prefix
cache is exercised. Traffic is closed-loop (``concurrency`` requests always outstanding)
or open-loop (Poisson arrivals at ``request_rate`` per second). After an answer a
conversation may "think" (a fixed or exponential delay) before its next request; other
conversations fill the gap, so the load stays as configured. The first ``warmup``
requests are sent but left out of the report. Nothing is retried: a 429, a 5xx, a
timeout is an error of its kind in the report, and the conversation tries the same step
again later.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from dataclasses import replace
from typing import Any

import anyio
import orjson
from anyio.abc import TaskGroup

from interactive_agents.errors import ConfigError
from interactive_agents.llm._default_client import default_http_client
from interactive_agents.llm._endpoint import ChatEndpoint
from interactive_agents.llm._messages import ChatMessage
from interactive_agents.llm._redaction import redact
from interactive_agents.llm._server_metrics import ServerMetricsWatch, watch_server_metrics
from interactive_agents.llm._transport import (
    HttpClient,
    HttpResponse,
    json_headers,
)
from interactive_agents.llm._wire import (
    NotAChatCompletion,
    chat_request,
    parse_completion,
    parse_event,
    stream_reply,
)
from interactive_agents.loadtest._config import BenchConfig
from interactive_agents.loadtest._metrics import Outcome, figures
from interactive_agents.method._cards import RoleCard
from interactive_agents.method._config import StageConfig
from interactive_agents.method._prompts import PromptSet
from interactive_agents.method._records import Role, Turn
from interactive_agents.runtime._roles import counselor_request, perspective

MAX_OUTSTANDING = 1000


class TrafficConversation:
    """One simulated session, from both sides, growing with every answer."""

    def __init__(self, card: RoleCard, prompts: PromptSet, max_turns: int) -> None:
        self.prompts = prompts
        self.max_turns = max_turns
        self.systems: dict[Role, ChatMessage] = {
            "client": prompts.client.system_message(card, max_turns),
            "counselor": prompts.counselor.system_message(),
        }
        self.turns = [Turn("client", prompts.client.opening)]
        self.turn = 1

    @property
    def speaker(self) -> Role:
        return "counselor" if self.turns[-1].role == "client" else "client"

    @property
    def over(self) -> bool:
        return self.turn > self.max_turns

    def messages(self) -> list[ChatMessage]:
        """The next request, from the side of whoever speaks next."""
        speaker = self.speaker
        if speaker == "client":
            return perspective(self.systems[speaker], self.turns, speaker)
        stage = StageConfig().stage(self.turn, self.max_turns)
        cue = self.prompts.counselor.cue(stage, self.turn, self.max_turns)
        return counselor_request(self.systems[speaker], self.turns, cue)

    def answer(self, text: str) -> None:
        speaker = self.speaker
        self.turns.append(Turn(speaker, text.strip() or "..."))
        if speaker == "counselor":
            self.turn += 1


def error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionError):
        return "connection"
    return "bad_response"


class LoadGenerator:
    """Sends the traffic; live counters (``sent``, ``completed``, ``failed``) for progress.

    The counters and the report cover the measured requests only, not the warm-up.
    """

    def __init__(self, options: BenchConfig, cards: list[RoleCard], prompts: PromptSet) -> None:
        """``options`` is one load of a configuration (:meth:`BenchConfig.loads`)."""
        if not cards:
            raise ConfigError("no role cards to build conversations from", field="cards")
        self.options = options
        self.prompts = prompts
        self.sent = self.completed = self.failed = self.warmed = 0
        self.started = 0.0
        self.outcomes: list[Outcome] = []
        self._cards = itertools.cycle(cards)
        # Conversations waiting for their next request: (ready at, tie-breaker, conversation).
        self._idle: list[tuple[float, int, TrafficConversation]] = []
        self._order = itertools.count()
        self._think = random.Random(options.seed + 1)
        self._clients: list[HttpClient] = []
        self._headers = json_headers(options.endpoint.api_key_env)

    @property
    def elapsed(self) -> float:
        """Seconds since the first measured request was sent (0 during the warm-up)."""
        return time.monotonic() - self.started if self.started else 0.0

    def _may_send(self) -> bool | None:
        """Reserve the next request: True measured, False warm-up, None the budget is spent."""
        options = self.options
        if self.warmed < options.warmup:
            self.warmed += 1
            return False
        if options.requests is not None and self.sent >= options.requests:
            return None
        if options.duration is not None and self.elapsed >= options.duration:
            return None
        if not self.started:
            self.started = time.monotonic()
        self.sent += 1
        return True

    def _conversation(self) -> TrafficConversation:
        """The conversation that has thought longest, or a new one if none is ready."""
        if self._idle and self._idle[0][0] <= time.monotonic():
            return heapq.heappop(self._idle)[2]
        return TrafficConversation(next(self._cards), self.prompts, self.options.max_turns)

    def _think_time(self) -> float:
        mean = self.options.think_time
        if mean <= 0 or self.options.think_distribution == "fixed":
            return mean
        return self._think.expovariate(1.0 / mean)

    async def run(self) -> dict[str, Any]:
        """Probe the server, send the traffic, wait for the last answer, and return the
        report, with what the server counted itself meanwhile (``server_metrics``)."""
        await self.probe()
        endpoint = self.options.endpoint
        self._clients = [default_http_client(url, endpoint.timeout) for url in endpoint.base_urls]
        try:
            async with watch_server_metrics(endpoint.base_urls) as watch:
                async with anyio.create_task_group() as group:
                    if self.options.request_rate is not None:
                        group.start_soon(self._arrivals, group)
                    else:
                        for worker in range(endpoint.concurrency or 1):
                            group.start_soon(self._closed_loop, worker)
                wall = self.elapsed
        finally:
            for client in self._clients:
                await client.aclose()
        return self.report(wall, watch)

    async def probe(self) -> None:
        """Stop before sending anything if a server is not there or does not serve the
        model (:meth:`ChatEndpoint.probe`), rather than count every request an error."""
        endpoint = ChatEndpoint(self.options.endpoint)
        try:
            await endpoint.probe()
        finally:
            await endpoint.aclose()

    async def _closed_loop(self, worker: int) -> None:
        while (measured := self._may_send()) is not None:
            await self._one(self._clients[worker % len(self._clients)], measured)

    async def _arrivals(self, group: TaskGroup) -> None:
        """Poisson arrivals; at most ``concurrency`` (or 1,000) outstanding at once."""
        rate = self.options.request_rate
        assert rate is not None
        rng = random.Random(self.options.seed)
        outstanding = anyio.Semaphore(self.options.endpoint.concurrency or MAX_OUTSTANDING)
        due = time.monotonic()
        for number in itertools.count():
            due += rng.expovariate(rate)
            await anyio.sleep(max(0.0, due - time.monotonic()))
            await outstanding.acquire()
            measured = self._may_send()
            if measured is None:
                outstanding.release()
                return
            group.start_soon(self._released, outstanding, number, measured)

    async def _released(self, outstanding: anyio.Semaphore, number: int, measured: bool) -> None:
        try:
            await self._one(self._clients[number % len(self._clients)], measured)
        finally:
            outstanding.release()

    async def _one(self, client: HttpClient, measured: bool) -> None:
        conversation = self._conversation()
        outcome, text = await self._request(client, conversation.messages(), conversation.turn)
        if measured:
            self.outcomes.append(outcome)
            if outcome.error is None:
                self.completed += 1
            else:
                self.failed += 1
        if outcome.error is None:
            conversation.answer(text)
        if not conversation.over:
            ready = time.monotonic() + self._think_time()
            heapq.heappush(self._idle, (ready, next(self._order), conversation))

    def _body(self, messages: list[ChatMessage]) -> bytes:
        options = self.options
        return chat_request(
            options.endpoint.model,
            messages,
            temperature=options.sampling.temperature,
            top_p=options.sampling.top_p,
            max_tokens=options.sampling.max_tokens,
            stream=options.stream,
        )

    async def _request(
        self, client: HttpClient, messages: list[ChatMessage], depth: int
    ) -> tuple[Outcome, str]:
        payload, start = self._body(messages), time.perf_counter()
        try:
            async with client.post("/chat/completions", payload, self._headers) as response:
                if response.status != 200:
                    body = await response.read()
                    message = f"{response.status} {_excerpt(body)}"
                    kind = f"http_{response.status}"
                    outcome = Outcome(time.perf_counter() - start, depth=depth, error=kind)
                    return replace(outcome, message=message), ""
                if self.options.stream:
                    return await _read_stream(response, start, depth)
                return _read_whole(await response.read(), start, depth)
        except (TimeoutError, ConnectionError, NotAChatCompletion) as exc:
            message = redact(str(exc) or type(exc).__name__)
            outcome = Outcome(time.perf_counter() - start, depth=depth, error=error_kind(exc))
            return replace(outcome, message=message), ""

    def report(self, wall: float, watch: ServerMetricsWatch | None = None) -> dict[str, Any]:
        """The JSON report: the load (its ``request_rate`` and ``max_concurrency`` also
        at the top, as ``vllm bench serve`` writes them), then
        :func:`~interactive_agents.loadtest._metrics.figures`, then what each server
        counted itself (``server_metrics``, per base URL)."""
        options = self.options
        rate = options.request_rate
        return {
            "target": {
                "base_urls": list(options.endpoint.base_urls),
                "model": options.endpoint.model,
            },
            "request_rate": rate if rate is not None else "inf",
            "max_concurrency": options.endpoint.concurrency,
            "load": {
                "mode": "poisson" if options.request_rate is not None else "closed_loop",
                "concurrency": options.endpoint.concurrency,
                "max_concurrency": options.endpoint.concurrency,
                "request_rate": options.request_rate,
                "duration_s": options.duration,
                "requests": options.requests,
                "stream": options.stream,
                "max_turns": options.max_turns,
                "max_tokens": options.sampling.max_tokens,
                "warmup": options.warmup,
                "think_time_s": options.think_time,
                "think_distribution": options.think_distribution,
                "slo_s": dict(options.slo),
            },
            "sent": self.sent,
            "warmup_requests": self.warmed,
            **figures(self.outcomes, wall, options.slo),
            "server_metrics": watch.report() if watch is not None else {},
        }


def _excerpt(body: bytes, limit: int = 300) -> str:
    """What an error body says, on one line, any key it quotes masked: the message of an
    OpenAI error document, else the start of the body."""
    text = body[:limit].decode(errors="replace")
    try:
        error = orjson.loads(body).get("error")
        text = error["message"] if isinstance(error["message"], str) else text
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
        pass
    return redact(" ".join(text.split()))


def _read_whole(content: bytes, start: float, depth: int) -> tuple[Outcome, str]:
    """A ``chat.completion`` document; tokens from its usage (or about 4 bytes each)."""
    reply = parse_completion(content)
    output = reply.completion_tokens or len(reply.content.encode()) // 4
    outcome = Outcome(
        time.perf_counter() - start,
        prompt_tokens=reply.prompt_tokens,
        output_tokens=output,
        cached_tokens=reply.cached_tokens,
        depth=depth,
    )
    return outcome, reply.content


async def _read_stream(response: HttpResponse, start: float, depth: int) -> tuple[Outcome, str]:
    """Server-sent ``chat.completion.chunk`` events; TTFT at the first content delta, ITL
    between successive content deltas."""
    arrivals: list[float] = []
    pieces: list[str] = []
    reasoning: list[str] = []
    usage: dict[str, Any] | None = None
    async for line in response.lines():
        chunk = parse_event(line)
        if chunk is None:
            continue
        if chunk.done:
            break
        usage = chunk.usage or usage
        reasoning.append(chunk.reasoning)
        if chunk.content:
            arrivals.append(time.perf_counter())
            pieces.append(chunk.content)
    if not arrivals and not usage:
        raise NotAChatCompletion("the stream carried no content and no usage")
    reply = stream_reply(pieces, reasoning, usage)
    outcome = Outcome(
        time.perf_counter() - start,
        ttft=arrivals[0] - start if arrivals else None,
        prompt_tokens=reply.prompt_tokens,
        output_tokens=reply.completion_tokens or len(pieces),
        cached_tokens=reply.cached_tokens,
        itl=tuple(b - a for a, b in itertools.pairwise(arrivals)),
        depth=depth,
    )
    return outcome, reply.content
