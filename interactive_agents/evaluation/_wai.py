"""Counselor evaluation with WAI-O-S, the observer-rated short Working Alliance Inventory.

docs/method.md#wai-o-s. The judge (``actors/wai.<lang>.toml``) reads the whole session and rates one
item per call on 1..7, reasoning first and ending with a fixed final line; every item is
rated in ``rounds`` independent rounds (3 by default, each call with its own seed).

Scoring, per dialogue:

1. The negatively worded items 4 and 10 are reversed (8 - x) in every round.
2. An item's score is the mean of its parsed rounds (rounds that failed are listed as
   failures and left out; an item with no parsed round has no score).
3. A factor's score is the mean of its four item scores, only when all four have one;
   otherwise the dialogue is counted in ``incomplete`` for that factor.

Factors: Goal = items 4, 6, 10, 11; Task = 1, 2, 8, 12; Bond = 3, 5, 7, 9. A corpus is
described by the mean and sample standard deviation (``ddof=1``) of each factor over its
dialogues, and two corpora by a two-tailed Student's t-test per factor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Unpack

from interactive_agents._resources import read_toml
from interactive_agents.corpora._readers import Corpus, Dialogue
from interactive_agents.errors import ConfigError
from interactive_agents.evaluation._significance import (
    GroupSummary,
    TTest,
    describe,
    pairs,
    student_t,
)
from interactive_agents.judging._answers import (
    AnswerReading,
    AnswerRules,
    load_answer_rules,
    read_answer,
    score_reader,
)
from interactive_agents.judging._cards import actor_card, text_field, transcript
from interactive_agents.judging._judgements import (
    JudgeCache,
    JudgeFailure,
    Judgement,
    JudgeRequest,
    JudgeRunOptions,
    UnreadCounts,
    judge_corpora,
    one_per_corpus,
    unread_counts,
)
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._messages import ChatMessage

ITEMS = tuple(range(1, 13))
FACTORS: dict[str, tuple[int, ...]] = {
    "goal": (4, 6, 10, 11),
    "task": (1, 2, 8, 12),
    "bond": (3, 5, 7, 9),
}
REVERSED = frozenset({4, 10})
SCALE = (1, 7)

READ_SCORE = score_reader(*SCALE)


def keyed(item: int, score: float) -> float:
    """The score as it enters a factor: reversed (8 - x) for items 4 and 10."""
    return SCALE[0] + SCALE[1] - score if item in REVERSED else score


def item_number(item: str) -> int:
    """``"wai-4"`` -> 4 (the item label of a judge request)."""
    return int(item.rsplit("-", 1)[1])


@dataclass(frozen=True, slots=True)
class WaiItem:
    """One item as the judge reads it: its statement and an anchor for each score 1..7."""

    number: int
    text: str
    anchors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WaiJudge:
    """The judge's prompt card for one language."""

    language: str
    system: str
    user: str
    reminder_text: str
    answer: AnswerRules
    items: Mapping[int, WaiItem]
    client_label: str
    counselor_label: str

    def messages(self, dialogue: Dialogue, item: int) -> tuple[ChatMessage, ...]:
        entry = self.items[item]
        anchors = "\n".join(f"{score} = {text}" for score, text in enumerate(entry.anchors, 1))
        user = self.user.format(
            transcript=transcript(dialogue, self.client_label, self.counselor_label),
            number=item,
            item=entry.text,
            anchors=anchors,
        )
        return ChatMessage("system", self.system), ChatMessage("user", user)

    def reminder(self) -> str:
        return self.reminder_text

    def parse(self, answer: str) -> AnswerReading[int]:
        """The score 1..7, read as the card's ``[answer]`` says
        (:func:`~interactive_agents.judging._answers.read_answer`)."""
        return read_answer(answer, self.answer, READ_SCORE)


