"""The annotation web app (the paper's Figure 15; docs/method.md#arena-algorithm-2), on FastAPI.

An annotator signs in, starts a dialogue (two bots drawn at random), plays the client
by typing, and for every message sees the two bots' replies in shuffled order as radio
buttons; the chosen one becomes the history and the choice is a battle. Pages are
static files of this package (no external CDN) that render every text with
``textContent``; the Content-Security-Policy forbids inline and foreign scripts, so a
``<script>`` typed into a message stays text. The JSON API is reached with a
``SameSite=Strict`` HttpOnly session cookie (``Secure`` on request, for HTTPS or a TLS
proxy); an admin exports every battle.

Hardening: sign-ins are throttled per name and per address (:mod:`.throttle`); scrypt
and SQLite run in worker threads, scrypt at most ``HASHING_THREADS`` at a time (each
takes 128 MiB), so a flood of sign-ins never stalls the event loop; request bodies are
capped before anything reads them; a state-changing request whose ``Origin`` is not
the platform's own (or one allowed) is refused; validation errors never echo the input
(it may be a password); a bot's failure is logged, and annotators see no internal URL.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
import orjson
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi import Path as PathParameter
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, StringConstraints
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interactive_agents.annotation._auth import MAX_PASSWORD
from interactive_agents.annotation._database import (
    AnnotationDialogue,
    AnnotationStore,
    NotFound,
    Pending,
    User,
)
from interactive_agents.annotation._throttle import LoginThrottle
from interactive_agents.arena._battles import ShownOrder
from interactive_agents.arena._bots import Bot
from interactive_agents.arena._competition import bot_candidate
from interactive_agents.errors import BackendError, InputError, SessionError
from interactive_agents.llm._endpoint import ChatBackend, ChatEndpoint
from interactive_agents.method._records import Turn
from interactive_agents.method._refiner import RefinerRules
from interactive_agents.method._seeds import derive_seed

STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "ia_session"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
MAX_BODY = 64 * 1024  # the largest request the API needs (a 2,000-character message) fits
HASHING_THREADS = 2
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
log = logging.getLogger(__name__)
T = TypeVar("T")


class SignIn(BaseModel):
    name: Annotated[str, StringConstraints(max_length=64)]
    password: Annotated[str, StringConstraints(max_length=MAX_PASSWORD)]


class PostedMessage(BaseModel):
    text: Text


class Choice(BaseModel):
    choice: Literal[1, 2] = Field(description="The position of the better reply, as shown.")


async def in_thread(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking database work off the event loop."""
    return await anyio.to_thread.run_sync(partial(call, *args, **kwargs))


async def current_user(request: Request) -> User:
    """The signed-in user of the request's session cookie, or 401."""
    store: AnnotationStore = request.app.state.store
    token = request.cookies.get(COOKIE)
    user = await in_thread(store.user_for, token) if token else None
    if user is None:
        raise HTTPException(401, "sign in first")
    return user


