"""The library under each of anyio's backends: asyncio, asyncio on uvloop, and trio.

aiohttp runs on asyncio only; under trio every dialogue used to fail with "no running
event loop" while the run ended normally. Now an anyio-native client (httpx) is chosen
when the running loop is not asyncio, and a client that cannot run on the loop stops
the run at ``async with``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from interactive_agents import Engine, load_cards
from interactive_agents.errors import PermanentEndpointError
from interactive_agents.llm import (
    AiohttpClient,
    ChatBackend,
    ChatEndpoint,
    ChatMessage,
    Http1Client,
    HttpxClient,
    Sampling,
    default_http_client,
)
from interactive_agents.loadtest import BenchConfig, LoadGenerator
from interactive_agents.method import load_prompts
from interactive_agents.method._records import DialogueRecord, Role
from interactive_agents.testing import FakeServer

from .support import DEMO, config_for

pytestmark = pytest.mark.anyio


@pytest.fixture(
    params=[
        pytest.param(("asyncio", {}), id="asyncio"),
        pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"),
        pytest.param(("trio", {}), id="trio"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, object]]:
    backend: tuple[str, dict[str, object]] = request.param
    return backend


async def test_a_run_completes_on_every_backend(
    server: FakeServer, tmp_path: Path, anyio_backend: tuple[str, dict[str, object]]
) -> None:
    cards = load_cards(DEMO).cards[:3]
    async with Engine(config_for(server.base_url), run_dir=tmp_path) as engine:
        records = [record async for record in engine.run(cards)]
    assert len(records) == 3
    for record in records:
        assert isinstance(record, DialogueRecord), record
        assert record.termination.reason == "max_turns"
    assert engine.stats.failed == 0 and engine.stats.errors == 0
    assert len(server.calls) == 3 * 5


async def test_the_default_client_follows_the_running_loop(
    server: FakeServer, anyio_backend: tuple[str, dict[str, object]]
) -> None:
    client = default_http_client(server.base_url, 10.0)
    expected = HttpxClient if anyio_backend[0] == "trio" else Http1Client
    assert isinstance(client, expected)
    endpoint = ChatEndpoint(config_for(server.base_url).client.endpoint)
    try:
        completion = await endpoint.complete([ChatMessage("user", "Hello")], Sampling(0.7, 1, 8))
    finally:
        await endpoint.aclose()
        await client.aclose()
    assert completion.content


async def test_bench_runs_on_every_backend(
    server: FakeServer, anyio_backend: tuple[str, dict[str, object]]
) -> None:
    config = BenchConfig(endpoint=config_for(server.base_url).client.endpoint, requests=6)
    (load,) = config.loads()
    generator = LoadGenerator(load, load_cards(DEMO).cards, load_prompts("en"))
    report = await generator.run()
    assert report["completed"] == 6 and report["failed"] == 0


@pytest.mark.parametrize("anyio_backend", [("trio", {})], ids=["trio"], indirect=True)
async def test_a_client_that_cannot_run_on_the_loop_refuses_at_async_with(
    server: FakeServer, tmp_path: Path, anyio_backend: tuple[str, dict[str, object]]
) -> None:
    """aiohttp's client handed in explicitly under trio: the run does not start (no
    dialogue is played and failed), and the error says what to do."""
    config = config_for(server.base_url)
    backend = ChatEndpoint(config.client.endpoint, http_client=AiohttpClient)
    roles: dict[Role, ChatBackend] = {"client": backend, "counselor": backend}
    with pytest.raises(PermanentEndpointError, match="aiohttp's client needs asyncio, not trio"):
        async with Engine(config, run_dir=tmp_path / "run", backends=roles):
            pass
    assert server.calls == [] and not (tmp_path / "run").exists()