def load_wai_judge(language: str, *, actors_dir: str | Path | None = None) -> WaiJudge:
    """Read ``wai.<language>.toml`` (from ``actors_dir`` or the bundled cards)."""
    path = actor_card("wai", language, actors_dir)
    data = read_toml(path)
    raw_items = data.get("items")
    if not isinstance(raw_items, dict):
        raise ConfigError("expected tables [items.1] … [items.12]", file=str(path), field="items")
    items: dict[int, WaiItem] = {}
    for number in ITEMS:
        where = f"items.{number}"
        raw = raw_items.get(str(number))
        if not isinstance(raw, dict):
            raise ConfigError("missing", file=str(path), field=where)
        anchors = raw.get("anchors")
        if (
            not isinstance(anchors, list)
            or len(anchors) != SCALE[1]
            or not all(isinstance(a, str) and a.strip() for a in anchors)
        ):
            message = f"expected {SCALE[1]} non-empty strings, for the scores 1..{SCALE[1]}"
            raise ConfigError(message, file=str(path), field=f"{where}.anchors")
        text = raw.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError("expected a non-empty string", file=str(path), field=f"{where}.text")
        items[number] = WaiItem(number, text.strip(), tuple(a.strip() for a in anchors))
    system, user, reminder = (text_field(data, key, path) for key in ("system", "user", "reminder"))
    answer = load_answer_rules(
        data, path, READ_SCORE, (system, user, reminder), actors_dir=actors_dir
    )
    judge = WaiJudge(
        language=language,
        system=system,
        user=user,
        reminder_text=reminder,
        answer=answer,
        items=items,
        client_label=str(data.get("client_label", "Client")),
        counselor_label=str(data.get("counselor_label", "Counselor")),
    )
    try:
        judge.user.format(transcript="", number=1, item="", anchors="")
    except (KeyError, IndexError, ValueError) as exc:
        message = f"unknown or malformed placeholder: {exc}"
        raise ConfigError(message, file=str(path), field="user") from exc
    return judge


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemScore:
    """One item of one dialogue: the judge's scores per round (``None``: failed) and
    the item's score after reversal, averaged over the parsed rounds."""

    item: int
    rounds: tuple[int | None, ...]
    score: float | None


@dataclass(frozen=True, slots=True)
class DialogueWai:
    """WAI-O-S of one dialogue: 12 items and the three factors (None if incomplete)."""

    dialogue_id: str
    items: tuple[ItemScore, ...]
    goal: float | None
    task: float | None
    bond: float | None


@dataclass(frozen=True, slots=True)
class WaiResult:
    """WAI-O-S of one corpus: factor and item summaries over its dialogues, and per item
    (``wai-1`` … ``wai-12``) the judgements and those without a value (unparsable,
    refused, endpoint errors: left out of every score, listed in ``failures``)."""

    corpus: str
    language: str
    dialogues: int
    skipped_empty: int
    factors: dict[str, GroupSummary]
    items: dict[str, GroupSummary]
    incomplete: dict[str, int]
    scores: tuple[DialogueWai, ...]
    failures: tuple[JudgeFailure, ...]
    calls: int
    cached: int
    answers: dict[str, UnreadCounts] = field(default_factory=dict)

    def factor_values(self, factor: str) -> list[float]:
        """The factor's score of every dialogue that has one."""
        return [v for d in self.scores if (v := getattr(d, factor)) is not None]


def item_score(item: int, rounds: Sequence[int | None]) -> ItemScore:
    """Reverse items 4 and 10, then average the parsed rounds."""
    parsed = [keyed(item, score) for score in rounds if score is not None]
    return ItemScore(item, tuple(rounds), sum(parsed) / len(parsed) if parsed else None)


def factor_scores(items: Mapping[int, float | None]) -> dict[str, float | None]:
    """Each factor's mean of its four (already keyed) item scores, None if one is missing."""
    scores: dict[str, float | None] = {}
    for factor, numbers in FACTORS.items():
        values = [items.get(n) for n in numbers]
        scores[factor] = (
            None if any(v is None for v in values) else sum(v for v in values if v is not None) / 4
        )
    return scores


