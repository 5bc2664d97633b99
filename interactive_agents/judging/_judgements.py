"""What the LLM-judged evaluations share: judge requests, concurrent calls, their cache.

Topic diversity and WAI-O-S (docs/method.md#evaluation) ask an LLM judge many small questions
about many dialogues: one :class:`JudgeRequest` per (corpus, dialogue, item, round).
:func:`run_judgements` answers them concurrently through one
:class:`~interactive_agents.llm._endpoint.ChatBackend` (a :class:`ChatEndpoint`, so the
scheduler's concurrency, RPM and TPM limits and the HTTP retries apply), with a fixed
pool of workers no larger than the endpoint's concurrency.

Each answer goes through the caller's ``parse``, which reads it as
:mod:`._answers` describes. An answer that cannot be read (``unparsable``, or
``refused``) is followed by a bounded number of retries: the judge is shown its own
answer and a reminder of the required final line. When every attempt is unreadable, or
the endpoint fails for good (``error``), the :class:`Judgement` carries that status, the
reason and every answer given: a failure is counted and reported, never dropped and
never replaced by a value.

Every answer is appended at once as one JSON line to a :class:`JudgeCache` file, keyed
by corpus, dialogue id, item, round, attempt, model and a hash of the exact prompt
(messages, sampling and seed). Running the same evaluation again reads the answers
back instead of paying for them; anything that changes the prompt asks again. Endpoint
failures are not cached, so a re-run asks those again.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Generic, Literal, Protocol, TypedDict, TypeVar

import anyio
import orjson
from anyio.abc import ObjectReceiveStream

from interactive_agents.corpora._readers import Corpus
from interactive_agents.errors import BackendError, ConfigError, InputError
from interactive_agents.judging._answers import AnswerReading
from interactive_agents.llm._endpoint import ChatBackend, ChatEndpoint
from interactive_agents.llm._endpoint_config import EndpointConfig, check_url
from interactive_agents.llm._messages import ChatMessage, Sampling, Usage
from interactive_agents.llm.local._server import LocalServer, LocalServerOptions
from interactive_agents.method._seeds import derive_seed, fingerprint
from interactive_agents.runtime._counters import EngineStats
from interactive_agents.runtime.store._lock import RunLock

T = TypeVar("T")

DEFAULT_SAMPLING = Sampling(temperature=0.7, top_p=0.9, max_tokens=512)
# Workers used for a backend that is not a ChatEndpoint (whose own limit is known).
DEFAULT_WORKERS = 16

CacheKey = tuple[str, str, str, int, int, str, str]
JudgementStatus = Literal["parsed", "unparsable", "refused", "error"]
UNREAD: tuple[JudgementStatus, ...] = ("unparsable", "refused", "error")
"""The statuses of a judgement without a value: its answers could not be read, the judge
declined, or the endpoint failed."""


@dataclass(frozen=True, slots=True)
class JudgeRequest:
    """One question to the judge about one dialogue of one corpus."""

    corpus: str
    dialogue_id: str
    item: str
    round: int
    messages: tuple[ChatMessage, ...]


@dataclass(frozen=True, slots=True)
class Judgement(Generic[T]):
    """The outcome of one request: a parsed ``value``, or ``None``, the ``status`` that
    says why (``unparsable``, ``refused``, ``error``) and the ``error`` in words.

    ``answers`` holds every answer the judge gave, in order of attempt; ``calls`` of
    them were paid for in this run and ``cached`` were read from the cache.
    """

    corpus: str
    dialogue_id: str
    item: str
    round: int
    value: T | None
    answers: tuple[str, ...] = ()
    error: str | None = None
    calls: int = 0
    cached: int = 0
    status: JudgementStatus = "parsed"

    @property
    def ok(self) -> bool:
        return self.status == "parsed"

    def failure(self) -> JudgeFailure:
        return JudgeFailure(
            self.dialogue_id,
            self.item,
            self.round,
            self.error or "failed",
            self.answers,
            self.status,
        )


@dataclass(frozen=True, slots=True)
class JudgeFailure:
    """A judgement that gave no usable value, as it appears in reports."""

    dialogue_id: str
    item: str
    round: int
    error: str
    answers: tuple[str, ...]
    status: JudgementStatus = "unparsable"


@dataclass(frozen=True, slots=True)
class UnreadCounts:
    """Judgements of one item (or of a whole run) and those without a value, by why."""

    judgements: int = 0
    unparsable: int = 0
    refused: int = 0
    errors: int = 0

    @property
    def unread(self) -> int:
        """Judgements whose answer could not be used (unparsable or refused)."""
        return self.unparsable + self.refused

    @property
    def unread_share(self) -> float:
        """``unread`` over the judgements that got an answer (NaN when none did)."""
        answered = self.judgements - self.errors
        return self.unread / answered if answered else math.nan

    def failure(self, limit: float) -> str | None:
        """Why these judgements are not a measurement, or None: more than ``limit`` of
        the answers could not be read, or some judgements got no answer at all."""
        reasons = []
        if self.unread and self.unread_share > limit:
            reasons.append(
                f"{self.unread} of {self.judgements - self.errors} judgements "
                f"({self.unread_share:.1%}) could not be read ({self.unparsable} unparsable, "
                f"{self.refused} refused), more than the {limit:.0%} allowed (--max-unparsable)"
            )
        if self.errors:
            reasons.append(f"{self.errors} judgements got no answer (endpoint errors)")
        return "; ".join(reasons) or None


def unread_counts(judgements: Iterable[Judgement[Any]]) -> dict[str, UnreadCounts]:
    """Per item (in first-seen order): judgements, unparsable, refused, endpoint errors."""
    counts: dict[str, Counter[str]] = {}
    for judgement in judgements:
        counts.setdefault(judgement.item, Counter())[judgement.status] += 1
    return {
        item: UnreadCounts(
            sum(counter.values()), counter["unparsable"], counter["refused"], counter["error"]
        )
        for item, counter in counts.items()
    }


@dataclass(frozen=True, slots=True)
class JudgeSettings:
    """Sampling of the judge, attempts per request (1 + retries) and the run seed."""

    sampling: Sampling = DEFAULT_SAMPLING
    max_attempts: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("must be at least 1", field="max_attempts")


@dataclass(slots=True)
class JudgeProgress:
    """Live counters of a judging run, for progress displays and summaries:
    judgements whose answers stayed ``unparsable``, were ``refused``, or met an endpoint
    ``errors``; ``failed`` is all three."""

    total: int = 0
    done: int = 0
    calls: int = 0
    cached: int = 0
    retries: int = 0
    unparsable: int = 0
    refused: int = 0
    errors: int = 0
    usage: Usage = field(default_factory=Usage)

    @property
    def failed(self) -> int:
        return self.unparsable + self.refused + self.errors

    def count(self, status: JudgementStatus) -> None:
        """One more judgement done, with this outcome."""
        self.done += 1
        if status == "unparsable":
            self.unparsable += 1
        elif status == "refused":
            self.refused += 1
        elif status == "error":
            self.errors += 1


# -- the cache ------------------------------------------------------------------------


def prompt_hash(messages: Sequence[ChatMessage], sampling: Sampling, seed: int) -> str:
    """A short fingerprint of everything that shapes the judge's answer."""
    payload = {
        "messages": [[m.role, m.content] for m in messages],
        "sampling": asdict(sampling),
        "seed": seed,
    }
    return fingerprint(payload, 24)


