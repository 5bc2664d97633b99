"""Merging the shards' run directories into the run's own, exactly once.

The parent of a sharded run reads each shard's ``dialogues.jsonl`` and
``failures.jsonl`` as they grow (complete lines only: a line being written is read on a
later pass) and hands every record whose id its own store does not hold yet to that
store, with the lines of the store's companion files that belong to it (the arena's
battles) written just before the record. A record already in the run directory is never
appended again; a parent killed mid-merge leaves at most a torn last line, cut when the
run is reopened, and the record is merged again from its shard.

A shard rewrites a file when it opens (its battles of unrecorded dialogues dropped):
a file replaced or shortened is read again from its start, which costs nothing but
the reading, since ids already merged are skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from interactive_agents.errors import RunDirectoryError
from interactive_agents.runtime.store._store import RESULT_FILES, RunStore, read_manifest


@dataclass(slots=True)
class _Tail:
    """The complete lines a growing file gained since the last read."""

    path: Path
    offset: int = 0
    line: int = 0
    inode: int | None = None
    restarted: bool = False  # the last read started over (the file was replaced)

    def read(self) -> list[tuple[int, bytes]]:
        self.restarted = False
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return []
        if status.st_ino != self.inode or status.st_size < self.offset:
            self.restarted = self.inode is not None
            self.offset, self.line, self.inode = 0, 0, status.st_ino
        if status.st_size == self.offset:
            return []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read(status.st_size - self.offset)
        end = data.rfind(b"\n") + 1
        self.offset += end
        lines = []
        for raw in data[:end].splitlines():
            self.line += 1
            if raw.strip():
                lines.append((self.line, raw))
        return lines


def _document(tail: _Tail, number: int, raw: bytes, key: str) -> dict[str, Any]:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RunDirectoryError(f"{tail.path}, line {number}: not JSON ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get(key), str):
        raise RunDirectoryError(f"{tail.path}, line {number}: no string {key!r}")
    return document


Adoption = tuple[str, dict[str, Any], list[tuple[str, dict[str, Any]]]]
"""A record to merge: its file, the record, and its companion lines (file, line)."""


@dataclass(slots=True)
class _ShardFiles:
    results: list[_Tail]
    companions: list[tuple[_Tail, str]]
    checked: bool = False
    waiting: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)


class ShardMerger:
    """Finds the records of shard directories that ``store`` does not hold yet.

    ``fingerprint`` is the run's: a shard directory of another configuration is refused
    (as a resumed run is) unless ``force``. ``failures`` False leaves the shards' failure
    records unmerged (failed dialogues are being retried).
    """

    def __init__(
        self, store: RunStore, fingerprint: str, *, force: bool, failures: bool = True
    ) -> None:
        self.store = store
        self.fingerprint = fingerprint
        self.force = force
        self.result_files = RESULT_FILES if failures else RESULT_FILES[:1]
        self._shards: dict[Path, _ShardFiles] = {}

    def pending(self, directory: Path) -> list[Adoption]:
        """The new records of the shard directory ``directory``, each once."""
        files = self._shards.get(directory)
        if files is None:
            files = self._shards[directory] = _ShardFiles(
                [_Tail(directory / name) for name in self.result_files],
                [(_Tail(directory / name), key) for name, key in self.store.companions],
            )
        if not files.checked:
            if not self._same_run(directory):
                return []
            files.checked = True
        # Records first, companions after: a shard writes a record's companions before
        # the record, so every record read here has its companions in what follows.
        found: list[tuple[str, dict[str, Any]]] = []
        for tail in files.results:
            for number, raw in tail.read():
                found.append((tail.path.name, _document(tail, number, raw, "id")))
        for tail, key in files.companions:
            lines = tail.read()
            if tail.restarted:  # read again from the start: forget what it gave before
                for key_lines in files.waiting.values():
                    key_lines[:] = [item for item in key_lines if item[0] != tail.path.name]
            for number, raw in lines:
                line = _document(tail, number, raw, key)
                if line[key] not in self.store.done:
                    files.waiting.setdefault(line[key], []).append((tail.path.name, line))
        adopted: list[Adoption] = []
        taken: set[str] = set()
        for name, record in found:
            key = record["id"]
            companions = files.waiting.pop(key, [])
            if key in self.store.done or key in taken:
                continue
            taken.add(key)
            adopted.append((name, record, companions))
        return adopted

    def _same_run(self, directory: Path) -> bool:
        """Whether the shard directory holds this run (False: not started yet)."""
        manifest = read_manifest(directory)
        if manifest is None:
            return False
        if manifest["fingerprint"] != self.fingerprint and not self.force:
            raise RunDirectoryError(
                f"{directory} holds a shard of a run with another configuration (fingerprint "
                f"{manifest['fingerprint']}, now {self.fingerprint}): use another --out, or "
                "--force to continue it anyway"
            )
        return True