def dialogue_wai(dialogue_id: str, rounds: Mapping[int, Sequence[int | None]]) -> DialogueWai:
    """Score one dialogue from the judge's raw scores, item -> one score per round."""
    items = tuple(item_score(n, rounds.get(n, ())) for n in ITEMS)
    factors = factor_scores({s.item: s.score for s in items})
    return DialogueWai(dialogue_id, items, factors["goal"], factors["task"], factors["bond"])


def summarise_wai(
    corpus: Corpus, judge: WaiJudge, judgements: Sequence[Judgement[int]], rounds: int
) -> WaiResult:
    """Fold one corpus's judgements (any order) into its :class:`WaiResult`."""
    by_key = {(j.dialogue_id, item_number(j.item), j.round): j for j in judgements}
    rated = [d for d in corpus.dialogues if _rateable(d)]
    scores = []
    for dialogue in rated:
        raw: dict[int, list[int | None]] = {}
        for item in ITEMS:
            raw[item] = []
            for number in range(1, rounds + 1):
                judgement = by_key.get((dialogue.id, item, number))
                raw[item].append(judgement.value if judgement is not None else None)
        scores.append(dialogue_wai(dialogue.id, raw))
    factors = {}
    incomplete = {}
    for factor in FACTORS:
        values = [v for d in scores if (v := getattr(d, factor)) is not None]
        factors[factor] = describe(values)
        incomplete[factor] = len(scores) - len(values)
    items = {
        str(item): describe([s.score for d in scores if (s := d.items[item - 1]).score is not None])
        for item in ITEMS
    }
    return WaiResult(
        corpus=corpus.name,
        language=judge.language,
        dialogues=len(rated),
        skipped_empty=len(corpus.dialogues) - len(rated),
        factors=factors,
        items=items,
        incomplete=incomplete,
        scores=tuple(scores),
        failures=tuple(j.failure() for j in judgements if not j.ok),
        calls=sum(j.calls for j in judgements),
        cached=sum(j.cached for j in judgements),
        answers=_item_counts(judgements),
    )


def _item_counts(judgements: Sequence[Judgement[int]]) -> dict[str, UnreadCounts]:
    """Every item's counts, in item order (an item never asked has zeros)."""
    found = unread_counts(judgements)
    return {f"wai-{n}": found.get(f"wai-{n}", UnreadCounts()) for n in ITEMS}


def compare_wai(results: Sequence[WaiResult]) -> list[TTest]:
    """t-tests of each factor between every pair of corpora."""
    tests = []
    for i, j in pairs([r.corpus for r in results]):
        a, b = results[i], results[j]
        for factor in FACTORS:
            values_a, values_b = a.factor_values(factor), b.factor_values(factor)
            tests.append(student_t(factor, a.corpus, values_a, b.corpus, values_b))
    return tests


def _rateable(dialogue: Dialogue) -> bool:
    """A session the judge can rate: something was said by both parties."""
    roles = {u.role for u in dialogue.turns if u.content.strip()}
    return roles == {"client", "counselor"}


def wai_requests(corpus: Corpus, judge: WaiJudge, rounds: int) -> list[JudgeRequest]:
    """One request per dialogue, item and round; a dialogue's requests share its transcript."""
    requests = []
    for dialogue in corpus.dialogues:
        if not _rateable(dialogue):
            continue
        for item in ITEMS:
            messages = judge.messages(dialogue, item)
            requests += [
                JudgeRequest(corpus.name, dialogue.id, f"wai-{item}", number, messages)
                for number in range(1, rounds + 1)
            ]
    return requests


async def score_wai(
    corpora: Sequence[Corpus],
    backend: ChatBackend,
    judges: WaiJudge | Sequence[WaiJudge],
    *,
    cache: JudgeCache,
    **options: Unpack[JudgeRunOptions],
) -> list[WaiResult]:
    """Rate every dialogue of every corpus on the 12 items, ``rounds`` times each.

    ``judges`` is one judge for all corpora or one per corpus (e.g. per language). All
    calls of all corpora go through one pool of workers.
    """
    return await judge_corpora(
        corpora,
        one_per_corpus(judges, corpora),
        backend,
        requests_for=wai_requests,
        summarise=summarise_wai,
        cache=cache,
        **options,
    )