def request_seed(seed: int, request: JudgeRequest, attempt: int) -> int:
    """A per-call seed: rounds differ from each other, a re-run repeats itself."""
    return derive_seed(seed, request.dialogue_id, request.item, request.round, attempt)


_KEY_FIELDS: tuple[tuple[str, type], ...] = (
    ("corpus", str),
    ("dialogue_id", str),
    ("item", str),
    ("round", int),
    ("attempt", int),
    ("model", str),
    ("prompt_hash", str),
)


class JudgeCache:
    """Judge answers as JSON Lines, appended and flushed one by one.

    ``path=None`` keeps answers in memory only. Lines that cannot be read (the torn
    last line of a killed run, say) are skipped and counted in ``unreadable``; the
    first new answer then starts on a fresh line. One writer per cache file: it is
    locked (``<file>.lock``) until :meth:`close`, a second one gets ``RunLockedError``.
    """

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self._answers: dict[CacheKey, str] = {}
        self._handle: IO[bytes] | None = None
        self.unreadable = 0
        self.loaded = 0
        self.written = 0
        self._lock = RunLock.beside(self.path) if self.path is not None else None
        if self._lock is not None:
            self._lock.acquire()
        if self.path is not None and self.path.is_file():
            self._load(self.path)

    def _load(self, path: Path) -> None:
        with path.open("rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    record = orjson.loads(line)
                    key = _record_key(record)
                    answer = record["answer"]
                    if not isinstance(answer, str):
                        raise TypeError("answer")
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    self.unreadable += 1
                    continue
                self._answers[key] = answer
                self.loaded += 1

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: CacheKey) -> str | None:
        return self._answers.get(key)

    def put(self, key: CacheKey, answer: str, usage: Usage) -> None:
        """Remember an answer and append it to the file at once."""
        self._answers[key] = answer
        if self.path is None:
            return
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("ab")
            if self._handle.tell() > 0 and not _ends_with_newline(self.path):
                self._handle.write(b"\n")
        record: dict[str, Any] = dict(zip((name for name, _ in _KEY_FIELDS), key, strict=True))
        record.update(
            answer=answer,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            time=round(time.time(), 3),
        )
        self._handle.write(orjson.dumps(record) + b"\n")
        self._handle.flush()
        self.written += 1

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> JudgeCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _record_key(record: Any) -> CacheKey:
    if not isinstance(record, dict):
        raise TypeError("record")
    for name, kind in _KEY_FIELDS:
        value = record[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise TypeError(name)
    return (
        record["corpus"],
        record["dialogue_id"],
        record["item"],
        record["round"],
        record["attempt"],
        record["model"],
        record["prompt_hash"],
    )


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"


# -- running judgements ---------------------------------------------------------------


def backend_concurrency(backend: ChatBackend) -> int:
    """How many requests the backend lets go at once (its scheduler's limit)."""
    if isinstance(backend, ChatEndpoint):
        return backend.config.max_concurrency
    return DEFAULT_WORKERS


async def run_judgements(
    backend: ChatBackend,
    requests: Sequence[JudgeRequest],
    parse: Callable[[JudgeRequest, str], AnswerReading[T]],
    *,
    reminder: Callable[[JudgeRequest], str],
    cache: JudgeCache,
    settings: JudgeSettings | None = None,
    concurrency: int | None = None,
    progress: JudgeProgress | None = None,
) -> list[Judgement[T]]:
    """Answer every request, in a task group of at most ``concurrency`` workers.

    ``parse(request, answer)`` reads the answer (:func:`._answers.read_answer`); an
    answer it cannot read sends the judge its answer back with ``reminder(request)`` as
    the next user message, up to ``settings.max_attempts`` answers in all; the last
    reading's status stays. Results come back in the order of ``requests``.
    """
    settings = settings or JudgeSettings()
    progress = progress if progress is not None else JudgeProgress()
    progress.total += len(requests)
    workers = max(1, min(concurrency or backend_concurrency(backend), len(requests)))
    results: list[Judgement[T] | None] = [None] * len(requests)
    send, receive = anyio.create_memory_object_stream[int](workers)

    async def worker(queue: ObjectReceiveStream[int]) -> None:
        async with queue:
            async for index in queue:
                judgement = await _judge(
                    backend, requests[index], parse, reminder, cache, settings, progress
                )
                results[index] = judgement
                progress.count(judgement.status)

    async with anyio.create_task_group() as group:
        for _ in range(workers):
            group.start_soon(worker, receive.clone())
        receive.close()
        async with send:
            for index in range(len(requests)):
                await send.send(index)
    return [result for result in results if result is not None]


async def _judge(
    backend: ChatBackend,
    request: JudgeRequest,
    parse: Callable[[JudgeRequest, str], AnswerReading[T]],
    reminder: Callable[[JudgeRequest], str],
    cache: JudgeCache,
    settings: JudgeSettings,
    progress: JudgeProgress,
) -> Judgement[T]:
    messages = request.messages
    answers: list[str] = []
    calls = cached = 0

    def outcome(
        value: T | None, error: str | None, status: JudgementStatus = "parsed"
    ) -> Judgement[T]:
        return Judgement(
            request.corpus,
            request.dialogue_id,
            request.item,
            request.round,
            value,
            tuple(answers),
            error,
            calls,
            cached,
            status,
        )

    reading: AnswerReading[T] | None = None

    for attempt in range(1, settings.max_attempts + 1):
        seed = request_seed(settings.seed, request, attempt)
        key: CacheKey = (
            request.corpus,
            request.dialogue_id,
            request.item,
            request.round,
            attempt,
            backend.model,
            prompt_hash(messages, settings.sampling, seed),
        )
        answer = cache.get(key)
        if answer is None:
            try:
                completion = await backend.complete(messages, settings.sampling, seed=seed)
            except BackendError as exc:
                return outcome(None, f"{type(exc).__name__}: {exc}", "error")
            answer = completion.content
            cache.put(key, answer, completion.usage)
            calls += 1
            progress.calls += 1
            progress.usage += completion.usage
        else:
            cached += 1
            progress.cached += 1
        answers.append(answer)
        reading = parse(request, answer)
        if reading.ok:
            return outcome(reading.value, None)
        if attempt < settings.max_attempts:
            progress.retries += 1
            messages = (
                *request.messages,
                ChatMessage("assistant", answer),
                ChatMessage("user", reminder(request)),
            )
    assert reading is not None  # max_attempts >= 1
    plural = "s" if settings.max_attempts > 1 else ""
    last = f"{reading.status} after {settings.max_attempts} attempt{plural}: {reading.reason}"
    status: JudgementStatus = "refused" if reading.status == "refused" else "unparsable"
    return outcome(None, last, status)


# -- the judge's endpoint -------------------------------------------------------------


def judge_endpoint(
    base_urls: Iterable[str] = (),
    model: str | None = None,
    *,
    api_key_env: str | None = None,
    concurrency: int | None = None,
    rpm: int = 0,
    tpm: int = 0,
    timeout: float = 120.0,
    max_retries: int = 6,
) -> EndpointConfig:
    """A checked endpoint configuration; no base URL means the embedded local model."""
    urls = tuple(url.rstrip("/") for url in base_urls)
    for url in urls:
        check_url(url, field="base_url")
    if urls and not model:
        raise ConfigError("a model name is required with --base-url", field="model")
    if concurrency is not None and concurrency < 1:
        raise ConfigError("must be at least 1", field="concurrency")
    return EndpointConfig(
        base_urls=urls,
        model=model or "",
        api_key_env=api_key_env,
        concurrency=concurrency,
        rpm=rpm,
        tpm=tpm,
        timeout=timeout,
        max_retries=max_retries,
    )


@asynccontextmanager
async def open_judge(
    endpoint: EndpointConfig,
    *,
    local_model: str | None = None,
    stats: EngineStats | None = None,
) -> AsyncIterator[ChatEndpoint]:
    """The judge's :class:`ChatEndpoint`; starts the embedded model when it is local."""
    async with AsyncExitStack() as stack:
        if endpoint.is_local:
            server = LocalServer(LocalServerOptions(model=local_model))
            await stack.enter_async_context(server)
            endpoint = server.endpoint_for(endpoint)
        backend = ChatEndpoint(endpoint, stats=stats)
        stack.push_async_callback(backend.aclose)
        yield backend


def check_unique(corpora: Sequence[Corpus]) -> None:
    """Judgements are keyed by corpus name and dialogue id: both must be unique."""
    names = Counter(corpus.name for corpus in corpora)
    for name, count in names.items():
        if count > 1:
            raise InputError(f"{count} corpora are named {name!r}; give them distinct names")
    for corpus in corpora:
        ids = Counter(dialogue.id for dialogue in corpus.dialogues)
        repeated = [dialogue_id for dialogue_id, count in ids.items() if count > 1]
        if repeated:
            shown = ", ".join(repr(r) for r in repeated[:5])
            raise InputError(f"repeated dialogue ids: {shown}", file=corpus.name)


class CorpusJudge(Protocol):
    """A rater that reads one kind of answer (a topic list, a WAI score)."""

    def parse(self, answer: str) -> AnswerReading[Any]: ...

    def reminder(self) -> str: ...


J = TypeVar("J", bound=CorpusJudge)
S = TypeVar("S")


def one_per_corpus(judges: J | Sequence[J], corpora: Sequence[Corpus]) -> list[J]:
    """One judge for all corpora, or exactly one per corpus."""
    per_corpus = list(judges) if isinstance(judges, Sequence) else [judges] * len(corpora)
    if len(per_corpus) != len(corpora):
        raise ValueError("give one judge, or one judge per corpus")
    return per_corpus


DEFAULT_ROUNDS = 3
"""Rounds of every judged item (docs/method.md#evaluation: three rounds, averaged)."""


class JudgeRunOptions(TypedDict, total=False):
    """How a judged corpus run calls its judge (``rate_topics``, ``score_wai``)."""

    rounds: int
    settings: JudgeSettings | None
    concurrency: int | None
    progress: JudgeProgress | None


async def judge_corpora(
    corpora: Sequence[Corpus],
    judges: Sequence[J],
    backend: ChatBackend,
    *,
    requests_for: Callable[[Corpus, J, int], list[JudgeRequest]],
    summarise: Callable[[Corpus, J, list[Judgement[Any]], int], S],
    cache: JudgeCache,
    rounds: int = DEFAULT_ROUNDS,
    settings: JudgeSettings | None = None,
    concurrency: int | None = None,
    progress: JudgeProgress | None = None,
) -> list[S]:
    """Every request of every corpus through one pool of workers, then one summary each."""
    if rounds < 1:
        raise ConfigError("must be at least 1", field="rounds")
    check_unique(corpora)
    owner: dict[str, J] = {}
    requests: list[JudgeRequest] = []
    for corpus, judge in zip(corpora, judges, strict=True):
        owner[corpus.name] = judge
        requests += requests_for(corpus, judge, rounds)
    judgements = await run_judgements(
        backend,
        requests,
        lambda request, answer: owner[request.corpus].parse(answer),
        reminder=lambda request: owner[request.corpus].reminder(),
        cache=cache,
        settings=settings,
        concurrency=concurrency,
        progress=progress,
    )
    return [
        summarise(corpus, judge, [j for j in judgements if j.corpus == corpus.name], rounds)
        for corpus, judge in zip(corpora, judges, strict=True)
    ]
