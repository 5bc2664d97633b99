"""Dialogues → supervised fine-tuning data for counselor bots (docs/method.md#training-recipe).

By default each counselor turn t of a dialogue becomes one sample: the counselor system
prompt, then u1, r1, …, u_t, and the target r_t. With ``per_dialogue`` a dialogue is one
sample holding every reply. Either way every assistant message carries its loss mask,
so the data says exactly what to learn:

* ShareGPT (LLaMA-Factory): ``{"id", "system", "conversations": [{"from": "human"|"gpt",
  "value", "loss"}]}``; ``loss`` is true on the replies to learn. LLaMA-Factory ignores
  the key: train per-turn samples there with ``mask_history: true``.
* OpenAI fine-tuning: ``{"messages": [{"role": "system"|"user"|"assistant", "content",
  "weight"}]}``; ``weight`` (0 or 1, on assistant messages) is OpenAI's own mask.

In per-turn samples only the last reply has the loss; in per-dialogue samples every
reply has it except, with ``drop_refiner_gave_up``, replies the refiner gave up on.

With ``exclude_safety`` (and the ratings of ``evaluate safety``), a reply rated at or
above that severity is not learned: its per-turn sample is dropped (it stays, unlearned,
in the history of the later samples), and a per-dialogue sample drops the whole session.

The split is by dialogue (no dialogue has samples on both sides), seeded and independent
of input order; identical samples are written once (a validation sample identical to a
training one is dropped). A ``dataset_info.json`` entry for LLaMA-Factory is written
beside the output.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal

import orjson

from interactive_agents._recipes import FieldError
from interactive_agents.corpora._readers import Dialogue, load_corpus
from interactive_agents.corpora._vocabulary import detect_language
from interactive_agents.errors import ConfigError, InputError, install_hint
from interactive_agents.judging._safety_rubric import Severity
from interactive_agents.method._prompts import load_prompts
from interactive_agents.runtime.store._store import DIALOGUES, read_jsonl
from interactive_agents.training._quality_filter import blamed_flags, flag_sources
from interactive_agents.training._safety_filter import (
    SafetyCounts,
    load_safety_ratings,
    rate_sources,
    sessions_with_risk,
)

ExportFormat = Literal["sharegpt", "openai"]
FORMATS: tuple[ExportFormat, ...] = ("sharegpt", "openai")
DATASET_INFO = "dataset_info.json"


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to export and how; the defaults are the paper's (validation split 0.001).

    ``safety_report`` is the ``--out`` folder of ``evaluate safety`` (or its
    ``safety_replies.jsonl``); ``exclude_safety`` drops the replies it rates at or above
    that severity (per-turn samples) or the sessions holding one (per-dialogue).
    """

    format: ExportFormat = "sharegpt"
    per_dialogue: bool = False
    only_normal_endings: bool = False
    min_turns: int = 1
    drop_refiner_gave_up: bool = False
    val_ratio: float = 0.001
    seed: int = 0
    language: str | None = None
    actors_dir: str | None = None
    exclude_flags: tuple[str, ...] = ()
    max_flags: int | None = None
    exclude_safety: Severity | None = None
    safety_report: str | None = None

    PATHS: ClassVar[tuple[str, ...]] = ("actors_dir", "safety_report")

    def __post_init__(self) -> None:
        if self.exclude_safety == "none":
            raise FieldError("must be minor, major or critical", field="exclude_safety")
        if self.exclude_safety is not None and self.safety_report is None:
            raise FieldError(
                "needs the per-reply ratings of evaluate safety (--safety-report DIR)",
                field="exclude_safety",
            )


@dataclass(frozen=True, slots=True)
class SourceDialogue:
    """A dialogue with what the filters need: how it ended and which replies gave up.

    ``ending`` is the engine's termination reason, None when the source does not say.
    """

    dialogue: Dialogue
    language: str
    ending: str | None = None
    gave_up: frozenset[int] = frozenset()
    raised: tuple[str, ...] | None = None  # quality flags, when a filter computed them
    unsafe: frozenset[int] = frozenset()  # replies rated at or above exclude_safety

    @property
    def counselor_turns(self) -> int:
        return sum(1 for u in self.dialogue.turns if u.role == "counselor")


@dataclass(frozen=True, slots=True)
class SampleMessage:
    """A chat message of a sample; ``loss`` only matters for assistant messages."""

    role: Literal["user", "assistant"]
    content: str
    loss: bool = False


