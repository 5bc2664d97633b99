"""A fake server in a thread and event loop of its own, for tests in the same process."""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from interactive_agents.testing._completions import HOST, ChatCompletions, listen
from interactive_agents.testing._options import ServerOptions
from interactive_agents.testing._scripts import Script, default_script

START_TIMEOUT = 10.0


class FakeServer(ChatCompletions):
    """A fake OpenAI-compatible chat server on loopback.

    It runs in its own thread and event loop, so the code under test may run in this
    process (on any event loop) or in a child process alike. ``script`` answers each
    request (None: filler words of ``options.output_tokens``); every request is recorded
    in ``calls``; :meth:`fail_next` queues faults. ``with FakeServer() as server:``
    starts and stops it; :meth:`stop` then :meth:`start` brings it back on the same port,
    as after an outage.
    """

    def __init__(
        self,
        script: Script | None = default_script,
        options: ServerOptions | None = None,
        *,
        port: int = 0,
    ) -> None:
        super().__init__(script, options or ServerOptions(), record=True)
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, what an OpenAI client takes."""
        return f"http://{HOST}:{self.port}/v1"

    def start(self) -> str:
        """Listen (on the port of the last start, if any); returns :attr:`base_url`."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._serve, args=(loop, ready, failure), daemon=True)
        thread.start()
        if not ready.wait(START_TIMEOUT):
            raise RuntimeError(f"the fake server did not start in {START_TIMEOUT:g} s")
        if failure:
            thread.join()
            raise failure[0]
        self._loop, self._thread = loop, thread
        return self.base_url

    def _serve(
        self,
        loop: asyncio.AbstractEventLoop,
        ready: threading.Event,
        failure: list[BaseException],
    ) -> None:
        asyncio.set_event_loop(loop)
        try:
            runner = loop.run_until_complete(listen(self, self.port))
        except BaseException as exc:
            failure.append(exc)
            loop.close()
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        # Answers still going (a hang whose client left, say) end now, as asyncio.run ends them.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    def stop(self) -> None:
        """Stop listening; connections are then refused until :meth:`start`."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(START_TIMEOUT)
            self._loop = self._thread = None

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
