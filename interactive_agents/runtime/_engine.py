"""The public async API: an engine that runs many sessions at once and records them.

::

    async with Engine(config, run_dir="runs/a") as engine:
        async with engine.results(cards) as stream:
            async for result in stream:
                print(result.id, result.termination.reason)

The engine owns no event loop and no global state; everything it starts (actors,
sessions, the local model server) lives in task groups inside ``async with`` and is
stopped on exit. It is the generic :class:`~.runner.Runner` playing Algorithm 1's
:class:`~.simulation.Session`: admission bounds the sessions in flight, sessions
admitted earlier get LLM slots first, finished dialogues stream out early, and an
error or cancellation inside the block cancels the sessions in flight, flushes what
finished and leaves the rest to the next run on the same directory.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from interactive_agents.errors import EngineError
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.method._cards import RoleCard
from interactive_agents.method._config import RunConfig
from interactive_agents.method._prompts import load_prompts
from interactive_agents.method._records import DialogueRecord, FailureRecord
from interactive_agents.method._risk import load_risk_detector
from interactive_agents.runtime._actor import Actor
from interactive_agents.runtime._roles import (
    ClientActor,
    CounselorActor,
    RefinerActor,
    TerminatorActor,
)
from interactive_agents.runtime._runner import Runner, package_version
from interactive_agents.runtime._simulation import Session, SessionContext
from interactive_agents.runtime.shards._partition import Shard, endpoint_limits
from interactive_agents.runtime.store._store import new_manifest

Result = DialogueRecord | FailureRecord
RoleName = Literal["client", "counselor"]
ROLES: tuple[RoleName, ...] = ("client", "counselor")


class Engine(Runner[RoleCard, Result]):
    """Runs sessions for role cards against the configured endpoints."""

    journals_turns = True

    def __init__(
        self,
        config: RunConfig,
        *,
        run_dir: str | Path | None = None,
        backends: Mapping[RoleName, ChatBackend] | None = None,
        force: bool = False,
        retry_failed: bool = False,
    ) -> None:
        super().__init__(
            run_dir=run_dir,
            max_in_flight=config.max_in_flight,
            force=force,
            retry_failed=retry_failed,
            local_model=config.local_model,
        )
        self.config = config
        self._given_backends = dict(backends or {})
        self._context: SessionContext | None = None

    def item_id(self, item: RoleCard) -> str:
        return item.id

    def _endpoints(self) -> Sequence[EndpointConfig]:
        return [
            getattr(self.config, role).endpoint
            for role in ROLES
            if role not in self._given_backends
        ]

    async def _prepare(
        self, stack: AsyncExitStack, local: Callable[[EndpointConfig], EndpointConfig]
    ) -> dict[str, Any]:
        config = self.config
        if not all(role in self._given_backends for role in ROLES):
            config = config.with_endpoints(
                local(config.client.endpoint), local(config.counselor.endpoint)
            )
        self.config = config
        prompts = load_prompts(
            config.language,
            config.actors_dir,
            client_resistance=config.prompts.client_resistance,
            crisis_rule=config.prompts.crisis_rule,
        )
        rules = config.refiner.rules(config.language)
        backends = self._backends(config)
        for backend in {id(b): b for b in backends.values()}.values():
            stack.push_async_callback(backend.aclose)
        self._context = SessionContext(
            config,
            prompts,
            rules,
            ClientActor(backends["client"], config.client.sampling),
            CounselorActor(
                backends["counselor"],
                config.counselor.sampling,
                prompts.counselor,
                stage_cue=config.stages.tells_counselor,
            ),
            RefinerActor(rules),
            TerminatorActor(config.terminator.rules(prompts)),
            self.stats,
            config.client_guard.guard(prompts, config.actors_dir),
            config.quality.flagger(prompts, config.actors_dir),
            load_risk_detector(config.language, config.actors_dir),
        )
        return new_manifest(
            fingerprint=config.fingerprint(prompts.fingerprint),
            config=config.public_dict(),
            models=config.models(),
            seed=config.seed,
            version=package_version(),
            prompts=prompts.fingerprint,
        )

    def _actors(self) -> Sequence[Actor[Any, Any]]:
        assert self._context is not None
        context = self._context
        return (context.client, context.counselor, context.refiner, context.terminator)

    def spec(self) -> EngineSpec:
        if self._given_backends:
            raise EngineError("an Engine given its own backends cannot be split into shards")
        return EngineSpec(self.config, force=self._force)

    def _backends(self, config: RunConfig) -> dict[RoleName, ChatBackend]:
        """One backend per distinct endpoint: roles on the same endpoint share its limits."""
        backends = {role: self._check(given) for role, given in self._given_backends.items()}
        shared: dict[object, ChatBackend] = {}
        for role in ROLES:
            if role in backends:
                continue
            endpoint = getattr(config, role).endpoint
            key = endpoint.key()
            if key not in shared:
                shared[key] = self._new_endpoint(endpoint)
            backends[role] = shared[key]
        return backends

    def _dialogue(self, item: RoleCard, priority: int) -> Session:
        assert self._context is not None
        return Session(item, self._context, priority)


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """An engine's configuration, from which each shard builds its own engine with its
    share of every limit (:class:`~.shards.Shard`)."""

    config: RunConfig
    force: bool = False

    def _config(self, shard: Shard) -> RunConfig:
        config = replace(self.config, max_in_flight=shard.share(self.config.max_in_flight))
        return config.with_endpoints(
            shard.endpoint(config.client.endpoint), shard.endpoint(config.counselor.endpoint)
        )

    def build(self, run_dir: Path, shard: Shard) -> Engine:
        return Engine(self._config(shard), run_dir=run_dir, force=self.force)

    def limits(self, shard: Shard) -> dict[str, Any]:
        config = self._config(shard)
        return {
            "max_in_flight": config.max_in_flight,
            "endpoints": {role: endpoint_limits(getattr(config, role).endpoint) for role in ROLES},
        }
