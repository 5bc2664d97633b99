"""The embedding example: an aiohttp service that runs dialogues on demand."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import httpx
import pytest

from interactive_agents.runtime._engine import Engine
from interactive_agents.testing import FakeServer

from .support import config_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import simulation_service

pytestmark = pytest.mark.anyio


async def test_the_service_runs_dialogues_submitted_over_http(server: FakeServer) -> None:
    async with (
        Engine(config_for(server.base_url, max_turns=2)) as engine,
        anyio.create_task_group() as group,
    ):
        port = await group.start(simulation_service.serve, engine, "127.0.0.1", 0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            created = await client.post(
                "/dialogues", json={"id": "c1", "chief_complaint": "I cannot sleep."}
            )
            assert created.status_code == 202
            duplicate = await client.post(
                "/dialogues", json={"id": "c1", "chief_complaint": "again"}
            )
            assert duplicate.status_code == 409
            bad = await client.post("/dialogues", json={"id": "c2", "chief_complaint": 5})
            assert bad.status_code == 400 and "chief_complaint" in bad.json()["error"]
            assert (await client.get("/dialogues/nope")).status_code == 404
            with anyio.fail_after(30):
                while (answer := await client.get("/dialogues/c1")).status_code == 202:  # noqa: ASYNC110
                    await anyio.sleep(0.05)
        group.cancel_scope.cancel()
    record = answer.json()
    assert record["id"] == "c1" and len(record["turns"]) == 4
    assert record["termination"]["reason"] == "max_turns"
