"""A counselor reply through the refiner: bounded regeneration, then the exhausted policy.

The simulation's counselor and every arena bot make their replies this one way: each
candidate goes to the refiner actor σ, every rejection is kept, and when all
``attempts`` were rejected the run's ``on_exhausted`` policy decides (repair the last
candidate, accept it as it is, or fail the dialogue).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from interactive_agents.errors import SessionError
from interactive_agents.method._records import Rejection
from interactive_agents.method._refiner import ExhaustedPolicy, RefinerRules
from interactive_agents.runtime._roles import RefinerActor


@dataclass(frozen=True, slots=True)
class RefinedReply:
    """The reply that stands, the candidates rejected before it, and whether σ gave up."""

    text: str
    rejected: tuple[Rejection, ...]
    gave_up: bool


async def refined_reply(
    candidate: Callable[[int], Awaitable[str]],
    refiner: RefinerActor | RefinerRules,
    *,
    attempts: int,
    policy: ExhaustedPolicy,
    speaker: str,
) -> RefinedReply:
    """Ask ``candidate(attempt)`` until the refiner accepts, at most ``attempts`` times.

    ``refiner`` is the run's actor, or bare rules where no runner is around (the
    annotation platform). ``speaker`` names who replied, for the error of a dialogue
    that cannot go on ("the counselor at turn 3", "bot b1 at turn 3").
    """
    rules = refiner.rules if isinstance(refiner, RefinerActor) else refiner
    rejected: list[Rejection] = []
    for attempt in range(attempts):
        text = await candidate(attempt)
        verdict = (
            await refiner.ask(text) if isinstance(refiner, RefinerActor) else rules.check(text)
        )
        if verdict.accepted:
            return RefinedReply(text, tuple(rejected), gave_up=False)
        rejected.append(Rejection(text, verdict.reason))
    last = rejected[-1]
    if policy == "fail":
        raise SessionError(
            f"the refiner rejected {len(rejected)} candidates of {speaker} (last: {last.reason})"
        )
    text = rules.repair(last.content) if policy == "repair" else last.content
    if not text:
        raise SessionError(f"no usable reply from {speaker} ({last.reason})")
    return RefinedReply(text, tuple(rejected), gave_up=True)
