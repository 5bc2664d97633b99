"""The arena's run directory: the manifest, dialogues, failures and ``battles.jsonl``.

It is the simulation's :class:`~interactive_agents.runtime.store._store.RunStore` (manifest
fingerprint, torn-line repair, done ids) plus a battles file. A dialogue's battles are
written just before its record; on resume, battles of dialogues without a record (the
process died in between, or failed dialogues are retried) are dropped, so nothing is
counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from interactive_agents.arena._battles import Battle
from interactive_agents.arena._records import ArenaDialogue
from interactive_agents.errors import RunStorageError
from interactive_agents.method._records import FailureRecord
from interactive_agents.runtime.store._store import (
    DIALOGUES,
    FAILURES,
    RunStore,
    read_jsonl,
    write_atomic,
)

BATTLES = "battles.jsonl"


class ArenaStore(RunStore):
    """Appends arena records and their battles; resumes without duplicates."""

    companions = ((BATTLES, "dialogue_id"),)

    def open(
        self, manifest: dict[str, Any], *, force: bool = False, retry_failed: bool = False
    ) -> set[str]:
        done = super().open(manifest, force=force, retry_failed=retry_failed)
        path = self.path / BATTLES
        kept = b"".join(
            orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
            for record in read_jsonl(path)
            if record.get("dialogue_id") in done
        )
        try:
            write_atomic(path, kept)
        except RunStorageError:
            self.close()
            raise
        return done

    def write_result(
        self, record: ArenaDialogue | FailureRecord, battles: Iterable[Battle]
    ) -> None:
        """The battles, then the record that marks the dialogue done; flushed at once.

        The battles are flushed before the record is written, so a reader that sees the
        record (the parent of a sharded run, merging) sees its battles too.
        """
        for battle in battles:
            self.append(BATTLES, battle)
        self.flush()
        self.append(DIALOGUES if isinstance(record, ArenaDialogue) else FAILURES, record)
        self.done.add(record.id)
        self.flush()