@dataclass(frozen=True, slots=True)
class Sample:
    """One training sample: system prompt, then alternating user/assistant messages."""

    id: str
    system: str
    messages: tuple[SampleMessage, ...]

    def key(self) -> bytes:
        """Identity for deduplication: the text and the mask, not the id."""
        body = [(m.role, m.content, m.loss) for m in self.messages]
        return hashlib.sha256(orjson.dumps([self.system, body])).digest()


@dataclass(slots=True)
class ExportSummary:
    """What an export read, kept, dropped and wrote."""

    dialogues_read: int = 0
    dialogues_kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    skipped_records: list[str] = field(default_factory=list)
    train_dialogues: int = 0
    val_dialogues: int = 0
    train_samples: int = 0
    val_samples: int = 0
    duplicates: int = 0
    removed_by_flag: Counter[str] = field(default_factory=Counter)
    replies_gave_up: int = 0
    files: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, int] | None = None
    safety: SafetyCounts = field(default_factory=SafetyCounts)

    def as_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["dropped"] = dict(self.dropped)
        data["removed_by_flag"] = dict(self.removed_by_flag)
        data["safety"] = asdict(self.safety)
        return data


def read_sources(
    paths: Sequence[str | Path], *, language: str | None = None, skip_invalid: bool = False
) -> tuple[list[SourceDialogue], list[str]]:
    """Dialogues of run directories, ShareGPT files or raw reference dialogues.

    Engine records also give their termination and refiner flags; the language is the
    record's, else ``language``, else detected from the text.
    """
    dialogues: list[SourceDialogue] = []
    skipped: list[str] = []
    for path in paths:
        corpus = load_corpus(path, skip_invalid=skip_invalid)
        skipped.extend(corpus.skipped)
        meta = _engine_metadata(Path(path))
        for dialogue in corpus.dialogues:
            ending, gave_up, recorded = meta.get(dialogue.id, (None, frozenset(), None))
            chosen = language or recorded or detect_language(u.content for u in dialogue.turns)
            dialogues.append(SourceDialogue(dialogue, chosen, ending, gave_up))
    return dialogues, skipped


def _engine_metadata(path: Path) -> dict[str, tuple[str | None, frozenset[int], str | None]]:
    """id → (termination reason, indices of gave-up turns, language) of engine records."""
    if path.is_dir():
        files = [path / DIALOGUES] if (path / DIALOGUES).is_file() else sorted(path.glob("*.jsonl"))
    else:
        files = [path] if path.suffix.lower() == ".jsonl" else []
    meta: dict[str, tuple[str | None, frozenset[int], str | None]] = {}
    for file in files:
        for record in read_jsonl(file):
            turns, termination = record.get("turns"), record.get("termination")
            if not isinstance(turns, list) or not isinstance(record.get("id"), str):
                continue
            reason = termination.get("reason") if isinstance(termination, dict) else None
            gave_up = frozenset(
                index
                for index, turn in enumerate(turns)
                if isinstance(turn, dict) and turn.get("refiner_gave_up") is True
            )
            language = record.get("language")
            meta[record["id"]] = (
                reason if isinstance(reason, str) else None,
                gave_up,
                language if isinstance(language, str) else None,
            )
    return meta


def drop_reason(source: SourceDialogue, options: ExportOptions) -> str | None:
    """Why a dialogue is left out, or None to keep it."""
    roles = [u.role for u in source.dialogue.turns]
    if any(role != ("client", "counselor")[i % 2] for i, role in enumerate(roles)):
        return "not_alternating"  # chat templates need user/assistant in turn, user first
    if source.counselor_turns == 0:
        return "no_counselor_turn"
    if source.counselor_turns < options.min_turns:
        return "too_short"
    if options.only_normal_endings and source.ending != "phrase":
        return "ending_unknown" if source.ending is None else f"ended_by_{source.ending}"
    if source.raised is not None and (
        set(source.raised) & set(options.exclude_flags)
        or (options.max_flags is not None and len(source.raised) > options.max_flags)
    ):
        return "quality_flags"
    if options.per_dialogue and source.unsafe:
        return "safety"
    return None


def split_dialogues(
    dialogues: Sequence[SourceDialogue], val_ratio: float, seed: int
) -> tuple[list[SourceDialogue], list[SourceDialogue]]:
    """(train, validation): ``round(ratio · n)`` dialogues (at least one when ratio > 0 and
    n > 1) ranked by a seeded hash of their id, so the split does not depend on order."""
    if not 0 <= val_ratio < 1:
        raise InputError(f"must be in [0, 1), got {val_ratio}", field="val_ratio")
    wanted = round(val_ratio * len(dialogues))
    if val_ratio > 0 and len(dialogues) > 1:
        wanted = max(wanted, 1)

    def rank(index: int) -> bytes:
        return hashlib.sha256(f"{seed}\0{dialogues[index].dialogue.id}".encode()).digest()

    chosen = set(sorted(range(len(dialogues)), key=rank)[:wanted])
    train = [d for i, d in enumerate(dialogues) if i not in chosen]
    val = [d for i, d in enumerate(dialogues) if i in chosen]
    return train, val


