"""Client diversity (docs/method.md#client-diversity-topic-entropy): an LLM assigns topics.

For every dialogue, the topic rater (``actors/topic_rater.<lang>.toml``) reads S, the
client's utterances one per line, and picks between 1 and ``max_topics`` topics from a
numbered topic set (``actors/topics.<lang>.toml``: 60 counseling topics by default).
This is done in ``rounds`` independent rounds (3 by default, each call with its own
seed).

The topic distribution of one round counts every topic assigned to any dialogue of the
corpus (a dialogue given two topics adds one to each). Its information entropy, in bits,
is H = -Σ p(t) log2 p(t) over the topics that occur; ``normalized_entropy`` divides by
log2 of the size of the topic set. The corpus is described by the mean and sample
standard deviation (``ddof=1``) of the per-round entropies, and two corpora are compared
by a two-tailed Student's t-test of those per-round entropies. Dialogues whose answer
could not be used in a round are left out of that round and listed as failures.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Unpack

import numpy as np

from interactive_agents._resources import read_toml, resolve
from interactive_agents.corpora._readers import Corpus
from interactive_agents.corpora._vocabulary import detect_language
from interactive_agents.errors import ConfigError, InputError
from interactive_agents.evaluation._significance import TTest, describe, pairs, student_t
from interactive_agents.judging._answers import (
    AnswerReading,
    AnswerRules,
    ValueReader,
    load_answer_rules,
    numbers_reader,
    read_answer,
)
from interactive_agents.judging._cards import actor_card, text_field
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

DEFAULT_MAX_TOPICS = 3
ITEM = "topics"


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic: a stable ``id`` for reports and the ``name`` the rater reads."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class TopicSet:
    """The predefined topics the rater chooses from, numbered from 1 in this order."""

    name: str
    language: str
    topics: tuple[Topic, ...]
    source: str

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(topic.id for topic in self.topics)

    def numbered(self) -> str:
        return "\n".join(f"{n}. {topic.name}" for n, topic in enumerate(self.topics, start=1))


def load_topic_set(path: str | Path) -> TopicSet:
    """Read a topic set: ``name``, ``language`` and ``topics = [{id, name}, …]``.

    ``path`` is a file, or the name of a bundled set such as ``topics.en``.
    """
    file = resolve(path, "actors", (".toml",))
    data = read_toml(file)
    raw = data.get("topics")
    if not isinstance(raw, list) or len(raw) < 2:
        raise ConfigError("expected a list of at least two topics", file=str(file), field="topics")
    topics = []
    for index, item in enumerate(raw):
        where = f"topics[{index}]"
        if not isinstance(item, dict):
            raise ConfigError("expected a table {id, name}", file=str(file), field=where)
        topic_id, name = item.get("id"), item.get("name")
        if not isinstance(topic_id, str) or not topic_id.strip():
            raise ConfigError("expected a non-empty string", file=str(file), field=f"{where}.id")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError("expected a non-empty string", file=str(file), field=f"{where}.name")
        topics.append(Topic(topic_id.strip(), name.strip()))
    repeated = [topic_id for topic_id, n in Counter(t.id for t in topics).items() if n > 1]
    if repeated:
        raise ConfigError(f"repeated ids: {', '.join(repeated)}", file=str(file), field="topics")
    name = data.get("name", file.stem)
    language = data.get("language", "")
    return TopicSet(str(name), str(language), tuple(topics), str(file))


@dataclass(frozen=True, slots=True)
class TopicRater:
    """The rater's prompt card for one language and the topic set it chooses from."""

    language: str
    system: str
    user: str
    reminder_text: str
    answer: AnswerRules
    topic_set: TopicSet
    max_topics: int = DEFAULT_MAX_TOPICS

    def messages(self, client_text: str) -> tuple[ChatMessage, ...]:
        system = self.system.format(topics=self.topic_set.numbered(), max_topics=self.max_topics)
        user = self.user.format(client_text=client_text.strip(), max_topics=self.max_topics)
        return ChatMessage("system", system), ChatMessage("user", user)

    def reminder(self) -> str:
        return self.reminder_text.format(max_topics=self.max_topics)

    def parse(self, answer: str) -> AnswerReading[tuple[int, ...]]:
        """The chosen topic numbers (1-based, distinct, at most ``max_topics``), read
        as the card's ``[answer]`` says (:func:`~interactive_agents.judging._answers.read_answer`):
        text in brackets is ignored, numbers outside the topic set are dropped."""
        return read_answer(answer, self.answer, self.reader())

    def reader(self) -> ValueReader[tuple[int, ...]]:
        return numbers_reader(len(self.topic_set.topics), self.max_topics)


