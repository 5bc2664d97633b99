"""Running many dialogues: actors on bounded mailboxes, the generic runner, the run
directory and its resume, runs split over shards (local processes or a Ray cluster),
the load planner, and the process-wide choices a command (or a service) may make.

The simulation engine itself is public in the root package (``Engine``).
"""

from __future__ import annotations

from interactive_agents.runtime._actor import Actor, Envelope, Reply
from interactive_agents.runtime._dialogue_loop import DialogueLoop
from interactive_agents.runtime._planner import PlanAssumptions, RunPlan, plan_run
from interactive_agents.runtime._process import has_uvloop, run_with_uvloop, tune_garbage_collector
from interactive_agents.runtime._roles import perspective
from interactive_agents.runtime._runner import Runner, package_version
from interactive_agents.runtime._taskgroups import HostedGroup
from interactive_agents.runtime.shards._partition import Shard, shard_of
from interactive_agents.runtime.shards._play import ShardExecutor
from interactive_agents.runtime.shards._processes import ProcessShards
from interactive_agents.runtime.shards._ray import RayShards
from interactive_agents.runtime.shards._run import ShardedRun
from interactive_agents.runtime.store._lock import RunLock
from interactive_agents.runtime.store._repair import RepairReport, repair_run
from interactive_agents.runtime.store._store import RunStore, read_jsonl

__all__ = [
    "Actor",
    "DialogueLoop",
    "Envelope",
    "HostedGroup",
    "PlanAssumptions",
    "ProcessShards",
    "RayShards",
    "RepairReport",
    "Reply",
    "RunLock",
    "RunPlan",
    "RunStore",
    "Runner",
    "Shard",
    "ShardExecutor",
    "ShardedRun",
    "has_uvloop",
    "package_version",
    "perspective",
    "plan_run",
    "read_jsonl",
    "repair_run",
    "run_with_uvloop",
    "shard_of",
    "tune_garbage_collector",
]
