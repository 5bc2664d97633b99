"""Running many dialogues: actors on bounded mailboxes, the roles, the dialogue loop,
the engine with its run store and live counters, and runs split over shards
(local processes or a Ray cluster).

Built on :mod:`interactive_agents.method` and :mod:`interactive_agents.llm`; the
capabilities (arena, evaluation, training, ...) are built on it.
"""

from __future__ import annotations

from interactive_agents.runtime._actor import Actor, Envelope, Reply
from interactive_agents.runtime._counters import EngineStats
from interactive_agents.runtime._dialogue_loop import DialogueLoop
from interactive_agents.runtime._engine import Engine, Result
from interactive_agents.runtime._planner import PlanAssumptions, RunPlan, plan_run
from interactive_agents.runtime._runner import DialogueHandle, Runner, RunnerState, package_version
from interactive_agents.runtime._taskgroups import HostedGroup
from interactive_agents.runtime.shards._partition import Shard, shard_of
from interactive_agents.runtime.shards._processes import ProcessShards
from interactive_agents.runtime.shards._ray import RayShards
from interactive_agents.runtime.shards._run import ShardedRun
from interactive_agents.runtime.store._lock import RunLock
from interactive_agents.runtime.store._repair import RepairReport, repair_run
from interactive_agents.runtime.store._store import RunStore, read_jsonl

__all__ = [
    "Actor",
    "DialogueHandle",
    "DialogueLoop",
    "Engine",
    "EngineStats",
    "Envelope",
    "HostedGroup",
    "PlanAssumptions",
    "ProcessShards",
    "RayShards",
    "RepairReport",
    "Reply",
    "Result",
    "RunLock",
    "RunPlan",
    "RunStore",
    "Runner",
    "RunnerState",
    "Shard",
    "ShardedRun",
    "package_version",
    "plan_run",
    "read_jsonl",
    "repair_run",
    "shard_of",
]
