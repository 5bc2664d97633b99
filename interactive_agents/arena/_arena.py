"""The arena's async API: play many Algorithm-2 dialogues at once into a run directory.

::

    async with Arena(settings, bots, run_dir="runs/arena") as arena:
        matches = plan_matches(cards, bots, pairing="random", seed=0)
        async with arena.results(matches) as stream:
            async for result in stream:
                print(result.id)

The arena is the generic :class:`~interactive_agents.runtime._runner.Runner` (the
simulation engine's), playing Algorithm 2's dialogue: the same lifecycle, admission,
recorder, embedded-model fallback (endpoints naming no URL), ``submit()``/``results()``
/``cancel()`` and stop on an unusable endpoint. Every bot, the client and the judge get
one :class:`ChatEndpoint` each (their own limits and retries); each finished dialogue
is written with its battles. Running again on the same directory skips finished
dialogues (see :mod:`.battle_store`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from interactive_agents.arena._bots import Bot
from interactive_agents.arena._competition import ArenaContext, ArenaRules, ArenaSession, Match
from interactive_agents.arena._judge import Guideline, PairwiseJudge, load_judge_prompt
from interactive_agents.arena._records import ArenaDialogue
from interactive_agents.arena._store import ArenaStore
from interactive_agents.llm._endpoint import ChatBackend, ChatEndpoint
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import Sampling
from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._records import FailureRecord
from interactive_agents.method._refiner import RefinerRules
from interactive_agents.method._seeds import fingerprint
from interactive_agents.method._terminator import TerminatorMode, TerminatorRules
from interactive_agents.runtime._actor import Actor
from interactive_agents.runtime._dialogue_loop import DialogueLoop
from interactive_agents.runtime._roles import ClientActor, RefinerActor, TerminatorActor
from interactive_agents.runtime._runner import Runner, package_version
from interactive_agents.runtime.shards._partition import Shard, endpoint_limits
from interactive_agents.runtime.store._store import RunStore, new_manifest

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
    local_model: str | None = None

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


class Arena(Runner[Match, ArenaResult]):
    """Runs arena dialogues; use it in ``async with`` (the generic runner, playing
    Algorithm 2's dialogue)."""

    def __init__(
        self,
        settings: ArenaSettings,
        bots: Sequence[Bot],
        *,
        run_dir: str | Path | None = None,
        force: bool = False,
        retry_failed: bool = False,
    ) -> None:
        super().__init__(
            run_dir=run_dir,
            max_in_flight=settings.max_in_flight,
            force=force,
            retry_failed=retry_failed,
            local_model=settings.local_model,
        )
        self.settings = settings
        self.bots = list(bots)
        self._context: ArenaContext | None = None

    def _new_store(self, path: Path) -> RunStore:
        return ArenaStore(path)

    def item_id(self, item: Match) -> str:
        return item.id

    def _endpoints(self) -> Sequence[EndpointConfig]:
        settings = self.settings
        return [settings.client, settings.judge, *(bot.endpoint for bot in self.bots)]

    async def _prepare(
        self, stack: AsyncExitStack, local: Callable[[EndpointConfig], EndpointConfig]
    ) -> dict[str, Any]:
        settings = replace(
            self.settings, client=local(self.settings.client), judge=local(self.settings.judge)
        )
        self.settings = settings
        self.bots = [replace(bot, endpoint=local(bot.endpoint)) for bot in self.bots]
        rules = settings.rules
        prompts = load_prompts(rules.language, settings.actors_dir)
        judge_prompt = load_judge_prompt(rules.language, settings.actors_dir)
        # The judge card enters the fingerprint through its full (dataclass) repr.
        digest = hashlib.sha256(f"{prompts.fingerprint}{judge_prompt!r}".encode()).hexdigest()[:16]
        backends: dict[str, ChatBackend] = {}
        for bot in self.bots:
            backends[bot.name] = ChatEndpoint(bot.endpoint, stats=self.stats)
            stack.push_async_callback(backends[bot.name].aclose)
        client_backend = ChatEndpoint(settings.client, stats=self.stats)
        stack.push_async_callback(client_backend.aclose)
        judge_backend = ChatEndpoint(settings.judge, stats=self.stats)
        stack.push_async_callback(judge_backend.aclose)
        refiner = RefinerRules.for_language(rules.language)
        self._context = ArenaContext(
            rules=rules,
            prompts=prompts,
            refiner=RefinerActor(refiner),
            terminator=TerminatorActor(
                TerminatorRules(tuple(prompts.terminator_phrases), settings.terminator)
            ),
            client=ClientActor(
                client_backend, settings.client_sampling, workers=settings.max_in_flight
            ),
            bots=backends,
            judge=PairwiseJudge(
                judge_backend,
                judge_prompt,
                settings.guideline,
                settings.judge_sampling,
                settings.judge_attempts,
            ),
        )
        return new_manifest(
            fingerprint=settings.fingerprint(self.bots, digest),
            config={
                "settings": asdict(settings),
                "judge_card": f"judge_pairwise.{rules.language}.toml",
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

    def _actors(self) -> Sequence[Actor[Any, Any]]:
        assert self._context is not None
        context = self._context
        return (context.client, context.refiner, context.terminator)

    def spec(self) -> ArenaSpec:
        return ArenaSpec(self.settings, tuple(self.bots), force=self._force)

    def _dialogue(self, item: Match, priority: int) -> ArenaSession:
        assert self._context is not None
        return ArenaSession(item, self._context, priority)

    def _write(self, store: RunStore, result: ArenaResult, dialogue: DialogueLoop[Any]) -> None:
        assert isinstance(store, ArenaStore) and isinstance(dialogue, ArenaSession)
        store.write_result(result, dialogue.battles)


@dataclass(frozen=True, slots=True)
class ArenaSpec:
    """An arena's settings and bots, from which each shard builds its own arena with its
    share of every limit."""

    settings: ArenaSettings
    bots: tuple[Bot, ...]
    force: bool = False

    def _parts(self, shard: Shard) -> tuple[ArenaSettings, list[Bot]]:
        settings = replace(
            self.settings,
            client=shard.endpoint(self.settings.client),
            judge=shard.endpoint(self.settings.judge),
            max_in_flight=shard.share(self.settings.max_in_flight),
        )
        return settings, [replace(bot, endpoint=shard.endpoint(bot.endpoint)) for bot in self.bots]

    def build(self, run_dir: Path, shard: Shard) -> Arena:
        settings, bots = self._parts(shard)
        return Arena(settings, bots, run_dir=run_dir, force=self.force)

    def limits(self, shard: Shard) -> dict[str, Any]:
        settings, bots = self._parts(shard)
        endpoints = {"client": settings.client, "judge": settings.judge}
        endpoints |= {bot.name: bot.endpoint for bot in bots}
        return {
            "max_in_flight": settings.max_in_flight,
            "endpoints": {name: endpoint_limits(e) for name, e in endpoints.items()},
        }
