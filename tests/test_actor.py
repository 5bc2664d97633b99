"""The actor, the hosted task group and concurrent steps: the seams of the runtime."""

from __future__ import annotations

import anyio
import pytest
from anyio import wait_all_tasks_blocked

from interactive_agents.errors import ActorStoppedError, EndpointDownError, SessionError
from interactive_agents.runtime._actor import Actor
from interactive_agents.runtime._taskgroups import HostedGroup, concurrently

pytestmark = pytest.mark.anyio


class Gate(Actor[str, str]):
    """Answers each message once the gate opens; fails on "bad"."""

    name = "gate"

    def __init__(self) -> None:
        super().__init__(workers=1, capacity=4)
        self.open = anyio.Event()
        self.stopped = 0

    async def handle(self, message: str) -> str:
        await self.open.wait()
        if message == "bad":
            raise ValueError("bad message")
        return message.upper()

    async def on_stop(self) -> None:
        self.stopped += 1


async def test_pending_asks_fail_when_the_actor_is_torn_down() -> None:
    actor = Gate()
    errors: list[BaseException] = []

    async def ask(message: str) -> None:
        try:
            await actor.ask(message)
        except ActorStoppedError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as askers, anyio.create_task_group() as actors:
        await actors.start(actor.run)
        askers.start_soon(ask, "in the worker")
        askers.start_soon(ask, "queued")
        await wait_all_tasks_blocked()
        actors.cancel_scope.cancel()  # teardown while both asks are pending
    assert len(errors) == 2
    assert actor.stopped == 1
    with pytest.raises(ActorStoppedError):
        await actor.ask("after the end")


async def test_stop_drains_the_mailbox_and_errors_stay_with_their_ask() -> None:
    actor = Gate()
    answers: dict[str, object] = {}

    async def ask(message: str) -> None:
        try:
            answers[message] = await actor.ask(message)
        except ValueError as exc:
            answers[message] = exc

    async with anyio.create_task_group() as group:
        await group.start(actor.run)
        for message in ("a", "bad", "b"):
            group.start_soon(ask, message)
        await wait_all_tasks_blocked()
        actor.stop()  # no new messages; the queued ones are still answered
        actor.open.set()
    assert answers["a"] == "A" and answers["b"] == "B"
    assert isinstance(answers["bad"], ValueError)
    assert actor.stopped == 1


async def test_a_hosted_group_is_cancelled_without_its_owner() -> None:
    hosted = HostedGroup()
    finished = anyio.Event()
    async with anyio.create_task_group() as owner:
        await owner.start(hosted.host)
        hosted.start_soon(anyio.sleep_forever)
        await wait_all_tasks_blocked()
        hosted.cancel()
        await hosted.aclose()
        finished.set()  # the owner's own code goes on after the cancel
    assert finished.is_set()


async def test_a_hosted_group_closes_after_its_tasks_finish() -> None:
    hosted = HostedGroup()
    done: list[int] = []
    release = anyio.Event()

    async def work() -> None:
        await release.wait()
        done.append(1)

    async with anyio.create_task_group() as owner:
        await owner.start(hosted.host)
        hosted.start_soon(work)
        owner.start_soon(hosted.aclose)
        await wait_all_tasks_blocked()
        assert done == []  # aclose waits for the task
        release.set()
    assert done == [1]
    with pytest.raises(RuntimeError, match="has not started"):
        HostedGroup().start_soon(work)


async def test_concurrent_steps_raise_their_own_error_and_a_stop_first() -> None:
    async def fails(error: Exception) -> None:
        raise error

    async def waits() -> None:
        await anyio.sleep_forever()

    with pytest.raises(SessionError, match="no reply"):
        await concurrently(lambda: fails(SessionError("no reply")), waits)

    async def both_fail() -> None:
        async def first() -> None:
            raise SessionError("later")

        async def second() -> None:
            raise EndpointDownError("down")

        await concurrently(first, second)

    with pytest.raises(EndpointDownError):
        await both_fail()
