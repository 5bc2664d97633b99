"""The human annotation platform: people judge arena battles and rate sessions on the
judges' rubrics in the browser, so the LLM judges can be calibrated against them.

:func:`annotation_app` / :func:`create_app` are the FastAPI application (they need the
``web`` extra and are imported on first use, so this package imports without it);
:class:`AnnotationStore` is the SQLite store of accounts, battles and rating tasks,
:class:`TaskStore` its rating tasks, :func:`create_rating_task` makes one from a
:class:`RatingTaskConfig`, and :func:`load_rating_rubric` reads a judge's card as the
form people rate with.
"""

from __future__ import annotations

import typing

from interactive_agents.annotation._config import (
    AnnotationConfig,
    RatingTaskConfig,
    ThrottleConfig,
)
from interactive_agents.annotation._database import AnnotationStore
from interactive_agents.annotation._rating_tasks import create_rating_task
from interactive_agents.annotation._rubrics import (
    RUBRICS,
    RatingRubric,
    RubricItem,
    RubricOption,
    load_rating_rubric,
)
from interactive_agents.annotation._task_store import AnnotatorProgress, TaskProgress, TaskStore
from interactive_agents.annotation._throttle import LoginThrottle

if typing.TYPE_CHECKING:
    from interactive_agents.annotation._app import annotation_app, create_app

__all__ = [
    "RUBRICS",
    "AnnotationConfig",
    "AnnotationStore",
    "AnnotatorProgress",
    "LoginThrottle",
    "RatingRubric",
    "RatingTaskConfig",
    "RubricItem",
    "RubricOption",
    "TaskProgress",
    "TaskStore",
    "ThrottleConfig",
    "annotation_app",
    "create_app",
    "create_rating_task",
    "load_rating_rubric",
]


def __getattr__(name: str) -> typing.Any:
    """The web application's names, imported (with FastAPI) only when asked for."""
    if name in ("annotation_app", "create_app"):
        from interactive_agents.annotation import _app

        return getattr(_app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
