"""Failing fast and saying why: endpoints are probed before a run admits a dialogue, no
password is ever printed, and a managed server's slots bound what is sent to it."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents import Engine
from interactive_agents.cli import main
from interactive_agents.errors import PermanentEndpointError
from interactive_agents.llm import redact
from interactive_agents.testing import FakeServer, ServerOptions

from .support import DEMO, base_args, closed_port, config_for, read_records, run_cli


def test_a_refused_port_stops_the_run_at_once_with_exit_2(tmp_path: Path) -> None:
    """Before, a refused connection was retried for the 300 s outage limit (exit 75);
    the outage limit is raised here so that only the probe can stop the run in time."""
    url = f"http://127.0.0.1:{closed_port()}/v1"
    out = tmp_path / "run"
    args = ["simulate", "--cards", str(DEMO), "--out", str(out), "--base-url", url,
            "--model", "m", "--outage-limit", "3600", "--quiet"]  # fmt: skip
    done = run_cli(args)  # a run that waited for the outage limit would time out here
    assert done.returncode == 2, done.stderr
    message = done.stderr.decode()
    assert f"{url}: cannot connect" in message and "is the port right?" in message
    assert not out.exists()


def test_a_host_that_does_not_resolve_stops_the_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["simulate", "--cards", str(DEMO), "--out", str(tmp_path / "run"), "--model", "m",
         "--base-url", "http://no-such-host.invalid:8000/v1", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "http://no-such-host.invalid:8000/v1: the host name does not resolve" in result.stderr


def test_a_model_the_server_does_not_serve_stops_the_run(tmp_path: Path) -> None:
    with FakeServer(options=ServerOptions(models=("served-a", "served-b"))) as server:
        args = base_args(server, tmp_path / "run")
        args[args.index("scripted")] = "wrong"
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2
        assert f"{server.base_url}: 404 not found for model 'wrong'" in result.stderr
        assert "the server lists: served-a, served-b" in result.stderr
        assert server.calls == [] and not (tmp_path / "run").exists()
        # The right model passes the probe, which costs no chat call when it is listed.
        args[args.index("wrong")] = "served-a"
        result = CliRunner().invoke(main, [*args, "--limit", "1"])
        assert result.exit_code == 0, result.output
        assert len(server.calls) == 5  # the 3-turn dialogue's calls alone


@pytest.mark.anyio
async def test_every_unusable_replica_is_named_and_the_others_are_not(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/v1"
    with FakeServer() as server:
        config = config_for(server.base_url, dead)
        with pytest.raises(PermanentEndpointError) as refused:
            async with Engine(config, run_dir=tmp_path / "run"):
                pass
    assert str(refused.value).startswith(f"{dead}: cannot connect")
    assert server.base_url not in str(refused.value)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://user:secret@127.0.0.1:99999/v1",  # port out of range
        "http://user:secret@[::1/v1",  # unclosed bracket
        "http://user:secret@127.0.0.1:8000/v1",  # credentials in a valid URL
    ],
)
@pytest.mark.parametrize("command", ["simulate", "bench", "arena"])
def test_no_password_of_a_url_is_ever_printed(command: str, url: str, tmp_path: Path) -> None:
    args = {
        "simulate": ["simulate", "--cards", str(DEMO), "--out", str(tmp_path / "run")],
        "bench": ["bench"],
        "arena": ["arena", "--cards", str(DEMO), "--out", str(tmp_path / "run"),
                  "--bots", str(tmp_path / "bots.toml")],
    }[command]  # fmt: skip
    result = CliRunner().invoke(main, [*args, "--base-url", url, "--model", "m"])
    assert result.exit_code == 2
    assert "secret" not in result.output and "user:" not in result.output
    assert "base_urls" in result.stderr and "***@" in result.stderr


def test_redaction_masks_the_userinfo_of_any_url() -> None:
    text = "GET http://alice:pa55@gpu1:8000/v1 failed; retry https://tok@api.example/v1 too"
    assert (
        redact(text) == "GET http://***@gpu1:8000/v1 failed; retry https://***@api.example/v1 too"
    )


@pytest.mark.e2e
def test_the_embedded_servers_slots_cap_the_concurrency_sent_to_it(tmp_path: Path) -> None:
    """``--concurrency 8`` (a recipe written for a fleet) on the one-slot llama.cpp server
    is capped at 1, with a note; nothing queues in the server until it times out."""
    out = tmp_path / "run"
    done = run_cli(["simulate", "--recipe", "quickstart", "--limit", "1", "--max-turns", "1",
                    "--concurrency", "8", "--out", str(out), "--json"])  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    summary = orjson.loads(done.stdout.decode().strip().splitlines()[-1])
    (note,) = summary["notes"]
    assert note.endswith("answers 1 request(s) at a time: concurrency 8 is capped at 1")
    assert "note: " in done.stderr.decode()
    assert summary["retries"] == 0 and summary["finished"] == 1
    (record,) = read_records(out / "dialogues.jsonl")
    assert record["usage"]["retries"] == 0
    # llama.cpp's own counters (its /metrics) agree with the cached tokens it reported.
    (server,) = summary["server_metrics"].values()
    assert server["available"] and server["engine"] == "llama.cpp"
    assert server["prefix_cache_hits"] == summary["cached_tokens"]
    assert server["requests_running"]["max"] <= 1
