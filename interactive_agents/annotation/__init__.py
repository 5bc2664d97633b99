"""The human annotation platform: annotators judge arena battles in the browser.

:func:`create_app` is the FastAPI application (it needs the ``web`` extra), and
:class:`AnnotationStore` the SQLite store of users, sessions, dialogues and battles.
Both are imported on first use, so this package imports without the extra.
"""

from __future__ import annotations

import typing

if typing.TYPE_CHECKING:
    from interactive_agents.annotation._app import create_app
    from interactive_agents.annotation._database import AnnotationStore

__all__ = ["AnnotationStore", "create_app"]


def __getattr__(name: str) -> typing.Any:
    """The platform's names, imported (with FastAPI) only when asked for."""
    if name == "create_app":
        from interactive_agents.annotation import _app

        return _app.create_app
    if name == "AnnotationStore":
        from interactive_agents.annotation import _database

        return _database.AnnotationStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
