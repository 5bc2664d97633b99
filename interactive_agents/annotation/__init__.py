"""The human annotation platform: annotators judge arena battles in the browser.

:mod:`.app` is the FastAPI application (needs the ``web`` extra), :mod:`.database` the
SQLite store of users, sessions, dialogues and battles, :mod:`.auth` password hashing.
Nothing is imported here, so the package imports without the extra.
"""

from __future__ import annotations

__all__: list[str] = []
