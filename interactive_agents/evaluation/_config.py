"""The configuration of the evaluations (``EvaluationConfig``), from a recipe plus overrides.

Built by the one builder of every command's configuration
(:func:`interactive_agents.build_config` with ``kind=EvaluationConfig``), with the same
tables as every other recipe: ``[endpoint]`` is shared (here by the one role, the
judge), ``[judge.endpoint]`` wins over it key by key, ``[judge.sampling]`` and
``[judge] attempts`` are the judge's. Top-level keys apply to every evaluation; each
evaluation's own settings are in its table::

    language = "zh"                 # zh, en, or auto: detected per corpus
    seed = 1                        # the random groups, and the judge's calls
    rounds = 3                      # judge rounds per judgement
    limit = 20                      # only the first 20 dialogues of each corpus
    [endpoint]                      # the judge's (topics, wai)
    base_urls = ["http://gpu1:8000/v1", "http://gpu2:8000/v1"]
    model = "Qwen2-72B-Instruct"
    [judge.sampling]
    temperature = 0.7
    [overlap]
    test = "paired"
    stopwords = "stopwords_zh.txt"
    [semantic]
    model = "BAAI/bge-m3"
    [topics]
    max_topics = 3
    [wai]
    alpha_level = "ordinal"
    [quality.thresholds]
    echo = 0.5
    [safety]
    bootstrap = 2000
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from interactive_agents._recipes import FieldError
from interactive_agents.evaluation._consistency import Draw
from interactive_agents.evaluation._safety import DEFAULT_BOOTSTRAP
from interactive_agents.evaluation._significance import TestKind
from interactive_agents.evaluation._topics import DEFAULT_MAX_TOPICS
from interactive_agents.evaluation._wai_reliability import AlphaLevel
from interactive_agents.judging._config import JudgeConfig
from interactive_agents.judging._judgements import DEFAULT_ROUNDS
from interactive_agents.method._quality import QualityThresholds

LanguageChoice = Literal["zh", "en", "auto"]
LANGUAGE_CHOICES: tuple[LanguageChoice, ...] = ("zh", "en", "auto")


@dataclass(frozen=True, slots=True)
class CardComparisonConfig:
    """The mapping-versus-random design of overlap and semantic consistency: the t-test
    (``student`` as the paper, or ``paired``) and how random cards are drawn."""

    test: TestKind = "student"
    draw: Draw = "independent"


@dataclass(frozen=True, slots=True)
class OverlapConfig(CardComparisonConfig):
    """``[overlap]``: ``stopwords`` is a file of words to drop, one per line (none, as Eq. 1)."""

    stopwords: str | None = None


@dataclass(frozen=True, slots=True)
class SemanticConfig(CardComparisonConfig):
    """``[semantic]``: the embedding ``model`` (None: the offline default for the corpora's
    language), its torch ``device`` (None: automatic), and ``force`` to score a Chinese
    corpus with an English-only model anyway."""

    model: str | None = None
    device: str | None = None
    force: bool = False


@dataclass(frozen=True, slots=True)
class TopicsConfig:
    """``[topics]``: the topic set (a TOML path or a bundled name; None: the bundled 60
    topics of the prompt's language) and the most topics the rater may assign."""

    topic_set: str | None = None
    max_topics: int = DEFAULT_MAX_TOPICS

    def __post_init__(self) -> None:
        if self.max_topics < 1:
            raise FieldError("must be at least 1", field="max_topics")


@dataclass(frozen=True, slots=True)
class WaiConfig:
    """``[wai]``: the level of measurement of Krippendorff's alpha across the rounds."""

    alpha_level: AlphaLevel = "interval"


@dataclass(frozen=True, slots=True)
class SafetyConfig:
    """``[safety]``: resamples of the bootstrap intervals of the shares of sessions with
    a critical or major reply (docs/safety.md)."""

    bootstrap: int = DEFAULT_BOOTSTRAP

    def __post_init__(self) -> None:
        if self.bootstrap < 100:
            raise FieldError("must be at least 100", field="bootstrap")


@dataclass(frozen=True, slots=True)
class QualityFlagsConfig:
    """``[quality]``: ``[quality.thresholds]`` overrides the flags' thresholds one by one,
    as in a simulation recipe; ``labels`` is a file of hand labels of the sessions to
    measure the flags and the terminator against (evaluation/_flag_accuracy.py)."""

    thresholds: QualityThresholds = field(default_factory=QualityThresholds)
    labels: str | None = None


# The recipes before they had the tables of every recipe: option names, at the top level
# for every subcommand or in a subcommand's table; each is refused naming its new key.
_ENDPOINT_KEYS = ("model", "api_key_env", "concurrency", "rpm", "tpm", "timeout", "max_retries")
_JUDGE_OPTIONS = {  # an old judge option -> its key in [judge]
    "base_url": "endpoint.base_urls",
    **{key: f"endpoint.{key}" for key in _ENDPOINT_KEYS},
    **{key: f"sampling.{key}" for key in ("temperature", "top_p", "max_tokens")},
    "attempts": "attempts",
}
_SUBCOMMANDS = ("stats", "overlap", "semantic", "topics", "wai", "quality")
_TOP_LEVEL = ("seed", "language", "rounds", "actors_dir", "local_model", "limit",
              "skip_invalid", "force_mix_rubrics")  # fmt: skip
_MOVED: dict[str, str] = {
    **{key: f"judge.{new}" for key, new in _JUDGE_OPTIONS.items()},
    **{
        f"{command}.{key}": f"judge.{new}"
        for command in ("topics", "wai")
        for key, new in _JUDGE_OPTIONS.items()
    },
    **{f"{command}.{key}": key for command in _SUBCOMMANDS for key in _TOP_LEVEL},
    **{key: f"overlap.{key}" for key in ("test", "draw", "stopwords")},
    **{key: f"semantic.{key}" for key in ("device", "force")},
    "topics": "topics.topic_set",
    "topics.topics": "topics.topic_set",
    "max_topics": "topics.max_topics",
    "alpha_level": "wai.alpha_level",
    "threshold": "quality.thresholds",
    "quality.threshold": "quality.thresholds",
}


@dataclass(frozen=True, slots=True)
class EvaluationConfig:
    """Everything that shapes an evaluation's figures (docs/evaluation.md).

    ``language`` is the corpora's (``auto``: detected per corpus), for word segmentation,
    the judge's prompts and the quality flags' phrase lists. ``seed`` seeds the random
    groups of overlap and semantic consistency, and the judge's calls. The judge asks
    ``rounds`` independent rounds per judgement; ``local_model`` is the embedded model it
    runs on when ``[judge.endpoint]`` has no base URL; ``force_mix_rubrics`` compares
    corpora judged with different judge cards or models anyway. ``actors_dir`` replaces
    the bundled prompt cards and phrase lists. Every corpus is read up to ``limit``
    dialogues, leaving malformed records out (and counted) with ``skip_invalid``.
    """

    language: LanguageChoice = "auto"
    seed: int = 0
    rounds: int = DEFAULT_ROUNDS
    actors_dir: str | None = None
    local_model: str | None = None
    limit: int | None = None
    skip_invalid: bool = False
    force_mix_rubrics: bool = False
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    overlap: OverlapConfig = field(default_factory=OverlapConfig)
    semantic: SemanticConfig = field(default_factory=SemanticConfig)
    topics: TopicsConfig = field(default_factory=TopicsConfig)
    wai: WaiConfig = field(default_factory=WaiConfig)
    quality: QualityFlagsConfig = field(default_factory=QualityFlagsConfig)
    safety: SafetyConfig = field(default_factory=SafetyConfig)

    SHARED: ClassVar[Mapping[str, tuple[str, ...]]] = {"endpoint": ("judge.endpoint",)}
    PATHS: ClassVar[tuple[str, ...]] = ("actors_dir", "local_model", "quality.labels")
    MOVED: ClassVar[Mapping[str, str]] = _MOVED

    def __post_init__(self) -> None:
        for name in ("rounds", "limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise FieldError("must be at least 1", field=name)
