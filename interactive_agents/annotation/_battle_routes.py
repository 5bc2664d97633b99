"""Battles in the browser (the paper's Figure 15; docs/method.md#arena-algorithm-2).

An annotator starts a dialogue (two bots drawn at random), plays the client by typing,
and for every message sees the two bots' replies in shuffled order; they pick the better
one, call it a tie, or call both bad. Each choice is a battle with both reply lengths;
the chosen reply (after a tie or "both bad", one of the two at random) becomes the
history. A bot that fails leaves nothing written: the page says so and the annotator
sends again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import anyio
import orjson
from fastapi import APIRouter, Response
from fastapi import Path as PathParameter
from pydantic import BaseModel, Field, StringConstraints

from interactive_agents.annotation._database import (
    AnnotationDialogue,
    AnnotationStore,
    NotFound,
    Pending,
    User,
)
from interactive_agents.annotation._web import (
    AdminUser,
    CurrentUser,
    Refusal,
    in_thread,
    path_number,
)
from interactive_agents.arena._battles import ShownOrder
from interactive_agents.arena._bots import Bot
from interactive_agents.arena._competition import bot_candidate
from interactive_agents.errors import BackendError, InputError, SessionError
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.method._records import Turn
from interactive_agents.method._refiner import RefinerRules
from interactive_agents.method._seeds import derive_seed

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
PathId = Annotated[str, PathParameter(alias="dialogue_id")]
log = logging.getLogger(__name__)


class PostedMessage(BaseModel):
    text: Text


class Choice(BaseModel):
    choice: Literal[1, 2, "tie", "both_bad"] = Field(
        description="The better reply's position as shown (1 or 2), a tie, or both bad."
    )


def _view(dialogue: AnnotationDialogue) -> dict[str, Any]:
    """What the annotator sees: the history and, if any, the two replies as shown."""
    return {
        "id": dialogue.id,
        "turns": [{"role": t.role, "content": t.content} for t in dialogue.turns],
        "candidates": list(dialogue.pending.shown) if dialogue.pending else [],
    }


def battle_routes(
    store: AnnotationStore,
    bots: Sequence[Bot],
    backends: Mapping[str, ChatBackend],
    *,
    refiner: RefinerRules,
    refiner_attempts: int,
) -> APIRouter:
    """The battle API over ``store``; ``backends`` (one per bot) are opened by the app."""
    router = APIRouter()
    by_name = {bot.name: bot for bot in bots}
    rng = random.SystemRandom()

    async def owned(user: User, dialogue_id: int) -> AnnotationDialogue:
        try:
            return await in_thread(store.dialogue, user, dialogue_id)
        except NotFound as exc:
            raise Refusal(404, "not_found", "no such dialogue") from exc

    @router.get("/api/dialogues")
    async def dialogues(user: CurrentUser) -> list[dict[str, Any]]:
        return [
            {"id": d.id, "turns": d.turns, "waiting": d.waiting}
            for d in await in_thread(store.dialogues, user)
        ]

    @router.post("/api/dialogues")
    async def start(user: CurrentUser) -> dict[str, Any]:
        if len(by_name) < 2:
            raise Refusal(409, "no_bots", "this platform serves no bots to compare")
        a, b = rng.sample(list(by_name), 2)
        return _view(await owned(user, await in_thread(store.new_dialogue, user, a, b)))

    @router.get("/api/dialogues/{dialogue_id}")
    async def show(path_id: PathId, user: CurrentUser) -> dict[str, Any]:
        return _view(await owned(user, path_number(path_id, "dialogue")))

    @router.post("/api/dialogues/{dialogue_id}/messages")
    async def send(path_id: PathId, message: PostedMessage, user: CurrentUser) -> dict[str, Any]:
        dialogue_id = path_number(path_id, "dialogue")
        dialogue = await owned(user, dialogue_id)
        if dialogue.pending is not None:
            raise Refusal(409, "choose_first", "choose one of the two replies first")
        if dialogue.bot_a not in by_name or dialogue.bot_b not in by_name:
            raise Refusal(409, "bot_gone", "a bot of this dialogue is no longer served")
        turns = (*dialogue.turns, Turn("client", message.text))
        replies: dict[str, str] = {}

        async def answer(name: str) -> None:
            candidate, _ = await bot_candidate(
                by_name[name],
                backends[name],
                turns,
                refiner,
                attempts=refiner_attempts,
                seed=derive_seed(dialogue_id, len(turns), name, rng.random()),
            )
            replies[name] = candidate.content

        try:
            async with anyio.create_task_group() as group:
                group.start_soon(answer, dialogue.bot_a)
                group.start_soon(answer, dialogue.bot_b)
        except* (BackendError, SessionError) as errors:
            log.warning("dialogue %s: a bot did not answer: %s", dialogue_id, errors.exceptions[0])
            raise Refusal(
                502, "bot_failed", "a bot did not answer, so nothing was sent: try again"
            ) from None
        order: ShownOrder = rng.choice(("ab", "ba"))
        pending = Pending(replies[dialogue.bot_a], replies[dialogue.bot_b], order)
        try:
            await in_thread(
                store.add_exchange, user, dialogue_id, len(dialogue.turns), message.text, pending
            )
        except InputError as exc:
            raise Refusal(409, "changed", exc.reason) from exc
        return _view(await owned(user, dialogue_id))

    @router.post("/api/dialogues/{dialogue_id}/choice")
    async def choose(path_id: PathId, choice: Choice, user: CurrentUser) -> dict[str, Any]:
        dialogue_id = path_number(path_id, "dialogue")
        await owned(user, dialogue_id)
        keeps = rng.choice(("a", "b"))
        try:
            await in_thread(store.choose, user, dialogue_id, choice.choice, undecided_keeps=keeps)
        except InputError as exc:
            raise Refusal(409, "nothing_to_choose", exc.reason) from exc
        return _view(await owned(user, dialogue_id))

    @router.get("/api/export")
    async def export(user: AdminUser) -> Response:
        battles = await in_thread(store.battles)
        body = b"".join(orjson.dumps(b, option=orjson.OPT_APPEND_NEWLINE) for b in battles)
        return Response(body, media_type="application/x-ndjson")

    return router
