"""Embedding the engine in another async service: simulations on demand over HTTP.

    python examples/simulation_service.py --base-url http://localhost:8000/v1 \
        --model Qwen2-7B-Instruct

    curl -X POST localhost:8080/dialogues -d '{"id": "c1", "chief_complaint": "I cannot sleep."}'
    curl localhost:8080/dialogues/c1          # 202 while running, 200 with the record

One engine lives as long as the service; each request submits a card and returns at
once; finished dialogues are kept in memory (and in --out, if given). The service owns
its event loop, the engine does not: it only needs to run inside ``async with``.
"""

from __future__ import annotations

import argparse
from typing import Any

import anyio
import orjson
from aiohttp import web

from interactive_agents import DialogueHandle, Engine, Result, build_config, card_from_mapping
from interactive_agents.errors import CardError, SessionCancelledError

ENGINE = web.AppKey("engine", Engine)
HANDLES = web.AppKey("handles", dict)


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def submit(request: web.Request) -> web.Response:
    engine = request.app[ENGINE]
    try:
        card = card_from_mapping(
            orjson.loads(await request.read()), file="request", record=1, default_id="request"
        )
    except (orjson.JSONDecodeError, CardError) as exc:
        return json_response({"error": str(exc)}, status=400)
    handles: dict[str, DialogueHandle[Result]] = request.app[HANDLES]
    if card.id in handles:
        return json_response({"error": f"dialogue {card.id} exists"}, status=409)
    handles[card.id] = await engine.submit(card)
    return json_response({"id": card.id, "status": "running"}, status=202)


async def fetch(request: web.Request) -> web.Response:
    handle = request.app[HANDLES].get(request.match_info["id"])
    if handle is None:
        return json_response({"error": "no such dialogue"}, status=404)
    if not handle.done:
        return json_response({"id": handle.card_id, "status": "running"}, status=202)
    try:
        return json_response(await handle.result())
    except SessionCancelledError as exc:
        return json_response({"id": handle.card_id, "status": "cancelled", "error": str(exc)})


def build_app(engine: Engine) -> web.Application:
    app = web.Application()
    app[ENGINE] = engine
    app[HANDLES] = {}
    app.router.add_post("/dialogues", submit)
    app.router.add_get("/dialogues/{id}", fetch)
    return app


async def serve(
    engine: Engine, host: str, port: int, *, task_status: Any = anyio.TASK_STATUS_IGNORED
) -> None:
    """Serve until cancelled; reports the bound port through ``task_status``."""
    runner = web.AppRunner(build_app(engine), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    try:
        task_status.started(runner.addresses[0][1])
        await anyio.sleep_forever()
    finally:
        await runner.cleanup()


async def main(arguments: argparse.Namespace) -> None:
    config = build_config(
        None,
        {
            "language": arguments.language,
            "endpoint.base_urls": arguments.base_url or None,
            "endpoint.model": arguments.model,
            "max_turns": arguments.max_turns,
        },
    )
    async with Engine(config, run_dir=arguments.out) as engine:
        await serve(engine, arguments.host, arguments.port)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--base-url", action="append", help="OpenAI-compatible endpoint (repeatable)"
    )
    parser.add_argument("--model", help="model name")
    parser.add_argument("--language", default="en", choices=["zh", "en"])
    parser.add_argument("--max-turns", type=int, default=20)
    parser.add_argument("--out", help="also record into this run directory")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    anyio.run(main, parser.parse_args())
