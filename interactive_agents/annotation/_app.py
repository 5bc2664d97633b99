"""The annotation web app, on FastAPI: sign-in, battles (:mod:`.battle_routes`) and rating
tasks (:mod:`.task_routes`), in the interface language of the configuration.

Pages are static files of this package (no external CDN) that render every text with
``textContent``; the Content-Security-Policy forbids inline and foreign scripts, so a
``<script>`` typed into a message stays text. The interface's words are data
(``static/strings.<lang>.json``). The JSON API is reached with a ``SameSite=Strict``
HttpOnly session cookie (``Secure`` on request, for HTTPS or a TLS proxy).

Hardening: sign-ins are throttled per name and per address, counting failures only
(:mod:`.throttle`), behind a reverse proxy by the address it forwards (only from the
trusted proxies of the configuration); a browser where an account signed in before gets
a device cookie that keeps its owner in while the account is under attack. scrypt and
SQLite run in worker threads, scrypt at most ``HASHING_THREADS`` at a time (each takes
128 MiB), so a flood of sign-ins never stalls the event loop; request bodies are capped
before anything reads them; a state-changing request whose ``Origin`` is not the
platform's own (or one allowed) is refused; validation errors never echo the input (it
may be a password); a bot's failure is logged, and annotators see no internal URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, StringConstraints
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interactive_agents.annotation._auth import MAX_PASSWORD, token_key
from interactive_agents.annotation._battle_routes import battle_routes
from interactive_agents.annotation._config import AnnotationConfig
from interactive_agents.annotation._database import AnnotationStore, User
from interactive_agents.annotation._task_routes import task_routes
from interactive_agents.annotation._task_store import TaskStore
from interactive_agents.annotation._throttle import LoginThrottle
from interactive_agents.annotation._web import (
    COOKIE,
    DEVICE_COOKIE,
    CurrentUser,
    Refusal,
    client_address,
    in_thread,
)
from interactive_agents.arena._bots import Bot, load_bots
from interactive_agents.llm._endpoint import ChatBackend, ChatEndpoint
from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._refiner import RefinerRules

STATIC = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAX_BODY = 64 * 1024  # the largest request the API needs (a 2,000-character message) fits
HASHING_THREADS = 2
DEVICE_DAYS = 180
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SignIn(BaseModel):
    name: Annotated[str, StringConstraints(max_length=64)]
    password: Annotated[str, StringConstraints(max_length=MAX_PASSWORD)]


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


def create_app(
    store: AnnotationStore,
    bots: Sequence[Bot] = (),
    config: AnnotationConfig | None = None,
    *,
    throttle: LoginThrottle | None = None,
) -> FastAPI:
    """The app over ``store``; each bot gets one endpoint for the app's lifetime.

    ``config`` says the language, cookies, origins, proxies and throttling (its
    ``db`` and ``bots`` are the caller's to open); ``throttle`` replaces the one it
    describes (tests give one with a clock of their own).
    """
    config = config if config is not None else AnnotationConfig()
    backends: dict[str, ChatBackend] = {}
    limits = config.throttle
    logins = throttle or LoginThrottle(limits.per_account, limits.per_address, limits.window)
    hashing = anyio.CapacityLimiter(HASHING_THREADS)
    origins = frozenset(o.rstrip("/") for o in config.allowed_origins)
    proxies = config.proxy_networks()
    lifetime = config.session_hours * 3600

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
            response: Response = JSONResponse(
                {"detail": "cross-origin request refused", "code": "cross_origin"}, 403
            )
        else:
            response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        """Where and why, never the value: it may be a password."""
        errors = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"detail": errors, "code": "invalid"}, status_code=422)

    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> JSONResponse:
        body = {"detail": exc.detail, "code": exc.code}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    def set_cookie(response: Response, name: str, value: str, seconds: float) -> None:
        response.set_cookie(
            name,
            value,
            max_age=int(seconds),
            httponly=True,
            samesite="strict",
            secure=config.secure_cookie,
        )

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/api/settings")
    async def settings() -> dict[str, Any]:
        """What the page needs before anyone signs in: its language, whether battles run."""
        return {"language": config.language, "battles": len(bots) >= 2}

    @app.post("/api/login")
    async def login(form: SignIn, request: Request, response: Response) -> dict[str, Any]:
        address = client_address(request, proxies)
        device_token = request.cookies.get(DEVICE_COOKIE)
        owner = await in_thread(store.device_owner, device_token) if device_token else None
        device_key = token_key(device_token) if device_token and owner == form.name else None
        trusted = device_key is not None and logins.device_trusted(device_key)
        wait = logins.wait(form.name, address, device=trusted)
        if wait > 0:
            seconds = int(wait) + 1
            raise Refusal(
                429,
                "throttled",
                f"too many failed sign-ins: try again in {seconds} s",
                {"Retry-After": str(seconds)},
            )
        token = await anyio.to_thread.run_sync(
            partial(store.sign_in, form.name, form.password, lifetime), limiter=hashing
        )
        user = await in_thread(store.user_for, token) if token is not None else None
        if token is None or user is None:
            logins.failed(form.name, address, device_key)
            raise Refusal(401, "wrong_password", "wrong name or password")
        logins.succeeded(form.name, address)
        set_cookie(response, COOKIE, token, lifetime)
        if owner != user.name:
            set_cookie(response, DEVICE_COOKIE, await in_thread(store.add_device, user),
                       DEVICE_DAYS * 86400)  # fmt: skip
        return _me(user)

    @app.post("/api/logout")
    async def logout(request: Request, response: Response) -> dict[str, bool]:
        token = request.cookies.get(COOKIE)
        if token:
            await in_thread(store.sign_out, token)
        response.delete_cookie(
            COOKIE, httponly=True, samesite="strict", secure=config.secure_cookie
        )
        return {"ok": True}

    @app.get("/api/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return _me(user)

    refiner = RefinerRules.for_language(config.language)
    app.include_router(
        battle_routes(
            store, bots, backends, refiner=refiner, refiner_attempts=config.refiner_attempts
        )
    )
    app.include_router(task_routes(TaskStore(store)))
    return app


def _me(user: User) -> dict[str, Any]:
    return {"name": user.name, "admin": user.admin}


def annotation_app(config: AnnotationConfig) -> FastAPI:
    """The platform ``config`` describes: its database opened (and brought up to date),
    its bots (if any) loaded with the counselor prompt of its language."""
    bots: list[Bot] = []
    if config.bots:
        prompt = load_prompts(config.language).counselor.system_message().content
        bots = load_bots(config.bots, prompt)
    return create_app(AnnotationStore(config.db), bots, config)
