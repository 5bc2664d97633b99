"""The arena's async API: play many Algorithm-2 dialogues at once into a run directory.

::

    async with Arena(config, bots, run_dir="runs/arena") as arena:
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
from interactive_agents.arena._competition import ArenaContext, ArenaSession, Match
from interactive_agents.arena._config import ArenaConfig
from interactive_agents.arena._judge import PairwiseJudge, load_judge_prompt
from interactive_agents.arena._records import ArenaDialogue
from interactive_agents.arena._safety_gate import SafetyJudge
from interactive_agents.arena._store import ArenaStore
from interactive_agents.judging._safety_rubric import load_safety_card
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._records import FailureRecord
from interactive_agents.method._risk import load_risk_detector
from interactive_agents.method._seeds import fingerprint
from interactive_agents.runtime._actor import Actor
from interactive_agents.runtime._dialogue_loop import DialogueLoop
from interactive_agents.runtime._roles import ClientActor, RefinerActor, TerminatorActor
from interactive_agents.runtime._runner import Runner, package_version
from interactive_agents.runtime.shards._partition import Shard, endpoint_limits
from interactive_agents.runtime.store._store import RunStore, new_manifest

ArenaResult = ArenaDialogue | FailureRecord


def arena_fingerprint(config: ArenaConfig, bots: Sequence[Bot], prompts: str) -> str:
    """What must not change on resume: whatever shapes dialogues and verdicts."""
    shaping: dict[str, Any] = {
        "rules": asdict(config.rules),
        "client": [config.client.endpoint.model, asdict(config.client.sampling)],
        "judge": [
            config.judge.endpoint.model,
            asdict(config.judge.sampling),
            config.guideline,
            config.judge.attempts,
        ],
        "terminator": config.terminator.mode,
        "bots": [[b.name, b.endpoint.model, asdict(b.sampling), b.system_prompt] for b in bots],
        "prompts": prompts,
    }
    # Settings older arena runs could not change enter only when set, so that those runs
    # keep their fingerprint and can be resumed.
    if (config.refiner.max_length, config.refiner.length_unit) != (None, None):
        shaping["refiner"] = asdict(config.refiner)
    terminator = config.terminator
    if (terminator.phrases, terminator.first_turn, terminator.sign_offs) != (None, 1, None):
        shaping["terminator"] = asdict(config.terminator)
    if config.safety.rated:
        shaping["safety"] = asdict(config.safety)
    return fingerprint(shaping)


class Arena(Runner[Match, ArenaResult]):
    """Runs arena dialogues; use it in ``async with`` (the generic runner, playing
    Algorithm 2's dialogue)."""

    def __init__(
        self,
        config: ArenaConfig,
        bots: Sequence[Bot],
        *,
        run_dir: str | Path | None = None,
        force: bool = False,
        retry_failed: bool = False,
    ) -> None:
        super().__init__(
            run_dir=run_dir if run_dir is not None else config.out,
            max_in_flight=config.max_in_flight,
            force=force,
            retry_failed=retry_failed,
            local_model=config.local_model,
        )
        self.config = config
        self.bots = list(bots)
        self._context: ArenaContext | None = None

    def _new_store(self, path: Path) -> RunStore:
        return ArenaStore(path)

    def item_id(self, item: Match) -> str:
        return item.id

    def _endpoints(self) -> Sequence[EndpointConfig]:
        config = self.config
        return [config.client.endpoint, config.judge.endpoint, *(b.endpoint for b in self.bots)]

    async def _prepare(
        self, stack: AsyncExitStack, local: Callable[[EndpointConfig], EndpointConfig]
    ) -> dict[str, Any]:
        config = self.config.with_endpoints(
            local(self.config.client.endpoint), local(self.config.judge.endpoint)
        )
        self.config = config
        self.bots = [replace(bot, endpoint=local(bot.endpoint)) for bot in self.bots]
        rules = config.rules
        prompts = load_prompts(rules.language, config.actors_dir)
        judge_prompt = load_judge_prompt(rules.language, config.actors_dir)
        safety_card = (
            load_safety_card(rules.language, actors_dir=config.actors_dir)
            if config.safety.rated
            else None
        )
        # The judge cards enter the fingerprint through their full (dataclass) repr.
        cards = f"{judge_prompt!r}" + (f"{safety_card!r}" if safety_card is not None else "")
        digest = hashlib.sha256(f"{prompts.fingerprint}{cards}".encode()).hexdigest()[:16]
        shared: dict[object, ChatBackend] = {}

        def backend(endpoint: EndpointConfig) -> ChatBackend:
            """One backend per distinct endpoint: whoever calls the same server and model
            (the client and the judge on the embedded model, say) shares its limits."""
            if endpoint.key() not in shared:
                shared[endpoint.key()] = self._new_endpoint(endpoint)
                stack.push_async_callback(shared[endpoint.key()].aclose)
            return shared[endpoint.key()]

        backends = {bot.name: backend(bot.endpoint) for bot in self.bots}
        client_backend = backend(config.client.endpoint)
        judge_backend = backend(config.judge.endpoint)
        self._context = ArenaContext(
            rules=rules,
            prompts=prompts,
            refiner=RefinerActor(config.refiner.rules(rules.language)),
            terminator=TerminatorActor(config.terminator.rules(prompts)),
            first_turn=config.terminator.first_turn,
            client=ClientActor(client_backend, config.client.sampling),
            bots=backends,
            judge=PairwiseJudge(
                judge_backend,
                judge_prompt,
                config.guideline,
                config.judge.sampling,
                config.judge.attempts,
            ),
            safety=None
            if safety_card is None
            else SafetyJudge(
                judge_backend,
                safety_card,
                config.judge.sampling,
                config.judge.attempts,
                gate=config.safety.gate,
            ),
            risk=load_risk_detector(rules.language, config.actors_dir),
        )
        return new_manifest(
            fingerprint=arena_fingerprint(config, self.bots, digest),
            config={
                "settings": asdict(config),
                "judge_card": f"judge_pairwise.{rules.language}.toml",
                "bots": [asdict(bot) for bot in self.bots],
            },
            models={
                "client": config.client.endpoint.model,
                "judge": config.judge.endpoint.model,
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
        return ArenaSpec(self.config, tuple(self.bots), force=self._force)

    def _dialogue(self, item: Match, priority: int) -> ArenaSession:
        assert self._context is not None
        return ArenaSession(item, self._context, priority)

    def _write(self, store: RunStore, result: ArenaResult, dialogue: DialogueLoop[Any]) -> None:
        assert isinstance(store, ArenaStore) and isinstance(dialogue, ArenaSession)
        store.write_result(result, dialogue.battles)


@dataclass(frozen=True, slots=True)
class ArenaSpec:
    """An arena's configuration and bots, from which each shard builds its own arena with
    its share of every limit."""

    config: ArenaConfig
    bots: tuple[Bot, ...]
    force: bool = False

    def _parts(self, shard: Shard) -> tuple[ArenaConfig, list[Bot]]:
        config = replace(
            self.config.with_endpoints(
                shard.endpoint(self.config.client.endpoint),
                shard.endpoint(self.config.judge.endpoint),
            ),
            max_in_flight=shard.share(self.config.max_in_flight),
        )
        return config, [replace(bot, endpoint=shard.endpoint(bot.endpoint)) for bot in self.bots]

    def build(self, run_dir: Path, shard: Shard) -> Arena:
        config, bots = self._parts(shard)
        return Arena(config, bots, run_dir=run_dir, force=self.force)

    def limits(self, shard: Shard) -> dict[str, Any]:
        config, bots = self._parts(shard)
        endpoints = {"client": config.client.endpoint, "judge": config.judge.endpoint}
        endpoints |= {bot.name: bot.endpoint for bot in bots}
        return {
            "max_in_flight": config.max_in_flight,
            "endpoints": {name: endpoint_limits(e) for name, e in endpoints.items()},
        }
