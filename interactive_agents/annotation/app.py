"""The annotation web app (SPEC §10, the paper's Figure 15), as a FastAPI application.

An annotator signs in, starts a dialogue (two bots drawn at random), plays the client
by typing, and for every message sees the two bots' replies in shuffled order as radio
buttons; the chosen one becomes the history and the choice is a battle. Pages are
static files of this package (no external CDN) that render every text with
``textContent``; the Content-Security-Policy forbids inline and foreign scripts, so a
``<script>`` typed into a message stays text. The JSON API is reached with a
``SameSite=Strict`` HttpOnly session cookie; an admin exports every battle.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
import orjson
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, StringConstraints

from interactive_agents.annotation.database import (
    AnnotationDialogue,
    AnnotationStore,
    NotFound,
    Pending,
    User,
)
from interactive_agents.arena.battles import ShownOrder
from interactive_agents.arena.bots import Bot
from interactive_agents.arena.competition import bot_candidate
from interactive_agents.errors import BackendError, InputError, SessionError
from interactive_agents.llm.endpoint import ChatBackend, ChatEndpoint
from interactive_agents.method.records import Turn
from interactive_agents.method.refiner import RefinerRules
from interactive_agents.method.seeds import derive_seed

STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "ia_session"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class SignIn(BaseModel):
    name: Annotated[str, StringConstraints(max_length=64)]
    password: Annotated[str, StringConstraints(max_length=256)]


class PostedMessage(BaseModel):
    text: Text


class Choice(BaseModel):
    choice: Literal[1, 2] = Field(description="The position of the better reply, as shown.")


def current_user(request: Request) -> User:
    """The signed-in user of the request's session cookie, or 401."""
    store: AnnotationStore = request.app.state.store
    token = request.cookies.get(COOKIE)
    user = store.user_for(token) if token else None
    if user is None:
        raise HTTPException(401, "sign in first")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


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
) -> FastAPI:
    """The app over ``store``; each bot gets one endpoint for the app's lifetime."""
    by_name = {bot.name: bot for bot in bots}
    backends: dict[str, ChatBackend] = {}
    refiner = RefinerRules.for_language(language)
    rng = random.SystemRandom()

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

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    def owned(user: User, dialogue_id: int) -> AnnotationDialogue:
        try:
            return store.dialogue(user, dialogue_id)
        except NotFound as exc:
            raise HTTPException(404, "no such dialogue") from exc

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.post("/api/login")
    async def login(form: SignIn, response: Response) -> dict[str, Any]:
        token = store.sign_in(form.name, form.password, session_hours * 3600)
        if token is None:
            raise HTTPException(401, "wrong name or password")
        response.set_cookie(
            COOKIE, token, max_age=int(session_hours * 3600), httponly=True, samesite="strict"
        )
        user = store.user_for(token)
        assert user is not None
        return {"name": user.name, "admin": user.admin}

    @app.post("/api/logout")
    async def logout(request: Request, response: Response) -> dict[str, bool]:
        token = request.cookies.get(COOKIE)
        if token:
            store.sign_out(token)
        response.delete_cookie(COOKIE)
        return {"ok": True}

    @app.get("/api/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {"name": user.name, "admin": user.admin}

    @app.get("/api/dialogues")
    async def dialogues(user: CurrentUser) -> list[dict[str, int]]:
        return [{"id": i, "turns": n} for i, n in store.dialogues(user)]

    @app.post("/api/dialogues")
    async def start(user: CurrentUser) -> dict[str, Any]:
        a, b = rng.sample(list(by_name), 2)
        return _view(owned(user, store.new_dialogue(user, a, b)))

    @app.get("/api/dialogues/{dialogue_id}")
    async def show(dialogue_id: int, user: CurrentUser) -> dict[str, Any]:
        return _view(owned(user, dialogue_id))

    @app.post("/api/dialogues/{dialogue_id}/messages")
    async def send(dialogue_id: int, message: PostedMessage, user: CurrentUser) -> dict[str, Any]:
        dialogue = owned(user, dialogue_id)
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
            raise HTTPException(502, f"a bot did not answer: {errors.exceptions[0]}") from None
        order: ShownOrder = rng.choice(("ab", "ba"))
        pending = Pending(replies[dialogue.bot_a], replies[dialogue.bot_b], order)
        try:
            store.add_exchange(user, dialogue_id, len(dialogue.turns), message.text, pending)
        except InputError as exc:
            raise HTTPException(409, exc.reason) from exc
        return _view(owned(user, dialogue_id))

    @app.post("/api/dialogues/{dialogue_id}/choice")
    async def choose(dialogue_id: int, choice: Choice, user: CurrentUser) -> dict[str, Any]:
        owned(user, dialogue_id)
        try:
            store.choose(user, dialogue_id, choice.choice - 1)
        except InputError as exc:
            raise HTTPException(409, exc.reason) from exc
        return _view(owned(user, dialogue_id))

    @app.get("/api/export")
    async def export(user: CurrentUser) -> Response:
        if not user.admin:
            raise HTTPException(403, "only an admin can export battles")
        body = b"".join(orjson.dumps(b, option=orjson.OPT_APPEND_NEWLINE) for b in store.battles())
        return Response(body, media_type="application/x-ndjson")

    return app
