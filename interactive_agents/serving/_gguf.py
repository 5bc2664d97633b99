"""Hugging Face checkpoint → GGUF, so a trained bot can be served by llama.cpp on a CPU.

llama.cpp's own converter (``convert_hf_to_gguf.py`` with its ``conversion`` and
``gguf-py`` packages) ships in the source archive of llama-cpp-python. That archive, at
the pinned version below, is fetched once with ``pip download --no-binary`` (nothing is
built: the script is only read) and the converter kept in the cache. GGUF files are
forward compatible, so the newer llama.cpp of the ``xllamacpp`` server reads them.
Converted files are cached by the checkpoint's content.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from interactive_agents.errors import InputError, LocalServerError
from interactive_agents.llm.local._cache import cache_root, file_digest

PACKAGE = "llama-cpp-python"
CONVERTER_VERSION = "0.3.36"  # the source archive the converter is taken from
_PARTS = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")


def converter(cache: Path | None = None) -> Path:
    """The folder holding llama.cpp's converter, fetched on first use."""
    version = CONVERTER_VERSION
    target = (cache or cache_root()) / "llama-cpp-converter" / version
    if (target / "convert_hf_to_gguf.py").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        download = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                    f"{PACKAGE}=={version}", "-d", scratch, "--quiet"]  # fmt: skip
        done = subprocess.run(download, capture_output=True, text=True, check=False)
        archives = list(Path(scratch).glob("*.tar.gz"))
        if done.returncode != 0 or not archives:
            raise LocalServerError(f"cannot fetch llama.cpp's converter: {done.stderr[-2000:]}")
        staging = Path(scratch) / "converter"
        with tarfile.open(archives[0]) as archive:
            for member in archive.getmembers():
                inner = member.name.partition("/vendor/llama.cpp/")[2]
                if inner.startswith(_PARTS) and member.isfile():
                    member.name = inner
                    archive.extract(member, staging, filter="data")
        staging.rename(target)
    return target


def checkpoint_digest(model: Path) -> str:
    """A digest of a checkpoint folder's files (names and contents)."""
    digest = hashlib.sha256()
    for file in sorted(p for p in model.iterdir() if p.is_file()):
        digest.update(f"{file.name}\0{file_digest(file)}\0".encode())
    return digest.hexdigest()


def convert_checkpoint(model: str | Path, out: Path, outtype: str = "q8_0") -> Path:
    """Convert an HF checkpoint folder to one GGUF file with llama.cpp's converter."""
    folder = converter()
    command = [sys.executable, str(folder / "convert_hf_to_gguf.py"), str(model),
               "--outfile", str(out), "--outtype", outtype]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(folder / "gguf-py")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise LocalServerError(f"converting {model} to GGUF failed:\n{done.stderr[-3000:]}")
    return out


def cached_gguf(model: str | Path, outtype: str = "q8_0", cache: Path | None = None) -> Path:
    """The GGUF file of an HF checkpoint folder, converted on first use."""
    folder = Path(model)
    if not (folder / "config.json").is_file():
        raise InputError("not a Hugging Face checkpoint folder (no config.json)", file=str(folder))
    root = (cache or cache_root()) / "gguf-from-hf"
    target = root / f"{folder.name}-{checkpoint_digest(folder)[:16]}.{outtype}.gguf"
    if target.is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        convert_checkpoint(folder, staging, outtype)
        staging.replace(target)
    finally:
        staging.unlink(missing_ok=True)
    return target
