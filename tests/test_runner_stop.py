"""A run stops at once, marking no dialogue failed, when its endpoint becomes unusable
or its run directory cannot be written; the CLI then prints one line and exits 2/74/75."""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.errors import EndpointDownError, PermanentEndpointError, RunStorageError
from interactive_agents.llm._endpoint import ChatEndpoint
from interactive_agents.llm._messages import ChatMessage, Completion, Sampling
from interactive_agents.method._cards import load_cards
from interactive_agents.method._records import DialogueRecord
from interactive_agents.runtime._engine import Engine, Result
from interactive_agents.runtime.store._store import RunStore
from interactive_agents.testing import FakeServer

from .support import base_args, config_for, read_records, said

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
CARDS = ROOT / "runners" / "cards" / "demo_en.jsonl"
DEMO = load_cards(CARDS).cards


class BreaksAfter:
    """A real endpoint that starts raising ``error`` after ``calls`` answers."""

    def __init__(self, endpoint: ChatEndpoint, calls: int, error: Exception) -> None:
        self.endpoint = endpoint
        self.model = endpoint.model
        self.left = calls
        self.error = error

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        sampling: Sampling,
        *,
        seed: int | None = None,
        priority: int = 0,
        stream: str | None = None,
    ) -> Completion:
        if self.left == 0:
            raise self.error
        self.left -= 1
        return await self.endpoint.complete(messages, sampling, seed=seed, priority=priority)

    def release(self, stream: str) -> None:
        self.endpoint.release(stream)

    async def aclose(self) -> None:
        await self.endpoint.aclose()


@pytest.mark.parametrize(
    "error",
    [
        PermanentEndpointError("401 from http://x/v1: bad key", status=401),
        EndpointDownError("http://x/v1 down for 60 s"),
    ],
)
async def test_an_unusable_endpoint_stops_the_run_and_fails_no_dialogue(
    server: FakeServer, tmp_path: Path, error: Exception
) -> None:
    config = config_for(server.base_url, max_turns=3, max_in_flight=1)
    counselor = BreaksAfter(ChatEndpoint(config.counselor.endpoint), 3, error)
    results: list[Result] = []
    engine = Engine(config, run_dir=tmp_path, backends={"counselor": counselor})

    async def play() -> None:
        async with engine, engine.results(DEMO[:4]) as stream:
            async for result in stream:
                results.append(result)

    with pytest.raises(type(error)):
        await play()
    # The first dialogue (three counselor turns) finished; the second met the error.
    assert [r.id for r in results] == [DEMO[0].id]
    assert [r["id"] for r in read_records(tmp_path / "dialogues.jsonl")] == [DEMO[0].id]
    assert read_records(tmp_path / "failures.jsonl") == []
    assert engine.stats.failed == 0 and engine.stats.in_flight == 0

    # The re-run (endpoint fixed) does exactly the unfinished dialogues.
    async with Engine(config, run_dir=tmp_path) as engine:
        again = [r async for r in engine.run(DEMO[:4])]
    assert sorted(r.id for r in again) == sorted(c.id for c in DEMO[1:4])
    assert all(isinstance(r, DialogueRecord) for r in again)
    assert len(read_records(tmp_path / "dialogues.jsonl")) == 4


async def test_a_submitted_dialogue_reports_the_error_that_stopped_the_run(
    server: FakeServer,
) -> None:
    config = config_for(server.base_url, max_turns=3)
    down = EndpointDownError("http://x/v1 down")
    counselor = BreaksAfter(ChatEndpoint(config.counselor.endpoint), 0, down)

    async def play() -> None:
        async with Engine(config, backends={"counselor": counselor}) as engine:
            handle = await engine.submit(DEMO[0])
            with pytest.raises(EndpointDownError):
                await handle.result()
            with pytest.raises(EndpointDownError):  # no more admissions
                await engine.submit(DEMO[1])

    with pytest.raises(EndpointDownError):  # and out of the block
        await play()


def _disk_full(self: RunStore, record: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


async def test_a_storage_failure_stops_the_run(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RunStore, "write", _disk_full)
    engine = Engine(config_for(server.base_url), run_dir=tmp_path)

    async def play() -> None:
        async with engine:
            _ = [r async for r in engine.run(DEMO[:3])]

    with pytest.raises(RunStorageError, match="No space left"):
        await play()
    assert engine.stats.failed == 0


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (PermanentEndpointError("http://x/v1 answered 401: invalid key", status=401), 2),
        (EndpointDownError("http://x/v1 unreachable for 300 s"), 75),
    ],
)
def test_the_cli_names_the_endpoint_in_one_line_and_exits(
    server: FakeServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    code: int,
) -> None:
    async def unusable(*args: object, **kwargs: object) -> Completion:
        raise error

    monkeypatch.setattr(ChatEndpoint, "complete", unusable)
    result = CliRunner().invoke(main, base_args(server, tmp_path / "run"))
    assert result.exit_code == code, result.output
    assert said(result.output) == [f"Error: {error}"]
    assert read_records(tmp_path / "run" / "failures.jsonl") == []


def test_the_cli_exits_74_when_the_run_directory_cannot_be_written(
    server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RunStore, "write", _disk_full)
    result = CliRunner().invoke(main, base_args(server, tmp_path / "run"))
    assert result.exit_code == 74, result.output
    (line,) = said(result.output)
    assert line.startswith("Error: cannot write") and "No space left" in line
