"""The arena's async API: play many Algorithm-2 dialogues at once into a run directory.

::

    async with Arena(settings, bots, run_dir="runs/arena") as arena:
        async for result in arena.run(plan_matches(cards, bots, pairing="random", seed=0)):
            print(result.id)

Every bot, the client and the judge get one :class:`ChatEndpoint` each (their own
limits and retries). At most ``max_in_flight`` dialogues run at once; each finished
one is written with its battles before the next result is yielded. Running again on
the same directory skips finished dialogues (see :mod:`.battle_store`).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType

import anyio
from anyio.abc import TaskStatus

from interactive_agents.arena.arena_records import ArenaDialogue
from interactive_agents.arena.battle_store import ArenaStore
from interactive_agents.arena.bots import Bot
from interactive_agents.arena.competition import ArenaContext, ArenaRules, ArenaSession, Match
from interactive_agents.arena.judge import Guideline, PairwiseJudge, load_judge_prompt
from interactive_agents.errors import EngineError
from interactive_agents.llm.endpoint import ChatBackend, ChatEndpoint
from interactive_agents.method.config import EndpointConfig
from interactive_agents.method.prompts import load_prompts
from interactive_agents.method.records import FailureRecord, Sampling
from interactive_agents.method.refiner import RefinerRules
from interactive_agents.method.seeds import fingerprint
from interactive_agents.method.terminator import TerminatorMode, TerminatorRules
from interactive_agents.runtime.counters import EngineStats
from interactive_agents.runtime.engine import package_version
from interactive_agents.runtime.roles import ClientActor
from interactive_agents.runtime.run_store import new_manifest
from interactive_agents.runtime.taskgroups import HostedGroup

ArenaResult = ArenaDialogue | FailureRecord


@dataclass(frozen=True, slots=True)
class ArenaSettings:
    """Everything of an arena run besides the bots and the matches."""

    rules: ArenaRules
    client: EndpointConfig
    client_sampling: Sampling
    judge: EndpointConfig
    judge_sampling: Sampling
    guideline: Guideline = "2"
    judge_attempts: int = 3
    max_in_flight: int = 64
    terminator: TerminatorMode = "substring"
    actors_dir: str | None = None

    def fingerprint(self, bots: Sequence[Bot], prompts: str) -> str:
        """What must not change on resume: whatever shapes dialogues and verdicts."""
        shaping = {
            "rules": asdict(self.rules),
            "client": [self.client.model, asdict(self.client_sampling)],
            "judge": [
                self.judge.model,
                asdict(self.judge_sampling),
                self.guideline,
                self.judge_attempts,
            ],
            "terminator": self.terminator,
            "bots": [[b.name, b.endpoint.model, asdict(b.sampling), b.system_prompt] for b in bots],
            "prompts": prompts,
        }
        return fingerprint(shaping)


class Arena:
    """Runs arena dialogues; use it in ``async with``."""

    def __init__(
        self,
        settings: ArenaSettings,
        bots: Sequence[Bot],
        *,
        run_dir: str | Path | None = None,
        force: bool = False,
        retry_failed: bool = False,
    ) -> None:
        self.settings = settings
        self.bots = list(bots)
        self.stats = EngineStats()
        self._store = ArenaStore(run_dir) if run_dir is not None else None
        self._force = force
        self._retry_failed = retry_failed
        self._done: set[str] = set()
        self._stack: AsyncExitStack | None = None
        self._context: ArenaContext | None = None
        self._sessions = HostedGroup()

    async def __aenter__(self) -> Arena:
        async with AsyncExitStack() as stack:
            self._context = await self._start(stack)
            self._stack = stack.pop_all()
        return self

    async def _start(self, stack: AsyncExitStack) -> ArenaContext:
        settings, rules = self.settings, self.settings.rules
        prompts = load_prompts(rules.language, settings.actors_dir)
        judge_prompt = load_judge_prompt(rules.language, settings.actors_dir)
        judge_path = f"judge_pairwise.{rules.language}.toml"
        # The judge card enters the fingerprint through its full (dataclass) repr.
        digest = hashlib.sha256(f"{prompts.fingerprint}{judge_prompt!r}".encode()).hexdigest()[:16]
        if self._store is not None:
            manifest = new_manifest(
                fingerprint=settings.fingerprint(self.bots, digest),
                config={
                    "settings": asdict(settings),
                    "judge_card": judge_path,
                    "bots": [asdict(bot) for bot in self.bots],
                },
                models={
                    "client": settings.client.model,
                    "judge": settings.judge.model,
                    **{bot.name: bot.endpoint.model for bot in self.bots},
                },
                seed=rules.seed,
                version=package_version(),
                prompts=digest,
            )
            self._done = self._store.open(
                manifest, force=self._force, retry_failed=self._retry_failed
            )
            stack.callback(self._store.close)
        backends: dict[str, ChatBackend] = {}
        for bot in self.bots:
            backends[bot.name] = ChatEndpoint(bot.endpoint, stats=self.stats)
            stack.push_async_callback(backends[bot.name].aclose)
        client_backend = ChatEndpoint(settings.client, stats=self.stats)
        stack.push_async_callback(client_backend.aclose)
        judge_backend = ChatEndpoint(settings.judge, stats=self.stats)
        stack.push_async_callback(judge_backend.aclose)

        group = await stack.enter_async_context(anyio.create_task_group())
        client = ClientActor(
            client_backend, settings.client_sampling, workers=settings.max_in_flight
        )
        await group.start(client.run)
        stack.callback(client.stop)
        await group.start(self._sessions.host)
        stack.push_async_callback(self._sessions.aclose)
        phrases = prompts.terminator_phrases
        return ArenaContext(
            rules=rules,
            prompts=prompts,
            refiner=RefinerRules.for_language(rules.language),
            terminator=TerminatorRules(tuple(phrases), settings.terminator),
            client=client,
            bots=backends,
            judge=PairwiseJudge(
                judge_backend,
                judge_prompt,
                settings.guideline,
                settings.judge_sampling,
                settings.judge_attempts,
            ),
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._stack is not None
        stack, self._stack = self._stack, None
        if exc is not None:
            self.cancel()
        await stack.__aexit__(None, None, None)

    def cancel(self) -> None:
        """Stop the dialogues in flight; finished ones are kept, the rest is redone later."""
        self._sessions.cancel()

    async def run(self, matches: Sequence[Match]) -> AsyncIterator[ArenaResult]:
        """Play every match not already done; yield results as they are recorded."""
        if self._context is None:
            raise EngineError("the arena is not running: use it in 'async with'")
        context = self._context
        todo = [m for m in matches if m.id not in self._done]
        self.stats.total += len(matches)
        self.stats.already_done += len(matches) - len(todo)
        limiter = anyio.CapacityLimiter(self.settings.max_in_flight)
        send, receive = anyio.create_memory_object_stream[ArenaResult](self.settings.max_in_flight)

        async def play(match: Match) -> None:
            async with limiter:
                self.stats.in_flight += 1
                try:
                    session = ArenaSession(match, context)
                    result = await session.run()
                finally:
                    self.stats.in_flight -= 1
                if self._store is not None:
                    self._store.write_result(result, session.battles)
                if isinstance(result, ArenaDialogue):
                    self.stats.finished += 1
                else:
                    self.stats.failed += 1
                await send.send(result)

        async def feed(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
            async with send, anyio.create_task_group() as group:
                task_status.started()
                for match in todo:
                    group.start_soon(play, match)

        await self._sessions.start(feed)
        async with receive:
            async for result in receive:
                yield result
