"""Faults: what a failing server sends in place of a chat completion."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import orjson
from aiohttp import web

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Fault:
    """One failure or odd answer in place of a completion.

    ``status`` with an OpenAI error document (or ``body`` verbatim, such as truncated JSON,
    HTML or an odd completion), after ``hang`` seconds; ``retry_after`` adds the header;
    ``reset`` drops the connection unanswered.
    """

    status: int = 500
    retry_after: float | None = None
    hang: float = 0.0
    reset: bool = False
    body: bytes | None = None
    content_type: str = JSON


def error_type(status: int) -> str:
    """The OpenAI error ``type`` of a status."""
    if status == 429:
        return "rate_limit_error"
    if status in (401, 403):
        return "authentication_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def error_document(message: str, kind: str) -> bytes:
    """An OpenAI-style error body."""
    return orjson.dumps({"error": {"message": message, "type": kind, "code": None}})


async def answer_fault(request: web.Request, fault: Fault) -> web.Response:
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
        body = error_document(f"injected {fault.status}", error_type(fault.status))
    return web.Response(
        status=fault.status, body=body, content_type=fault.content_type, headers=headers
    )