def load_topic_rater(
    language: str,
    *,
    actors_dir: str | Path | None = None,
    topics: str | Path | None = None,
    max_topics: int = DEFAULT_MAX_TOPICS,
) -> TopicRater:
    """``topic_rater.<language>.toml`` with ``topics`` (default ``topics.<language>``).

    ``actors_dir`` replaces the bundled ``actors/`` folder for both files.
    """
    if max_topics < 1:
        raise ConfigError("must be at least 1", field="max_topics")
    path = actor_card("topic_rater", language, actors_dir)
    data = read_toml(path)
    topic_set = load_topic_set(
        topics if topics is not None else actor_card("topics", language, actors_dir)
    )
    system, user, reminder = (text_field(data, key, path) for key in ("system", "user", "reminder"))
    answer = load_answer_rules(
        data,
        path,
        numbers_reader(len(topic_set.topics), max_topics),
        (system, user, reminder),
        actors_dir=actors_dir,
    )
    rater = TopicRater(
        language=language,
        system=system,
        user=user,
        reminder_text=reminder,
        answer=answer,
        topic_set=topic_set,
        max_topics=max_topics,
    )
    for field_name, template in (("system", rater.system), ("user", rater.user)):
        try:
            template.format(topics="", client_text="", max_topics=1)
        except (KeyError, IndexError, ValueError) as exc:
            message = f"unknown or malformed placeholder: {exc}"
            raise ConfigError(message, file=str(path), field=field_name) from exc
    return rater


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundTopics:
    """One round over a corpus: counts per topic id (topic-set order, zeros left out)."""

    round: int
    rated: int
    failed: int
    assignments: int
    counts: dict[str, int]
    entropy: float
    normalized_entropy: float


@dataclass(frozen=True, slots=True)
class DialogueTopics:
    """The topic ids one dialogue got in each round (``None``: that round failed)."""

    dialogue_id: str
    rounds: tuple[tuple[str, ...] | None, ...]


@dataclass(frozen=True, slots=True)
class TopicResult:
    """Topic diversity of one corpus.

    ``distribution`` is the share of each topic over all rounds (every topic of the set,
    in its order); ``skipped_empty`` counts dialogues without any client utterance;
    ``answers`` counts the judgements and those without a value (unparsable, refused,
    endpoint errors), which are left out of every figure and listed in ``failures``.
    """

    corpus: str
    language: str
    topic_set: str
    topics: int
    dialogues: int
    skipped_empty: int
    rounds: tuple[RoundTopics, ...]
    entropy_mean: float
    entropy_std: float
    normalized_entropy_mean: float
    distribution: dict[str, float]
    assignments: tuple[DialogueTopics, ...]
    failures: tuple[JudgeFailure, ...]
    calls: int
    cached: int
    answers: dict[str, UnreadCounts] = field(default_factory=dict)


def entropy(counts: Sequence[int] | np.ndarray, base: float = 2.0) -> float:
    """Information entropy of a distribution given by counts; NaN when all are zero."""
    array = np.asarray(counts, dtype=np.float64)
    total = array.sum()
    if total <= 0:
        return math.nan
    p = array[array > 0] / total
    return float(-(p * np.log(p)).sum() / math.log(base)) + 0.0


def round_topics(
    round_number: int,
    chosen: Sequence[tuple[str, ...] | None],
    topic_ids: Sequence[str],
) -> RoundTopics:
    """Counts and entropy of one round, from each dialogue's topics (None = failed)."""
    counter = Counter(topic for topics in chosen if topics is not None for topic in topics)
    counts = [counter[topic] for topic in topic_ids]
    value = entropy(counts)
    return RoundTopics(
        round=round_number,
        rated=sum(1 for topics in chosen if topics is not None),
        failed=sum(1 for topics in chosen if topics is None),
        assignments=sum(counts),
        counts={topic: counter[topic] for topic in topic_ids if counter[topic]},
        entropy=value,
        normalized_entropy=value / math.log2(len(topic_ids)),
    )