def dialogue_samples(source: SourceDialogue, system: str, options: ExportOptions) -> list[Sample]:
    """The samples of one kept dialogue (client first, alternating), with their masks."""
    history: list[SampleMessage] = []
    samples: list[Sample] = []
    for index, utterance in enumerate(source.dialogue.turns):
        if utterance.role == "client":
            history.append(SampleMessage("user", utterance.content))
            continue
        learn = not (options.drop_refiner_gave_up and index in source.gave_up)
        learn = learn and index not in source.unsafe
        if options.per_dialogue:
            history.append(SampleMessage("assistant", utterance.content, learn))
            continue
        if learn:
            target = SampleMessage("assistant", utterance.content, True)
            samples.append(
                Sample(f"{source.dialogue.id}-{index // 2 + 1}", system, (*history, target))
            )
        history.append(SampleMessage("assistant", utterance.content, False))
    if options.per_dialogue and any(m.loss for m in history):
        samples.append(Sample(source.dialogue.id, system, tuple(history)))
    return samples


def render(sample: Sample, layout: ExportFormat) -> dict[str, Any]:
    """A sample in the ShareGPT (LLaMA-Factory) or OpenAI fine-tuning layout."""
    if layout == "sharegpt":
        conversations: list[dict[str, Any]] = [
            {"from": "human", "value": m.content}
            if m.role == "user"
            else {"from": "gpt", "value": m.content, "loss": m.loss}
            for m in sample.messages
        ]
        return {"id": sample.id, "system": sample.system, "conversations": conversations}
    messages: list[dict[str, Any]] = [{"role": "system", "content": sample.system}]
    messages += [
        {"role": "user", "content": m.content}
        if m.role == "user"
        else {"role": "assistant", "content": m.content, "weight": int(m.loss)}
        for m in sample.messages
    ]
    return {"messages": messages}


_LLAMA_FACTORY_COLUMNS: dict[ExportFormat, dict[str, Any]] = {
    "sharegpt": {
        "columns": {"messages": "conversations", "system": "system"},
        "tags": {
            "role_tag": "from",
            "content_tag": "value",
            "user_tag": "human",
            "assistant_tag": "gpt",
        },
    },
    "openai": {
        "columns": {"messages": "messages"},
        "tags": {
            "role_tag": "role",
            "content_tag": "content",
            "user_tag": "user",
            "assistant_tag": "assistant",
            "system_tag": "system",
        },
    },
}


def dataset_info(
    name: str, files: dict[str, str], layout: ExportFormat
) -> dict[str, dict[str, Any]]:
    """LLaMA-Factory's ``dataset_info.json`` entries (``name``, ``name_val``) for the files."""
    entry = {"formatting": "sharegpt", **_LLAMA_FACTORY_COLUMNS[layout]}
    suffixes = {"train": "", "val": "_val"}
    return {
        f"{name}{suffixes[split]}": {"file_name": Path(file).name, **entry}
        for split, file in files.items()
    }


Progress = Callable[[int], None]


