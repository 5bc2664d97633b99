"""OpenAI-compatible replicas that model a prefix cache, for the routing benchmark.

Each replica keeps an LRU cache of token blocks keyed by the hash of the whole prefix up
to the block's end (as vLLM's automatic prefix caching does), so a request reuses the
leading blocks some earlier request on the SAME replica already computed. Its time is
``prefill × uncached prompt tokens + decode × output tokens``, served by at most
``capacity`` requests at once (the rest queue). A token is a whitespace-separated word
of the messages plus one per message for its role. Replies are deterministic filler that
passes the refiner and contains no closing phrase, so dialogues run to ``max_turns``; it
is drawn from a hash of the whole prompt, so different dialogues have different histories.

    python benchmarks/prefix_cache_server.py --replicas 4 --cache-blocks 4096

prints ``READY url1 url2 …`` once every replica listens; ``GET /stats`` on a replica
reports its prompt, cached and output tokens and requests. Stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import signal
import sys
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

HOST = "127.0.0.1"
FILLER = ("we", "can", "look", "at", "this", "slowly", "together", "and", "notice", "what")


@dataclass(frozen=True, slots=True)
class Options:
    """How every replica behaves; one field per command-line option."""

    replicas: int = 4
    block_tokens: int = 16
    cache_blocks: int = 4096
    prefill_per_token: float = 0.00005
    decode_per_token: float = 0.002
    output_tokens: int = 24
    capacity: int = 64


@dataclass(slots=True)
class ReplicaStats:
    requests: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    busy_seconds: float = 0.0


def tokens_of(messages: Sequence[Any]) -> list[str]:
    """The prompt as tokens: each message's role, then its words."""
    tokens: list[str] = []
    for message in messages:
        tokens.append(f"<{message.get('role', '')}>")
        tokens.extend(str(message.get("content", "")).split())
    return tokens


@dataclass(slots=True)
class PrefixCache:
    """LRU of block hashes; a block's hash covers every token before its end."""

    block_tokens: int
    capacity: int
    blocks: OrderedDict[bytes, None] = field(default_factory=OrderedDict)

    def _hashes(self, tokens: Sequence[str]) -> list[bytes]:
        hashes, digest = [], hashlib.blake2b(digest_size=16)
        for end in range(self.block_tokens, len(tokens) + 1, self.block_tokens):
            digest.update("\x1f".join(tokens[end - self.block_tokens : end]).encode())
            hashes.append(digest.copy().digest())
        return hashes

    def lookup(self, tokens: Sequence[str]) -> int:
        """Tokens of the longest cached prefix (whole blocks), refreshing what it used."""
        cached = 0
        for block in self._hashes(tokens):
            if block not in self.blocks:
                break
            self.blocks.move_to_end(block)
            cached += self.block_tokens
        return cached

    def insert(self, tokens: Sequence[str]) -> None:
        for block in self._hashes(tokens):
            self.blocks[block] = None
            self.blocks.move_to_end(block)
        while len(self.blocks) > self.capacity:
            self.blocks.popitem(last=False)


class Replica:
    """One model server: its cache, its capacity, its counters."""

    def __init__(self, options: Options, index: int) -> None:
        self.options = options
        self.index = index
        self.cache = PrefixCache(options.block_tokens, options.cache_blocks)
        self.slots = asyncio.Semaphore(options.capacity)
        self.stats = ReplicaStats()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/stats", self.report)
        return app

    async def models(self, _request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "prefix-mock"}]})

    async def report(self, _request: web.Request) -> web.Response:
        s = self.stats
        return web.json_response(
            {
                "replica": self.index,
                "requests": s.requests,
                "prompt_tokens": s.prompt_tokens,
                "cached_tokens": s.cached_tokens,
                "output_tokens": s.output_tokens,
                "busy_seconds": s.busy_seconds,
            }
        )

    async def chat(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        prompt = tokens_of(body.get("messages", []))
        # The reply depends on the whole prompt, so every dialogue's history is its own.
        seed = int.from_bytes(hashlib.blake2b(" ".join(prompt).encode(), digest_size=8).digest())
        words = [
            FILLER[(seed >> (i % 60)) % len(FILLER)] for i in range(self.options.output_tokens)
        ]
        async with self.slots:
            cached = min(self.cache.lookup(prompt), len(prompt))
            seconds = (len(prompt) - cached) * self.options.prefill_per_token
            seconds += len(words) * self.options.decode_per_token
            await asyncio.sleep(seconds)
            self.cache.insert([*prompt, "<assistant>", *words])
        stats = self.stats
        stats.requests += 1
        stats.prompt_tokens += len(prompt)
        stats.cached_tokens += cached
        stats.output_tokens += len(words)
        stats.busy_seconds += seconds
        reply = " ".join(words).capitalize() + "."
        usage = {
            "prompt_tokens": len(prompt),
            "completion_tokens": len(words),
            "total_tokens": len(prompt) + len(words),
            "prompt_tokens_details": {"cached_tokens": cached},
        }
        return web.json_response(
            {
                "id": f"r{self.index}-{stats.requests}",
                "object": "chat.completion",
                "model": body.get("model", "prefix-mock"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            }
        )


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="OpenAI-compatible replicas with a prefix cache.")
    add = parser.add_argument
    defaults = Options()
    add("--replicas", type=int, default=defaults.replicas)
    add("--block-tokens", type=int, default=defaults.block_tokens)
    add("--cache-blocks", type=int, default=defaults.cache_blocks, help="LRU size per replica")
    add("--prefill-per-token", type=float, default=defaults.prefill_per_token, help="seconds")
    add("--decode-per-token", type=float, default=defaults.decode_per_token, help="seconds")
    add("--output-tokens", type=int, default=defaults.output_tokens)
    add("--capacity", type=int, default=defaults.capacity, help="requests served at once")
    return Options(**vars(parser.parse_args(argv)))


async def serve(options: Options) -> None:
    runners, urls = [], []
    for index in range(options.replicas):
        runner = web.AppRunner(Replica(options, index).app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        port = runner.addresses[0][1]
        runners.append(runner)
        urls.append(f"http://{HOST}:{port}/v1")
    print("READY", *urls, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    for runner in runners:
        await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> None:
    asyncio.run(serve(parse_options(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