def summarise_topics(
    corpus: Corpus,
    rater: TopicRater,
    judgements: Sequence[Judgement[tuple[int, ...]]],
    rounds: int,
) -> TopicResult:
    """Fold one corpus's judgements (any order) into its :class:`TopicResult`."""
    ids = rater.topic_set.ids
    by_key = {(j.dialogue_id, j.round): j for j in judgements}
    rated = [d for d in corpus.dialogues if d.client_text().strip()]
    assignments = []
    for dialogue in rated:
        per_round: list[tuple[str, ...] | None] = []
        for number in range(1, rounds + 1):
            judgement = by_key.get((dialogue.id, number))
            value = judgement.value if judgement is not None else None
            per_round.append(tuple(ids[n - 1] for n in value) if value is not None else None)
        assignments.append(DialogueTopics(dialogue.id, tuple(per_round)))
    per_round_results = tuple(
        round_topics(number, [a.rounds[number - 1] for a in assignments], ids)
        for number in range(1, rounds + 1)
    )
    pooled = Counter[str]()
    for result in per_round_results:
        pooled.update(result.counts)
    total = sum(pooled.values())
    entropies = [r.entropy for r in per_round_results if not math.isnan(r.entropy)]
    summary = describe(entropies)
    normalized = [r.normalized_entropy for r in per_round_results if not math.isnan(r.entropy)]
    return TopicResult(
        corpus=corpus.name,
        language=rater.language,
        topic_set=rater.topic_set.name,
        topics=len(ids),
        dialogues=len(rated),
        skipped_empty=len(corpus.dialogues) - len(rated),
        rounds=per_round_results,
        entropy_mean=summary.mean,
        entropy_std=summary.std,
        normalized_entropy_mean=describe(normalized).mean,
        distribution={t: (pooled[t] / total if total else math.nan) for t in ids},
        assignments=tuple(assignments),
        failures=tuple(j.failure() for j in judgements if not j.ok),
        calls=sum(j.calls for j in judgements),
        cached=sum(j.cached for j in judgements),
        answers=unread_counts(judgements) or {ITEM: UnreadCounts()},
    )


def compare_topics(results: Sequence[TopicResult]) -> list[TTest]:
    """t-tests of the per-round entropies between every pair of corpora."""
    values = [[r.entropy for r in result.rounds if not math.isnan(r.entropy)] for result in results]
    return [
        student_t("entropy", results[i].corpus, values[i], results[j].corpus, values[j])
        for i, j in pairs([r.corpus for r in results])
    ]


def topic_requests(corpus: Corpus, rater: TopicRater, rounds: int) -> list[JudgeRequest]:
    """One request per dialogue with client text and round; the rounds share a prompt."""
    requests = []
    for dialogue in corpus.dialogues:
        text = dialogue.client_text()
        if not text.strip():
            continue
        messages = rater.messages(text)
        requests += [
            JudgeRequest(corpus.name, dialogue.id, ITEM, number, messages)
            for number in range(1, rounds + 1)
        ]
    return requests


def choose_language(corpus: Corpus, language: str) -> str:
    """``zh`` or ``en`` as given; for ``auto`` the language every record states (a
    simulate run's), else detected from the client texts. A stated language wins: a
    small model's Chinese sessions full of English template words are still Chinese."""
    if language != "auto":
        return language
    stated = {d.language for d in corpus.dialogues}
    if len(stated) == 1 and (only := stated.pop()) in ("zh", "en"):
        return only
    return detect_language(d.client_text() for d in corpus.dialogues)


async def rate_topics(
    corpora: Sequence[Corpus],
    backend: ChatBackend,
    raters: TopicRater | Sequence[TopicRater],
    *,
    cache: JudgeCache,
    **options: Unpack[JudgeRunOptions],
) -> list[TopicResult]:
    """Rate every dialogue of every corpus ``rounds`` times, all in one pool of workers.

    ``raters`` is one rater for all corpora or one per corpus (e.g. per language); their
    topic sets must list the same ids in the same order, so the corpora can be compared.
    """
    per_corpus = one_per_corpus(raters, corpora)
    ids = {rater.topic_set.ids for rater in per_corpus}
    if len(ids) > 1:
        sources = ", ".join(sorted({rater.topic_set.source for rater in per_corpus}))
        raise InputError(f"the topic sets must list the same ids in the same order: {sources}")
    return await judge_corpora(
        corpora,
        per_corpus,
        backend,
        requests_for=topic_requests,
        summarise=summarise_topics,
        cache=cache,
        **options,
    )