def dialogue_number(text: str) -> int:
    """A dialogue id from the path; anything but a plain number names no dialogue (404)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        raise HTTPException(404, "no such dialogue")
    return int(text)


class BodyLimit:
    """Refuse (413) a request body over ``limit`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await _too_large(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, "request body too large")
            return message

        await self.app(scope, counted, send)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse({"detail": "request body too large"}, status_code=413)
    await response(scope, receive, send)


def origin_allowed(request: Request, allowed: frozenset[str]) -> bool:
    """A browser's state-changing request must come from the platform's own pages.

    Browsers send ``Origin`` with every POST; clients that send none (curl, scripts)
    cannot carry a victim's cookie, so they are let through.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin in allowed or origin == own


CurrentUser = Annotated[User, Depends(current_user)]
PathId = Annotated[str, PathParameter(alias="dialogue_id")]


def _view(dialogue: AnnotationDialogue) -> dict[str, Any]:
    """What the annotator sees: the history and, if any, the two replies as shown."""
    return {
        "id": dialogue.id,
        "turns": [{"role": t.role, "content": t.content} for t in dialogue.turns],
        "candidates": list(dialogue.pending.shown) if dialogue.pending else [],
    }


def create_app(
    store: AnnotationStore,
    bots: Sequence[Bot],
    *,
    language: str = "zh",
    session_hours: float = 12.0,
    refiner_attempts: int = 3,
    secure_cookie: bool = False,
    allowed_origins: Sequence[str] = (),
    throttle: LoginThrottle | None = None,
) -> FastAPI:
    """The app over ``store``; each bot gets one endpoint for the app's lifetime.

    ``secure_cookie`` marks the session cookie ``Secure`` (serve over HTTPS, or behind
    a TLS proxy); ``allowed_origins`` adds origins besides the platform's own (the
    public address a proxy serves it at, e.g. ``https://annotate.example.org``).
    """
    by_name = {bot.name: bot for bot in bots}
    backends: dict[str, ChatBackend] = {}
    refiner = RefinerRules.for_language(language)
    rng = random.SystemRandom()
    logins = throttle if throttle is not None else LoginThrottle()
    hashing = anyio.CapacityLimiter(HASHING_THREADS)
    origins = frozenset(o.rstrip("/") for o in allowed_origins)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for bot in bots:
            backends[bot.name] = ChatEndpoint(bot.endpoint)
        try:
            yield
        finally:
            for backend in backends.values():
                await backend.aclose()

    app = FastAPI(
        title="interactive-agents annotation",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.store = store
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=MAX_BODY)

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.method in STATE_CHANGING and not origin_allowed(request, origins):
            response: Response = JSONResponse({"detail": "cross-origin request refused"}, 403)
        else:
            response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """Where and why, never the value: it may be a password."""
        errors = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    async def owned(user: User, dialogue_id: int) -> AnnotationDialogue:
        try:
            return await in_thread(store.dialogue, user, dialogue_id)
        except NotFound as exc:
            raise HTTPException(404, "no such dialogue") from exc

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.post("/api/login")
    async def login(form: SignIn, request: Request, response: Response) -> dict[str, Any]:
        address = request.client.host if request.client else ""
        wait = logins.admit(form.name, address)
        if wait > 0:
            raise HTTPException(
                429,
                "too many sign-in attempts: try again later",
                {"Retry-After": str(int(wait) + 1)},
            )
        token = await anyio.to_thread.run_sync(
            partial(store.sign_in, form.name, form.password, session_hours * 3600),
            limiter=hashing,
        )
        user = await in_thread(store.user_for, token) if token is not None else None
        if token is None or user is None:
            raise HTTPException(401, "wrong name or password")
        logins.succeeded(form.name)
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(session_hours * 3600),
            httponly=True,
            samesite="strict",
            secure=secure_cookie,
        )
        return {"name": user.name, "admin": user.admin}

    @app.post("/api/logout")
    async def logout(request: Request, response: Response) -> dict[str, bool]:
        token = request.cookies.get(COOKIE)
        if token:
            await in_thread(store.sign_out, token)
        response.delete_cookie(COOKIE, httponly=True, samesite="strict", secure=secure_cookie)
        return {"ok": True}

    @app.get("/api/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {"name": user.name, "admin": user.admin}

    @app.get("/api/dialogues")
    async def dialogues(user: CurrentUser) -> list[dict[str, int]]:
        return [{"id": i, "turns": n} for i, n in await in_thread(store.dialogues, user)]

    @app.post("/api/dialogues")
    async def start(user: CurrentUser) -> dict[str, Any]:
        a, b = rng.sample(list(by_name), 2)
        return _view(await owned(user, await in_thread(store.new_dialogue, user, a, b)))

    @app.get("/api/dialogues/{dialogue_id}")
    async def show(path_id: PathId, user: CurrentUser) -> dict[str, Any]:
        return _view(await owned(user, dialogue_number(path_id)))

    @app.post("/api/dialogues/{dialogue_id}/messages")
    async def send(path_id: PathId, message: PostedMessage, user: CurrentUser) -> dict[str, Any]:
        dialogue_id = dialogue_number(path_id)
        dialogue = await owned(user, dialogue_id)
        if dialogue.pending is not None:
            raise HTTPException(409, "choose one of the two replies first")
        turns = (*dialogue.turns, Turn("client", message.text))
        replies: dict[str, str] = {}

        async def answer(name: str) -> None:
            candidate, _ = await bot_candidate(
                by_name[name],
                backends[name],
                turns,
                refiner,
                attempts=refiner_attempts,
                seed=derive_seed(dialogue_id, len(turns), name, rng.random()),
            )
            replies[name] = candidate.content

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(answer, dialogue.bot_a)
                group.start_soon(answer, dialogue.bot_b)
        except* (BackendError, SessionError) as errors:
            log.warning("dialogue %s: a bot did not answer: %s", dialogue_id, errors.exceptions[0])
            raise HTTPException(502, "a bot did not answer: try again in a moment") from None
        order: ShownOrder = rng.choice(("ab", "ba"))
        pending = Pending(replies[dialogue.bot_a], replies[dialogue.bot_b], order)
        try:
            await in_thread(
                store.add_exchange, user, dialogue_id, len(dialogue.turns), message.text, pending
            )
        except InputError as exc:
            raise HTTPException(409, exc.reason) from exc
        return _view(await owned(user, dialogue_id))

    @app.post("/api/dialogues/{dialogue_id}/choice")
    async def choose(path_id: PathId, choice: Choice, user: CurrentUser) -> dict[str, Any]:
        dialogue_id = dialogue_number(path_id)
        await owned(user, dialogue_id)
        try:
            await in_thread(store.choose, user, dialogue_id, choice.choice - 1)
        except InputError as exc:
            raise HTTPException(409, exc.reason) from exc
        return _view(await owned(user, dialogue_id))

    @app.get("/api/export")
    async def export(user: CurrentUser) -> Response:
        if not user.admin:
            raise HTTPException(403, "only an admin can export battles")
        battles = await in_thread(store.battles)
        body = b"".join(orjson.dumps(b, option=orjson.OPT_APPEND_NEWLINE) for b in battles)
        return Response(body, media_type="application/x-ndjson")

    return app
