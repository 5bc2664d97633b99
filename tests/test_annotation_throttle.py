"""Sign-in throttling never locks a team out: the scenarios of a lab behind one address.

The app runs in-process behind httpx's ASGI transport, whose peer address a test sets
(a reverse proxy's, or a client's); the throttle's clock is injected, so nothing here
waits on wall-clock time.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from interactive_agents.annotation import AnnotationConfig, AnnotationStore, LoginThrottle
from interactive_agents.annotation import _database as database
from interactive_agents.annotation._app import create_app
from interactive_agents.annotation._auth import ScryptCost, hash_password
from interactive_agents.annotation._web import client_address

PASSWORD = "a long enough secret"
NAT = "192.0.2.10"  # the lab's one public address
PROXY = "10.0.0.2"  # a reverse proxy in front of the platform
ORIGIN = "http://platform.test"
CHEAP = ScryptCost(2**10, 8, 1)  # for the tests that make 30 accounts: the rules, not the cost


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(database, "CURRENT_COST", CHEAP)
    monkeypatch.setattr(database, "hash_password", functools.partial(hash_password, cost=CHEAP))


def team(path: Path, names: list[str]) -> AnnotationStore:
    store = AnnotationStore(path)
    for name in names:
        store.add_user(name, PASSWORD)
    return store


async def browser(app: object, address: str) -> httpx.AsyncClient:
    """A browser of its own (its own cookies) whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url=ORIGIN, headers={"Origin": ORIGIN})


async def sign_in(
    client: httpx.AsyncClient, name: str, password: str = PASSWORD, **headers: str
) -> int:
    response = await client.post(
        "/api/login", json={"name": name, "password": password}, headers=headers
    )
    return response.status_code


@pytest.fixture
async def clients() -> AsyncIterator[list[httpx.AsyncClient]]:
    made: list[httpx.AsyncClient] = []
    yield made
    for client in made:
        await client.aclose()


@pytest.mark.anyio
async def test_forty_wrong_passwords_for_bob_lock_out_nobody_else(
    tmp_path: Path, clients: list[httpx.AsyncClient]
) -> None:
    store = team(tmp_path / "team.db", ["ana", "bob", "cy"])
    clock = Clock()
    app = create_app(
        store, [], throttle=LoginThrottle(clock=clock)
    )  # 5 per account, 30 per address
    bobs_laptop = await browser(app, NAT)
    clients.append(bobs_laptop)
    assert await sign_in(bobs_laptop, "bob") == 200  # bob worked here yesterday
    attacker = await browser(app, NAT)
    clients.append(attacker)
    tried = []
    for guess in range(40):
        clock.now += 3
        tried.append(await sign_in(attacker, "bob", f"guess number {guess}"))
    # Five guesses are checked, then the account refuses without checking.
    assert tried == [401] * 5 + [429] * 35
    # Everybody else behind the same address signs in at once.
    for name in ("ana", "cy"):
        colleague = await browser(app, NAT)
        clients.append(colleague)
        assert await sign_in(colleague, name) == 200
    # bob from a new browser waits like the attacker; from his own laptop he gets in.
    elsewhere = await browser(app, NAT)
    clients.append(elsewhere)
    assert await sign_in(elsewhere, "bob") == 429
    assert await sign_in(bobs_laptop, "bob") == 200
    # ...and that did not unlock the account for the attacker.
    assert await sign_in(attacker, "bob", "one more guess") == 429
    clock.now += 900
    assert await sign_in(elsewhere, "bob") == 200


@pytest.mark.anyio
@pytest.mark.usefixtures("cheap_hashes")
async def test_thirty_annotators_sign_in_within_a_minute_from_one_address(
    tmp_path: Path, clients: list[httpx.AsyncClient]
) -> None:
    names = [f"annotator{n:02d}" for n in range(30)]
    store = team(tmp_path / "team.db", names)
    clock = Clock()
    app = create_app(store, [], throttle=LoginThrottle(clock=clock))
    answers = []
    for n, name in enumerate(names):
        clock.now += 2
        laptop = await browser(app, NAT)
        clients.append(laptop)
        if n % 6 == 0:  # some mistype first
            answers.append(await sign_in(laptop, name, "a long enough secrte"))
        answers.append(await sign_in(laptop, name))
    assert answers.count(200) == 30 and answers.count(401) == 5 and 429 not in answers


@pytest.mark.anyio
async def test_behind_a_trusted_proxy_each_client_has_its_own_address(
    tmp_path: Path, clients: list[httpx.AsyncClient]
) -> None:
    store = team(tmp_path / "team.db", ["ana", "bob", "eve"])

    async def spray_then_retry(config: AnnotationConfig) -> tuple[int, int]:
        """A client fails on three names; another client, behind the same proxy, then
        signs in as one of them: its status, and the sprayer's own retry."""
        throttle = LoginThrottle(per_account=100, per_address=3, clock=Clock())
        app = create_app(store, [], config, throttle=throttle)
        through_proxy = await browser(app, PROXY)
        clients.append(through_proxy)
        for name in ("ana", "bob", "eve"):
            await sign_in(through_proxy, name, "wrong guess", **{"X-Forwarded-For": "203.0.113.5"})
        sprayer = await sign_in(through_proxy, "ana", "wrong", **{"X-Forwarded-For": "203.0.113.5"})
        fresh = await browser(app, PROXY)
        clients.append(fresh)
        colleague = await sign_in(fresh, "ana", **{"X-Forwarded-For": "198.51.100.7"})
        return colleague, sprayer

    trusting = AnnotationConfig(trusted_proxies=(PROXY,))
    assert await spray_then_retry(trusting) == (200, 429)
    # Without --trusted-proxy every client has the proxy's address: ana must wait.
    assert await spray_then_retry(AnnotationConfig()) == (429, 429)


def _request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 1), "headers": headers})


def test_the_client_address_is_the_last_hop_no_trusted_proxy_added() -> None:
    proxies = AnnotationConfig(trusted_proxies=("10.0.0.0/8", "::1")).proxy_networks()
    # The proxy appends the address it saw; what the client wrote to its left is not believed.
    assert client_address(_request("10.0.0.2", "6.6.6.6, 203.0.113.5"), proxies) == "203.0.113.5"
    # Two proxies in a chain: the right-most hop that is not one of them.
    assert client_address(_request("::1", "203.0.113.5", "10.1.1.1"), proxies) == "203.0.113.5"
    # A peer that is not a trusted proxy cannot choose its address.
    assert client_address(_request("198.51.100.7", "10.9.9.9"), proxies) == "198.51.100.7"
    assert client_address(_request("10.0.0.2"), proxies) == "10.0.0.2"
    assert client_address(_request("10.0.0.2", "6.6.6.6"), ()) == "10.0.0.2"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    from interactive_agents import build_config
    from interactive_agents.errors import ConfigError

    with pytest.raises(ConfigError, match=r"trusted_proxies.*not an IP address"):
        build_config(None, {"trusted_proxies": ["nginx.local"]}, kind=AnnotationConfig)
    config = build_config(
        None, {"trusted_proxies": ["127.0.0.1", "fd00::/8"]}, kind=AnnotationConfig
    )
    assert [str(n) for n in config.proxy_networks()] == ["127.0.0.1/32", "fd00::/8"]
