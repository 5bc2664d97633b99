"""The run directory: manifest, ``dialogues.jsonl`` and ``failures.jsonl``.

Files are only ever appended to, one JSON line per finished session, by one writer.
A process killed mid-write leaves at most a torn last line, which is cut off when the
run is resumed; every id already present counts as done, so nothing is redone or
duplicated. The manifest fingerprints what shapes the dialogues, and a resume with a
different fingerprint is refused unless forced.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from interactive_agents.errors import RunDirectoryError
from interactive_agents.method.records import DialogueRecord, FailureRecord

DIALOGUES = "dialogues.jsonl"
FAILURES = "failures.jsonl"
MANIFEST = "manifest.json"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _cut_torn_tail(path: Path) -> None:
    """Drop a last line that has no newline (a write interrupted by a kill)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
        handle.seek(0)
        data = handle.read()
        handle.truncate(data.rfind(b"\n") + 1)


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSON Lines file of ours (a torn last line is ignored)."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for line in handle:
            if line.endswith(b"\n"):
                yield orjson.loads(line)


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class RunStore:
    """Reads what a run directory already holds and appends new results to it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.done: set[str] = set()
        self._files: dict[str, IO[bytes]] = {}

    def open(
        self, manifest: dict[str, Any], *, force: bool = False, retry_failed: bool = False
    ) -> set[str]:
        """Prepare the directory; returns the ids already finished (or failed)."""
        self.path.mkdir(parents=True, exist_ok=True)
        manifest_path = self.path / MANIFEST
        if manifest_path.exists():
            previous = orjson.loads(manifest_path.read_bytes())
            if previous.get("fingerprint") != manifest["fingerprint"] and not force:
                raise RunDirectoryError(
                    f"{self.path} holds a run with another configuration (fingerprint "
                    f"{previous.get('fingerprint')}, now {manifest['fingerprint']}): "
                    "use another --out, or --force to continue it anyway"
                )
            manifest = {**manifest, "created": previous.get("created", manifest["created"])}
            manifest["resumed"] = [*previous.get("resumed", []), _now()]
        _write_atomic(manifest_path, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
        for name in (DIALOGUES, FAILURES):
            _cut_torn_tail(self.path / name)
        if retry_failed:
            _write_atomic(self.path / FAILURES, b"")
        self.done = {
            record["id"]
            for name in (DIALOGUES, FAILURES)
            for record in read_jsonl(self.path / name)
        }
        return self.done

    def _file(self, name: str) -> IO[bytes]:
        handle = self._files.get(name)
        if handle is None:
            handle = self._files[name] = (self.path / name).open("ab")
        return handle

    def append(self, name: str, document: object) -> None:
        """One JSON line to the file ``name`` of the run directory (buffered; see flush)."""
        self._file(name).write(orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE))

    def write(self, record: DialogueRecord | FailureRecord) -> None:
        """A finished dialogue's record, or its failure; either marks it done."""
        self.append(DIALOGUES if isinstance(record, DialogueRecord) else FAILURES, record)
        self.done.add(record.id)

    def flush(self) -> None:
        for handle in self._files.values():
            handle.flush()

    def close(self) -> None:
        for handle in self._files.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        self._files.clear()


def new_manifest(
    *,
    fingerprint: str,
    config: dict[str, Any],
    models: dict[str, str],
    seed: int,
    version: str,
    prompts: str,
) -> dict[str, Any]:
    """The manifest of a run (never holds secrets: only names of key variables)."""
    return {
        "format": 1,
        "package": "interactive-agents",
        "version": version,
        "fingerprint": fingerprint,
        "created": _now(),
        "models": models,
        "seed": seed,
        "prompts": prompts,
        "config": config,
    }
