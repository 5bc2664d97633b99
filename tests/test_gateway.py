"""Behind a gateway: a real LiteLLM proxy in front of the fake server.

LiteLLM forwards a provider's 429 with the provider's headers renamed
(``llm_provider-retry-after``, ``llm_provider-retry-after-ms``); the wait the engine
takes must still be the provider's. The proxy (``litellm[proxy]`` from PyPI) runs from
the environment ``scripts/setup.sh`` installs it into, named by
``INTERACTIVE_AGENTS_LITELLM``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from interactive_agents import Engine
from interactive_agents.errors import PermanentEndpointError
from interactive_agents.llm._endpoint import server_retry_after
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import ChatMessage, Sampling
from interactive_agents.method._cards import load_cards
from interactive_agents.method._records import DialogueRecord
from interactive_agents.testing import FakeServer, Fault

from .support import (
    DEMO,
    VirtualTime,
    closed_port,
    config_for,
    installed_tool,
    stop_process,
    wait_until_up,
)

KEY_VARIABLE = "IA_TEST_LITELLM_KEY"
GATEWAY_MODEL = "counsel"


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


@pytest.fixture(scope="module")
def gateway(provider: FakeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A LiteLLM proxy on loopback, routing ``counsel`` to the fake server; its base URL."""
    litellm = installed_tool("INTERACTIVE_AGENTS_LITELLM", "LiteLLM's proxy (litellm[proxy])")
    folder = tmp_path_factory.mktemp("litellm")
    config = folder / "config.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {GATEWAY_MODEL}\n"
        "    litellm_params:\n"
        "      model: openai/mock-model\n"
        f"      api_base: {provider.base_url}\n"
        "      api_key: unused\n"
        "      max_retries: 0\n"
        "litellm_settings:\n  num_retries: 0\n"
        "router_settings:\n  num_retries: 0\n",
        encoding="utf-8",
    )
    key = "sk-ia-" + os.urandom(12).hex()
    os.environ[KEY_VARIABLE] = key
    port = closed_port()  # free until the proxy takes it
    environment = {**os.environ, "LITELLM_MASTER_KEY": key, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    log = (folder / "litellm.log").open("wb")
    process = subprocess.Popen(
        [str(litellm), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=environment,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health/liveliness", process, timeout=180)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(process)
        log.close()


def through(gateway: str) -> EndpointConfig:
    return EndpointConfig(base_urls=(gateway,), model=GATEWAY_MODEL, api_key_env=KEY_VARIABLE)


@pytest.mark.anyio
async def test_the_providers_retry_after_is_honoured_through_litellm(
    provider: FakeServer, gateway: str
) -> None:
    """The provider asks for 3 s; LiteLLM renames the header; the engine still waits 3 s
    (its own backoff after a first failure is at most 1 s)."""
    time = VirtualTime()
    endpoint = time.endpoint(through(gateway))
    provider.fail_next(Fault(429, retry_after=3))
    try:
        completion = await endpoint.complete([ChatMessage("user", "Hello")], Sampling(0.7, 1, 8))
    finally:
        await endpoint.aclose()
    assert completion.content and completion.usage.retries == 1
    assert time.waits == [3.0]


@pytest.mark.anyio
async def test_a_run_through_litellm_is_probed_and_counted(gateway: str, tmp_path: Path) -> None:
    """The probe finds the gateway's model in its /models list; usage passes through."""
    config = config_for(
        gateway, **{"endpoint.model": GATEWAY_MODEL, "endpoint.api_key_env": KEY_VARIABLE}
    )
    cards = load_cards(DEMO).cards[:1]
    async with Engine(config, run_dir=tmp_path / "run") as engine:
        records = [record async for record in engine.run(cards)]
    assert engine.notes == []
    (record,) = records
    assert isinstance(record, DialogueRecord)
    assert record.termination.reason == "max_turns"
    assert record.usage.calls == 5 and record.usage.prompt_tokens > 0


@pytest.mark.anyio
async def test_a_model_the_gateway_does_not_route_stops_the_run(
    gateway: str, tmp_path: Path
) -> None:
    config = config_for(
        gateway, **{"endpoint.model": "no-such-model", "endpoint.api_key_env": KEY_VARIABLE}
    )
    with pytest.raises(
        PermanentEndpointError, match=f"{gateway}: .*the server lists: {GATEWAY_MODEL}"
    ):
        async with Engine(config, run_dir=tmp_path / "run"):
            pass
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after-ms": "2500"}, 2.5),
        ({"llm_provider-retry-after": "3"}, 3.0),
        ({"llm_provider-retry-after-ms": "3000", "retry-after": "1"}, 3.0),
        ({"retry-after-ms": "soon"}, None),
        ({}, None),
    ],
)
def test_every_retry_header_is_read_and_the_longest_wait_wins(
    headers: dict[str, str], seconds: float | None
) -> None:
    assert server_retry_after(headers.get) == seconds
