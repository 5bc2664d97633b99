"""The annotation API through FastAPI's TestClient: the flow, and each hardening rule.

Throttling uses an injected clock, the event-loop test a threading.Event: nothing here
waits on wall-clock time. The throttling scenarios of a team behind one address are in
``test_annotation_throttle.py``.
"""

from __future__ import annotations

import shutil
import socket
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from interactive_agents.annotation import AnnotationConfig
from interactive_agents.annotation import _database as database
from interactive_agents.annotation._app import MAX_BODY, create_app
from interactive_agents.annotation._auth import (
    CURRENT_COST,
    LEGACY_COST,
    MAX_PASSWORD,
    ScryptCost,
    hash_password,
)
from interactive_agents.annotation._database import AnnotationStore
from interactive_agents.annotation._throttle import LoginThrottle
from interactive_agents.arena._bots import Bot, load_bots
from interactive_agents.errors import InputError
from interactive_agents.testing import FakeServer

from .support import write_bots_registry

PASSWORD = "a long enough secret"
ORIGIN = "http://testserver"  # TestClient's own origin


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database with ana, bob and the admin boss, hashed once for the module."""
    path = tmp_path_factory.mktemp("accounts") / "annotation.db"
    store = AnnotationStore(path)
    store.add_user("ana", PASSWORD)
    store.add_user("bob", PASSWORD)
    store.add_user("boss", PASSWORD, admin=True)
    return path


@pytest.fixture
def store(accounts: Path, tmp_path: Path) -> AnnotationStore:
    copy = tmp_path / "annotation.db"
    shutil.copy(accounts, copy)
    return AnnotationStore(copy)


def bots_at(url: str, tmp_path: Path) -> list[Bot]:
    registry = write_bots_registry(tmp_path / "bots.toml", url, extra="max_retries = 0\n")
    return load_bots(registry, "You are a counselor.")


@pytest.fixture
def bots(server: FakeServer, tmp_path: Path) -> list[Bot]:
    server.script = lambda call: f"{call.body['model']} listens."
    return bots_at(server.base_url, tmp_path)


def client_for(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, headers={"Origin": ORIGIN}) as client:
        yield client


@pytest.fixture
def api(store: AnnotationStore, bots: list[Bot]) -> Iterator[TestClient]:
    yield from client_for(create_app(store, bots, AnnotationConfig(language="en")))


def sign_in(client: TestClient, name: str = "ana", password: str = PASSWORD) -> Any:
    return client.post("/api/login", json={"name": name, "password": password})


def test_sign_in_play_choose_and_export(api: TestClient) -> None:
    assert api.get("/api/me").status_code == 401
    assert sign_in(api).json() == {"name": "ana", "admin": False}
    made = api.post("/api/dialogues").json()
    sent = api.post(f"/api/dialogues/{made['id']}/messages", json={"text": "I feel low."})
    assert sent.status_code == 200
    assert sorted(sent.json()["candidates"]) == ["alpha listens.", "beta listens."]
    chosen = api.post(f"/api/dialogues/{made['id']}/choice", json={"choice": 2}).json()
    assert [t["role"] for t in chosen["turns"]] == ["client", "counselor"]
    assert api.get("/api/export").status_code == 403
    sign_in(api, "boss")
    exported = api.get("/api/export")
    assert exported.status_code == 200 and b'"judge":"human:ana"' in exported.content


def test_sign_in_is_throttled_per_account_then_released(
    store: AnnotationStore, bots: list[Bot]
) -> None:
    clock = Clock()
    throttle = LoginThrottle(per_account=3, per_address=100, window=60.0, clock=clock)
    for api in client_for(create_app(store, bots, throttle=throttle)):
        assert [sign_in(api, password="wrong password").status_code for _ in range(3)] == [401] * 3
        # The right password, but the account is under attack (and this browser never
        # signed in as ana, so it holds no device cookie of hers).
        refused = sign_in(api)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        # Throttling an unknown name looks the same, so it tells nothing about names.
        for _ in range(3):
            sign_in(api, "nobody")
        assert sign_in(api, "nobody").status_code == 429
        assert sign_in(api, "bob").status_code == 200  # other accounts are not locked
        clock.now += 61
        assert sign_in(api).status_code == 200
        # Success clears the account's count.
        assert [sign_in(api, password="wrong password").status_code for _ in range(2)] == [401] * 2
        assert sign_in(api).status_code == 200


def test_an_address_over_its_limit_may_not_retry_failed_accounts(
    store: AnnotationStore, bots: list[Bot]
) -> None:
    throttle = LoginThrottle(per_account=100, per_address=3, window=60.0, clock=Clock())
    for api in client_for(create_app(store, bots, throttle=throttle)):
        for name in ("ana", "bob", "eve"):
            assert sign_in(api, name, "wrong password").status_code == 401
        # A sprayed name gets no second guess from this address, the right one included...
        assert sign_in(api, "ana").status_code == 429
        assert sign_in(api, "eve", "another guess").status_code == 429
        # ...a new name one guess, and an account that never failed here signs in.
        assert sign_in(api, "mallory", "a guess").status_code == 401
        assert sign_in(api, "mallory", "a guess").status_code == 429
        assert sign_in(api, "boss").status_code == 200


def test_unknown_names_cost_one_scrypt_like_known_ones(
    store: AnnotationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    costs: list[ScryptCost] = []

    def counted(
        password: str, salt: bytes | None = None, cost: ScryptCost = CURRENT_COST
    ) -> tuple[bytes, bytes]:
        costs.append(cost)
        return hash_password(password, salt, cost)

    monkeypatch.setattr(database, "hash_password", counted)
    monkeypatch.setattr(database, "verify_password", lambda p, s, e, c: counted(p, s, c)[1] == e)
    assert store.sign_in("nobody", PASSWORD, 60) is None
    assert store.sign_in("ana", "wrong password", 60) is None
    assert costs == [CURRENT_COST, CURRENT_COST]


def test_hashes_use_owasp_cost_and_legacy_hashes_still_verify(tmp_path: Path) -> None:
    assert (CURRENT_COST.n, CURRENT_COST.r, CURRENT_COST.p) == (2**17, 8, 1)
    # A database from before the cost was stored: no kdf column, scrypt at N=2^14.
    path = tmp_path / "old.db"
    salt, digest = hash_password(PASSWORD, cost=LEGACY_COST)
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, "
            "salt BLOB NOT NULL, hash BLOB NOT NULL, admin INTEGER NOT NULL DEFAULT 0, "
            "created REAL NOT NULL)"
        )
        db.execute("INSERT INTO users VALUES (1, 'old', ?, ?, 0, 0)", (salt, digest))
    db.close()
    store = AnnotationStore(path)
    assert store.sign_in("old", "wrong password", 60) is None
    assert store.sign_in("old", PASSWORD, 60) is not None
    with sqlite3.connect(path) as db:
        (kdf,) = db.execute("SELECT kdf FROM users WHERE name = 'old'").fetchone()
    db.close()
    assert kdf == str(CURRENT_COST)  # upgraded at sign-in
    assert store.sign_in("old", PASSWORD, 60) is not None


def test_database_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    AnnotationStore(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_password_limits_are_one_constant(store: AnnotationStore, api: TestClient) -> None:
    with pytest.raises(InputError, match=f"8 to {MAX_PASSWORD}"):
        store.add_user("long", "x" * (MAX_PASSWORD + 1))
    store.add_user("edge", "x" * MAX_PASSWORD)
    assert sign_in(api, "edge", "x" * MAX_PASSWORD).status_code == 200
    too_long = sign_in(api, "edge", "y" * (MAX_PASSWORD + 1))
    assert too_long.status_code == 422 and "y" * 50 not in too_long.text


def test_oversized_bodies_are_refused_unread(api: TestClient) -> None:
    secret = "s" * (MAX_BODY + 1)
    refused = sign_in(api, "ana", secret)
    assert refused.status_code == 413 and secret[:100] not in refused.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield b'{"name": "ana", "password": "'
        for _ in range(MAX_BODY // 1024 + 1):
            yield b"s" * 1024
        yield b'"}'

    streamed = api.post(
        "/api/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code in (400, 413) and "sss" not in streamed.text
    assert api.get("/api/me").status_code == 401


@pytest.mark.parametrize(
    "bad", ["99999999999999999999", "9223372036854775808", "0", "-1", "abc", "١"]
)
def test_any_bad_dialogue_id_is_404(api: TestClient, bad: str) -> None:
    sign_in(api)
    assert api.get(f"/api/dialogues/{bad}").status_code == 404
    assert api.post(f"/api/dialogues/{bad}/messages", json={"text": "hi"}).status_code == 404
    assert api.post(f"/api/dialogues/{bad}/choice", json={"choice": 1}).status_code == 404


def test_state_changing_requests_need_the_platform_origin(
    store: AnnotationStore, bots: list[Bot]
) -> None:
    config = AnnotationConfig(allowed_origins=("https://annotate.example.org/",))
    app = create_app(store, bots, config)
    for api in client_for(app):
        sign_in(api)
        foreign = api.post("/api/dialogues", headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
        cross_site = api.post(
            "/api/dialogues", headers={"Origin": "", "Sec-Fetch-Site": "cross-site"}
        )
        assert cross_site.status_code == 403
        assert (
            api.post("/api/logout", headers={"Origin": "https://evil.example"}).status_code == 403
        )
        assert (
            api.get("/api/dialogues", headers={"Origin": "https://evil.example"}).status_code == 200
        )
        proxied = api.post("/api/dialogues", headers={"Origin": "https://annotate.example.org"})
        assert proxied.status_code == 200
        assert api.post("/api/dialogues").status_code == 200  # own origin
        assert api.get("/api/dialogues").json()[0]["turns"] == 0


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(store: AnnotationStore, bots: list[Bot], secure: bool) -> None:
    for api in client_for(create_app(store, bots, AnnotationConfig(secure_cookie=secure))):
        cookies = sign_in(api).headers.get_list("set-cookie")
        assert {c.split("=")[0] for c in cookies} == {"ia_session", "ia_device"}
        for cookie in map(str.lower, cookies):
            assert "httponly" in cookie and "samesite=strict" in cookie
            assert ("secure" in cookie.split("; ")) is secure


def test_a_bot_failure_shows_no_internal_url(store: AnnotationStore, tmp_path: Path) -> None:
    for api in client_for(create_app(store, bots_at(refused_url(), tmp_path))):
        sign_in(api)
        made = api.post("/api/dialogues").json()["id"]
        failed = api.post(f"/api/dialogues/{made}/messages", json={"text": "hello"})
    assert failed.status_code == 502
    assert "127.0.0.1" not in failed.text and "http" not in failed.text


def refused_url() -> str:
    """A loopback URL whose port was just bound and released: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.mark.anyio
