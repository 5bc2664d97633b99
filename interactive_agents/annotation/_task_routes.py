"""Rating tasks in the browser: an annotator's tasks and queue, one session with the
rubric card beside it, ratings saved as they go; the lead's progress and export."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Response
from fastapi import Path as PathParameter
from pydantic import BaseModel, Field

from interactive_agents.annotation._database import NotFound, User
from interactive_agents.annotation._rubrics import RatingRubric
from interactive_agents.annotation._task_store import ItemView, TaskStore, TaskView
from interactive_agents.annotation._web import (
    AdminUser,
    CurrentUser,
    Refusal,
    in_thread,
    path_number,
)
from interactive_agents.errors import InputError

ItemId = Annotated[str, PathParameter(alias="item_id")]
TaskName = Annotated[str, PathParameter(alias="task", max_length=64)]


# A safety form has two items per counselor reply: room for sessions of 200 replies
# (the body limit bounds the request as well).
MAX_VALUES = 400


class PostedRatings(BaseModel):
    values: dict[Annotated[str, Field(max_length=64)], int | str | list[int | str]] = Field(
        max_length=MAX_VALUES
    )
    finish: bool = False


def rubric_view(rubric: RatingRubric) -> dict[str, Any]:
    return {
        "name": rubric.name,
        "instructions": rubric.instructions,
        "reads": rubric.reads,
        "per_reply": rubric.per_reply,
        "none_together": list(rubric.none_together),
        "items": [
            {
                "id": item.id,
                "text": item.text,
                "level": item.level,
                "max_choices": item.max_choices,
                "options": [
                    {"value": o.value, "label": o.label, "anchor": o.anchor} for o in item.options
                ],
            }
            for item in rubric.items
        ],
    }


def _task_view(task: TaskView) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "rubric": task.rubric.name,
        "items": len(task.rubric.items),  # per session, or per reply when per_reply
        "per_reply": task.rubric.per_reply,
        "assigned": len(task.queue),
        "finished": task.finished,
        "queue": [
            {
                "item": entry.item_id,
                "position": entry.position,
                "dialogue_id": entry.dialogue_id,
                "rated": entry.rated,
                "items": entry.items,
                "finished": entry.finished,
            }
            for entry in task.queue
        ],
    }


def _item_view(item: ItemView) -> dict[str, Any]:
    return {
        "item": item.item_id,
        "task": {"id": item.task_id, "name": item.task},
        "position": item.position,
        "assigned": item.assigned,
        "dialogue_id": item.session.dialogue_id,
        "turns": [{"role": role, "content": text} for role, text in item.session.turns],
        "rubric": rubric_view(item.rubric),
        "values": {k: list(v) if isinstance(v, tuple) else v for k, v in item.values.items()},
        "finished": item.finished,
    }


def task_routes(tasks: TaskStore) -> APIRouter:
    router = APIRouter()

    async def item_of(user: User, text: str) -> ItemView:
        try:
            return await in_thread(tasks.item, user, path_number(text, "item"))
        except NotFound as exc:
            raise Refusal(404, "not_found", "no such item") from exc

    @router.get("/api/tasks")
    async def my_tasks(user: CurrentUser) -> list[dict[str, Any]]:
        return [_task_view(task) for task in await in_thread(tasks.tasks_of, user)]

    @router.get("/api/items/{item_id}")
    async def show(path_id: ItemId, user: CurrentUser) -> dict[str, Any]:
        return _item_view(await item_of(user, path_id))

    @router.put("/api/items/{item_id}")
    async def save(path_id: ItemId, posted: PostedRatings, user: CurrentUser) -> dict[str, Any]:
        item = await item_of(user, path_id)
        values = {k: v for k, v in posted.values.items()}
        try:
            saved = await in_thread(tasks.save, user, item.item_id, values, finish=posted.finish)
        except InputError as exc:
            code = "incomplete" if exc.field == "values" else "bad_value"
            raise Refusal(422, code, str(exc)) from exc
        return _item_view(saved)

    @router.get("/api/progress")
    async def progress(user: AdminUser) -> list[dict[str, Any]]:
        return [task.to_dict() for task in await in_thread(tasks.progress)]

    @router.get("/api/progress/{task}/export")
    async def export(name: TaskName, user: AdminUser) -> Response:
        try:
            ratings = await in_thread(tasks.export, name)
        except InputError as exc:
            raise Refusal(404, "not_found", exc.reason) from exc
        body = b"".join(
            orjson.dumps(r.as_json(), option=orjson.OPT_APPEND_NEWLINE) for r in ratings
        )
        return Response(body, media_type="application/x-ndjson")

    return router