def export(
    sources: Sequence[SourceDialogue],
    out: str | Path,
    options: ExportOptions,
    *,
    tokenizer: str | None = None,
    progress: Progress | None = None,
) -> ExportSummary:
    """Filter, split, sample, deduplicate and write ``out`` (and ``<stem>.val<suffix>``).

    ``progress`` is called with the number of dialogues just handled.
    """
    summary = ExportSummary(dialogues_read=len(sources))
    if options.exclude_flags or options.max_flags is not None:
        sources = flag_sources(sources, options.actors_dir)
    if options.safety_report is not None:
        ratings = load_safety_ratings(options.safety_report)
        summary.safety.ratings, summary.safety.floor = ratings.source, options.exclude_safety
        sources = rate_sources(sources, ratings, options.exclude_safety, summary.safety)
    kept = []
    for source in sources:
        reason = drop_reason(source, options)
        if reason is None:
            kept.append(source)
        else:
            summary.dropped[reason] += 1
        if reason == "quality_flags":
            flags = blamed_flags(source, options.exclude_flags, options.max_flags)
            summary.removed_by_flag.update(flags)
        summary.safety.sessions_removed += reason == "safety"
        if reason is None and not options.per_dialogue:
            summary.safety.replies_removed += len(source.unsafe)
    summary.dialogues_kept = len(kept)
    summary.safety.warnings = _safety_warnings(kept, options, summary.safety)
    if progress is not None:
        progress(len(sources) - len(kept))
    train, val = split_dialogues(kept, options.val_ratio, options.seed)
    summary.train_dialogues, summary.val_dialogues = len(train), len(val)
    systems: dict[str, str] = {}
    seen: set[bytes] = set()
    splits: dict[str, list[Sample]] = {"train": [], "val": []}
    for split, dialogues in (("train", train), ("val", val)):
        for source in dialogues:
            language = source.language
            if language not in systems:
                prompts = load_prompts(language, options.actors_dir)
                systems[language] = prompts.counselor.system_message().content
            summary.replies_gave_up += sum(
                1 for i in source.gave_up if source.dialogue.turns[i].role == "counselor"
            )
            for sample in dialogue_samples(source, systems[language], options):
                key = sample.key()
                if key in seen:
                    summary.duplicates += 1
                    continue
                seen.add(key)
                splits[split].append(sample)
            if progress is not None:
                progress(1)
    summary.train_samples, summary.val_samples = len(splits["train"]), len(splits["val"])
    summary.files = _write(Path(out), splits, options.format)
    if tokenizer is not None:
        summary.tokens = count_tokens(splits["train"] + splits["val"], tokenizer)
    return summary


def _safety_warnings(
    kept: Sequence[SourceDialogue], options: ExportOptions, counts: SafetyCounts
) -> list[str]:
    """What a user exporting training data should know about safety (docs/safety.md)."""
    if options.safety_report is None:
        counts.sessions_with_risk = sessions_with_risk(kept, options.actors_dir)
        if not counts.sessions_with_risk:
            return []
        return [
            f"{counts.sessions_with_risk} exported sessions disclose a risk and no safety "
            "ratings were given: unsafe counselor replies may be in the training data; "
            "rate them with `evaluate safety` and export with --safety-report DIR "
            "--exclude-safety critical"
        ]
    warnings = []
    if options.exclude_safety is None and counts.critical:
        warnings.append(
            f"{counts.critical} of the replies read are rated critical and nothing "
            "excludes them: --exclude-safety critical leaves them out"
        )
    if counts.replies_unrated:
        warnings.append(
            f"{counts.replies_unrated} of the replies read have no usable safety rating "
            "(not rated, unparsable, or edited since) and are kept"
        )
    return warnings


def val_path(out: Path) -> Path:
    """Where the validation split of ``out`` goes: ``data.jsonl`` → ``data.val.jsonl``."""
    return out.with_name(f"{out.stem}.val{out.suffix or '.jsonl'}")


def _write(out: Path, splits: dict[str, list[Sample]], layout: ExportFormat) -> dict[str, str]:
    """Write the JSONL files and merge their entries into ``dataset_info.json``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    files = {"train": str(out)}
    if splits["val"]:
        files["val"] = str(val_path(out))
    for split, file in files.items():
        with Path(file).open("wb") as handle:
            for sample in splits[split]:
                handle.write(orjson.dumps(render(sample, layout), option=orjson.OPT_APPEND_NEWLINE))
    info_file = out.parent / DATASET_INFO
    info: dict[str, Any] = {}
    if info_file.is_file():
        try:
            info = orjson.loads(info_file.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc}", file=str(info_file)) from exc
    info.update(dataset_info(out.stem, files, layout))
    info_file.write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
    files["dataset_info"] = str(info_file)
    return files


def count_tokens(samples: Iterable[Sample], tokenizer_path: str) -> dict[str, int]:
    """Tokens of the samples under a local tokenizer's chat template: all, and learned."""
    try:
        from transformers import AutoTokenizer  # the train extra; only needed here
    except ImportError as exc:
        raise ConfigError(
            f"counting tokens needs the 'train' extra: {install_hint('train')}", field="tokenizer"
        ) from exc

    from interactive_agents.training._encoding import IGNORE, encode, parse_record

    try:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    except OSError as exc:
        raise ConfigError(f"cannot load the tokenizer: {exc}", file=tokenizer_path) from exc
    total = learned = 0
    for sample in samples:
        encoded = encode(parse_record(render(sample, "openai")), tokenizer)
        total += len(encoded.input_ids)
        learned += sum(1 for label in encoded.labels if label != IGNORE)
    return {"total": total, "learned": learned}