async def test_hashing_does_not_stall_other_requests(
    store: AnnotationStore, bots: list[Bot], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a sign-in is hashing, /api/me still answers: scrypt runs in a worker thread."""
    hashing, release = threading.Event(), threading.Event()
    real_sign_in = store.sign_in

    def slow_sign_in(name: str, password: str, lifetime: float) -> str | None:
        hashing.set()
        if not release.wait(30):  # only set once /api/me has answered meanwhile
            raise AssertionError("the event loop was blocked while hashing")
        return real_sign_in(name, password, lifetime)

    monkeypatch.setattr(store, "sign_in", slow_sign_in)
    app = create_app(store, bots)
    transport = httpx.ASGITransport(app=app)
    results: list[int] = []
    client = httpx.AsyncClient(transport=transport, base_url=ORIGIN)

    async def login() -> None:
        response = await client.post("/api/login", json={"name": "ana", "password": PASSWORD})
        results.append(response.status_code)

    async with client, anyio.create_task_group() as group:
        group.start_soon(login)
        await anyio.to_thread.run_sync(hashing.wait, 30)
        with anyio.fail_after(30):  # a guard against a hang, not a measurement
            assert (await client.get("/api/me")).status_code == 401
        release.set()
    assert results == [200]


def test_every_word_of_the_interface_is_in_each_language() -> None:
    """The keys of the page and of its script are in strings.en.json and strings.zh.json,
    with the same placeholders in both."""
    import json
    import re

    from interactive_agents.annotation._app import STATIC

    used = set(re.findall(r'data-i18n="(\w+)"', (STATIC / "index.html").read_text("utf-8")))
    script = (STATIC / "app.js").read_text("utf-8")
    used |= set(re.findall(r'say\("(\w+)"', script))
    languages = {
        language: json.loads((STATIC / f"strings.{language}.json").read_text("utf-8"))
        for language in ("en", "zh")
    }
    english, chinese = languages["en"], languages["zh"]
    assert used <= set(english), used - set(english)
    assert set(english) == set(chinese) and set(english["errors"]) == set(chinese["errors"])
    for key, text in english.items():
        if isinstance(text, str):
            placeholders = sorted(re.findall(r"\{\w+\}", text))
            assert placeholders == sorted(re.findall(r"\{\w+\}", chinese[key])), key
    codes = set(re.findall(r'Refusal\(\s*\d+,\s*"(\w+)"', _sources())) | {"invalid"}
    assert codes <= set(english["errors"]), codes - set(english["errors"])


def _sources() -> str:
    from interactive_agents.annotation._app import STATIC

    return "".join(path.read_text("utf-8") for path in STATIC.parent.glob("*.py"))
