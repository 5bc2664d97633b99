"""Quality flags of one session: pure functions over its turns, for every layer to share.

The runtime (the client guard), training (export filters) and evaluation (reports) all
ask the same questions of a transcript, so the answers are defined once, here. Text is
split into *tokens* the same way in every language: each Han character is a token, and
so is each run of other letters or digits (casefolded); punctuation and spaces are
dropped. Overlaps are measured on token *shingles* (runs of ``n`` consecutive tokens):
in Chinese that is character n-grams, in English word n-grams.

The flags (``docs/quality.md`` gives the reasons for each default threshold):

``echo``
    The largest share, over turns, of a turn's token bigrams found in the other party's
    turn just before it (most of the turn copied). Flagged at ``>= echo`` (0.6).
``repetition``
    The largest share of the bigrams of one of a party's earlier turns found again in a
    later turn of the same party (half of the earlier turn or more said again).
    Flagged at ``>= repetition`` (0.5).
``role_flip``
    The number of turns in which a client says a phrase of the helper (or starts with
    the counselor's speaker label), or a counselor a phrase of the help-seeker; phrase
    lists are data in ``actors/quality.<lang>.toml`` (with those of the languages it
    names under ``also``: a model drifting into English speaks the formula in English),
    found as :mod:`._phrase_match` says: the helper's formula, and the helper's moves in
    the second person (advice, "你提到…", "I can see you're struggling"); a counselor
    accepting advice ("谢谢你的建议"). Flagged at ``>= 1``.
``prompt_leakage``
    The number of turns that copy a run of ``leak_ngram`` tokens (8 in Chinese, 6 in
    English) from the literal text of the system prompts or the stage cues (the card
    profile is left out: the client is meant to talk about it), or a run of
    ``leak_words`` content words (6 in Chinese, 3 in English; function words left out)
    of the prompts' self-description or the stage cue, a paraphrase ("help you think and
    question unhelpful thinking", "在第 3 轮处于咨询中期"), unless made only of the words
    that name the speaker and its role (a literal run too: "女性虚拟心理咨询师" is a name
    and a role); or a stage name of the prompt, with or without its bracketed label
    ("(insight)", "（领悟阶段）", "middle stage", "咨询中期"), or the cue's words around
    its turn number ("this is exchange", "这是第 3 轮", "这是第 3" at the end of a cut
    reply). Flagged at ``>= 1``.
``language_drift``
    The share of turns written mostly outside the run's language: a turn drifts when
    the run's script (Han characters for zh, Latin letters otherwise) is under half of
    its Han plus Latin letters (turns with fewer than 4 such letters, and turns of
    pleasantries only, such as "Hello" in a Chinese session, are not judged).
    Flagged at ``>= drift`` (0.1).
``premature_disclosure``
    The share of the card's vocabulary found in the client's first ``disclosure_turns``
    (3) utterances after the opening. Vocabulary: Han character bigrams and Latin words
    of 3 letters or more, minus the stop words of the phrase file; a caller may pass
    its own tokenizer. Flagged at ``>= disclosure`` (0.5); None without a card.
``premature_closure``
    The counselor-turn number at which either party first says a closing phrase (the
    terminator's phrases, or the client's closing phrases of the phrase file) or the
    counselor one of the terminator's sign-offs ("You're welcome! …") as a farewell,
    read as the terminator's ``farewell`` mode reads it (a "take care of yourself"
    followed by a question is no closing). Flagged when that is before
    counselor turn ``closure_turns`` (8); None when nobody closes.
``degenerate``
    The largest share of one party's turns that are content-free: pleasantries only
    (the helper's formula and self-introduction among them, whoever says them), mostly
    pleasantries with fewer than three content words besides (six Han characters in
    Chinese), a loop of a few tokens, or a short reply near-identical to one the party
    said before (:mod:`._degenerate`). Flagged at
    ``>= degenerate`` (0.5): a greeting loop, "Thank you." answered by "Thank you.",
    "有什么我可以帮你的吗？" from both sides.
``template_token``
    The number of turns holding a chat-template token (``<|im_end|>``,
    ``<end_of_turn>``…; ``actors/template_tokens.toml``). Flagged at ``>= 1``.

A turn shorter than ``min_shingles`` bigrams (3) is too short to echo or repeat
("Yes.", "嗯嗯") and is left out of those two flags, as is a turn of pleasantries only
or mostly (the helper's formula too, in any wording, however often it is traded): there
is nothing in it to copy.

A :class:`Flagger` is what callers use: it holds one language's rules and their
fingerprint, writes a session's flags as the document a record carries
(``simulate --quality-flags``), and is the one place that decides whether a record's
stored flags can be used (same rules and thresholds, same transcript and card) or must
be computed again.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import msgspec

from interactive_agents._recipes import FieldError
from interactive_agents._resources import bundled_dir, read_toml, string_list
from interactive_agents.errors import ConfigError
from interactive_agents.method._degenerate import (
    content_free_turns,
    degenerate_share,
    phrase_index,
    phrase_tokens,
    pleasantries_only,
    says_little,
    word_phrases,
)
from interactive_agents.method._phrase_match import finds, normalise
from interactive_agents.method._prompts import STAGES, PromptSet
from interactive_agents.method._risk import RiskDetector, load_risk_detector
from interactive_agents.method._seeds import fingerprint
from interactive_agents.method._template_tokens import strip_template, template_tokens
from interactive_agents.method._terminator import TerminatorRules

FLAG_NAMES = (
    "echo",
    "repetition",
    "role_flip",
    "prompt_leakage",
    "language_drift",
    "premature_disclosure",
    "premature_closure",
    "degenerate",
    "template_token",
    "risk_unaddressed",
)

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_HAN}]|[^\W_{_HAN}]+")
_HAN_CHAR = re.compile(rf"[{_HAN}]")
_LATIN_CHAR = re.compile(r"[A-Za-z\u00c0-\u024f]")
_LEAK_NGRAM = {"zh": 8, "en": 6}
_LEAK_WORDS = {"zh": 6, "en": 3}
_CONTENT_WORDS = {"zh": 6, "en": 3}
# Part of every rules fingerprint: raise it when a flag's definition changes, so flags
# stored in records under the old definition are computed again rather than reused.
QUALITY_DEFINITIONS = 6


class Spoken(Protocol):
    """Anything with a speaker and a text: a record's Turn or a corpus Utterance."""

    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...


Tokenizer = Callable[[str], Iterable[str]]


def text_tokens(text: str) -> list[str]:
    """Han characters one by one, other letter/digit runs as words, casefolded."""
    return _TOKEN.findall(text.casefold())


def token_shingles(text: str, n: int = 2) -> frozenset[tuple[str, ...]]:
    """Runs of ``n`` consecutive tokens; a text shorter than ``n`` is one shingle."""
    return _shingles(text_tokens(text), n)


def _shingles(tokens: list[str], n: int) -> frozenset[tuple[str, ...]]:
    if 0 < len(tokens) < n:
        return frozenset({tuple(tokens)})
    return frozenset(zip(*(tokens[i:] for i in range(n)), strict=False))


def jaccard(a: frozenset[Any], b: frozenset[Any]) -> float:
    """|a ∩ b| / |a ∪ b|, and 0 when both are empty (the union is only counted)."""
    common = len(a & b)
    union = len(a) + len(b) - common
    return common / union if union else 0.0


def containment(part: frozenset[Any], whole: frozenset[Any]) -> float:
    """|part ∩ whole| / |part|: how much of ``part`` is found in ``whole`` (0 if empty)."""
    return len(part & whole) / len(part) if part else 0.0


def echo_overlap(text: str, previous: str) -> float:
    """The echo measure of one turn against the other party's last turn: the share of
    the turn's bigrams found in it."""
    return containment(token_shingles(text), token_shingles(previous))


def script_share(text: str, language: str) -> float | None:
    """Share of the run's script among Han and Latin letters; None under 4 letters."""
    han = len(_HAN_CHAR.findall(text))
    latin = len(_LATIN_CHAR.findall(text))
    if han + latin < 4:
        return None
    return (han if language == "zh" else latin) / (han + latin)


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """Where each flag starts; ``leak_ngram`` None means 8 tokens in zh, 6 otherwise,
    ``leak_words`` None 6 content tokens in zh, 3 otherwise."""

    echo: float = 0.6
    repetition: float = 0.5
    min_shingles: int = 3
    role_flip: int = 1
    prompt_leakage: int = 1
    leak_ngram: int | None = None
    drift: float = 0.1
    disclosure: float = 0.5
    disclosure_turns: int = 3
    closure_turns: int = 8
    degenerate: float = 0.5
    template_token: int = 1
    risk_unaddressed: int = 1
    leak_words: int | None = None

    def __post_init__(self) -> None:
        for name in _THRESHOLD_NAMES:
            value = getattr(self, name)
            if value is not None and value < 0:
                raise FieldError("must not be negative", field=name)
        if self.leak_ngram == 0:
            raise FieldError("must be at least 1 (unset: 8 in zh, 6 in en)", field="leak_ngram")
        if self.leak_words == 0:
            raise FieldError("must be at least 1 (unset: 6 in zh, 3 in en)", field="leak_words")


_THRESHOLD_NAMES = (
    "echo", "repetition", "min_shingles", "role_flip", "prompt_leakage",
    "leak_ngram", "drift", "disclosure", "disclosure_turns", "closure_turns",
    "degenerate", "template_token",
    "risk_unaddressed", "leak_words",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class QualityRules:
    """Everything the flags of one language need: phrases, prompt shingles, thresholds."""

    language: str
    client_flip: tuple[str, ...]
    counselor_flip: tuple[str, ...]
    closing: tuple[str, ...]
    client_closing: tuple[str, ...]
    stopwords: frozenset[str]
    prompt_grams: frozenset[tuple[str, ...]] = frozenset()
    counselor_labels: tuple[str, ...] = ()
    thresholds: QualityThresholds = field(default_factory=QualityThresholds)
    pleasantries: tuple[tuple[str, ...], ...] = ()
    template: re.Pattern[str] = field(default_factory=template_tokens)
    cue_marks: tuple[str, ...] = ()
    cue_count: re.Pattern[str] | None = None
    risk: RiskDetector | None = None
    self_grams: frozenset[tuple[str, ...]] = frozenset()
    function_words: frozenset[str] = frozenset()
    filler_words: frozenset[str] = frozenset()
    sign_offs: tuple[str, ...] = ()
    continuations: tuple[str, ...] = ()

    @property
    def leak_ngram(self) -> int:
        return self.thresholds.leak_ngram or _LEAK_NGRAM.get(self.language, 6)

    @property
    def leak_words(self) -> int:
        return self.thresholds.leak_words or _LEAK_WORDS.get(self.language, 3)

    @property
    def applied_thresholds(self) -> QualityThresholds:
        """The thresholds with the run lengths of this language filled in."""
        return replace(self.thresholds, leak_ngram=self.leak_ngram, leak_words=self.leak_words)

    def flips(self, turn: Spoken) -> bool:
        """Does this turn speak as the other party (:mod:`._phrase_match` says how a
        phrase is found)? Template tokens are read as the spaces between the words."""
        text = strip_template(turn.content, self.template)
        if turn.role == "client":
            if any(normalise(text).startswith(normalise(label)) for label in self.counselor_labels):
                return True
            return finds(self.client_flip, text)
        return finds(self.counselor_flip, text)

    def leaks(self, text: str) -> bool:
        """Does this text copy ``leak_ngram`` tokens in a row from a prompt, or a stage
        cue's bracketed stage label ("(insight)", "（领悟阶段）")?"""
        return self.copies(text_tokens(text)) or self.cites_cue(text)

    def cites_cue(self, text: str) -> bool:
        """Does this text hold a bracketed stage label of the stage cue verbatim, or the
        cue's words around its turn number ("this is exchange", "这是第 3 轮")?"""
        folded = text.casefold()
        if self.cue_count is not None and self.cue_count.search(folded):
            return True
        return finds(self.cue_marks, folded)

    def copies(self, tokens: list[str]) -> bool:
        """Do these tokens (of :func:`text_tokens`) hold a prompt's ``leak_ngram`` run, or
        a ``leak_words`` run of the content words of its self-description or stage cue?"""
        if not _shingles(tokens, self.leak_ngram).isdisjoint(self.prompt_grams):
            return True
        words = content_words(tokens, self.function_words)
        return len(words) >= self.leak_words and not _shingles(words, self.leak_words).isdisjoint(
            self.self_grams
        )

    def closer(self, role: str) -> TerminatorRules:
        """How a turn of ``role`` closes the session: a closing phrase or a sign-off said
        as a farewell (method/_terminator.py)."""
        client = role == "client"
        phrases = self.closing + (self.client_closing if client else ())
        # A sign-off answers a thanks, which the counselor does: a client's "You're
        # welcome" is the client playing the helper (role_flip), not a goodbye.
        sign_offs = () if client else self.sign_offs
        return TerminatorRules(phrases, "farewell", sign_offs, self.continuations)

    def vocabulary(self, text: str) -> frozenset[str]:
        """The default disclosure vocabulary: Han bigrams and Latin words of 3+ letters."""
        words: set[str] = set()
        han: list[str] = []
        for token in [*text_tokens(text), ""]:
            if _HAN_CHAR.fullmatch(token):
                han.append(token)
                continue
            words.update("".join(han[i : i + 2]) for i in range(len(han) - 1))
            han = []
            if len(token) >= 3 and not token.isdigit():
                words.add(token)
        return frozenset(words - self.stopwords)


def content_words(tokens: list[str], function_words: frozenset[str]) -> list[str]:
    """The tokens that carry content, Latin words without their inflection ("helping",
    "helps" and "helped" read "help"): function words and Latin tokens of one or two
    letters ("a", "to", the "m" of "I'm") are left out, so that a paraphrase which keeps
    the content words in order ("helping people notice, question, and explore unhelpful
    thinking") reads as the sentence it paraphrases ("help people notice and question
    unhelpful thinking")."""
    return [
        _INFLECTION.sub("", token) if len(token) > 5 else token
        for token in tokens
        if token not in function_words and (len(token) > 2 or _HAN_CHAR.fullmatch(token))
    ]


_INFLECTION = re.compile(r"(?:ing|ed|s)$")


def self_description(prompts: PromptSet) -> tuple[str, ...]:
    """What the prompts say the speaker is, and where the session stands: the first
    paragraph of each system prompt and every stage cue (stage names filled in; the
    card and the turn numbers cut the text). A model paraphrasing these recites its
    prompt; the rest (rules, strategies, the risk protocol) is counseling language a
    counselor may well use in its own words."""
    firsts = [
        system.strip().split("\n\n", 1)[0]
        for system in (prompts.client.system, prompts.counselor.system)
    ]
    pieces = [piece for first in firsts for piece in _literal_pieces(first, {})]
    stage_names = prompts.counselor.stage_names
    for stage in STAGES:
        pieces.extend(
            _literal_pieces(prompts.counselor.stage_cue, {"stage_name": stage_names[stage]})
        )
    return tuple(piece for piece in pieces if piece.strip())


def prompt_texts(prompts: PromptSet) -> tuple[str, ...]:
    """The literal text of both system prompts and of every stage cue.

    Placeholders with a known value (the stage name) are filled in; the others (the
    card profile, turn numbers) cut the text, so no shingle spans them.
    """
    stage_names = prompts.counselor.stage_names
    pieces = [
        *_literal_pieces(prompts.client.system, {}),
        *_literal_pieces(prompts.counselor.system, {}),
    ]
    for stage in STAGES:
        pieces.extend(
            _literal_pieces(prompts.counselor.stage_cue, {"stage_name": stage_names[stage]})
        )
    return tuple(piece for piece in pieces if piece.strip())


def _literal_pieces(template: str, values: dict[str, str]) -> list[str]:
    pieces, current = [], ""
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        current += literal
        if name is None:
            continue
        if name in values:
            current += values[name]
        else:
            pieces.append(current)
            current = ""
    pieces.append(current)
    return pieces


def load_quality_rules(
    prompts: PromptSet,
    actors_dir: str | Path | None = None,
    thresholds: QualityThresholds | None = None,
) -> QualityRules:
    """The rules of ``prompts``' language from ``quality.<lang>.toml`` and the prompts."""
    path, data = _phrase_file(prompts.language, actors_dir)
    # A small model drifts into another language mid-session and speaks the other
    # side's formula there too: the phrase file names the languages whose role-flip
    # phrases apply as well (``also``).
    others = [_phrase_file(other, actors_dir) for other in _also(data, path)]
    chosen = thresholds or QualityThresholds()
    n = chosen.leak_ngram or _LEAK_NGRAM.get(prompts.language, 6)
    grams = frozenset().union(*(token_shingles(text, n) for text in prompt_texts(prompts)))
    function_words = frozenset(_words(data, path, "function_words"))
    words = chosen.leak_words or _LEAK_WORDS.get(prompts.language, 3)
    # Naming oneself, one's role and training is not leakage (GUIDE.md): a run made only
    # of such words ("female virtual counselor", "client centred work") does not count.
    identity = frozenset(content_words(list(_words(data, path, "identity")), frozenset()))
    self_grams = frozenset(
        gram
        for text in self_description(prompts)
        for gram in _shingles(content_words(text_tokens(text), function_words), words)
        if len(gram) == words and not identity.issuperset(gram)
    )
    return QualityRules(
        language=prompts.language,
        client_flip=_merged(data, path, others, "role_flip", "client"),
        counselor_flip=_merged(data, path, others, "role_flip", "counselor"),
        closing=prompts.terminator_phrases,
        sign_offs=prompts.terminator_sign_offs,
        continuations=prompts.terminator_continuations,
        client_closing=_phrases(data, path, "closing", "client"),
        stopwords=frozenset(word.casefold() for word in data.get("stopwords", ())),
        prompt_grams=frozenset(
            gram
            for gram in grams
            if len(gram) == n and not identity.issuperset(content_words(list(gram), frozenset()))
        ),
        self_grams=self_grams,
        function_words=function_words,
        filler_words=function_words | frozenset(_words(data, path, "filler_words", "degenerate")),
        counselor_labels=prompts.counselor.speaker_labels,
        thresholds=chosen,
        pleasantries=phrase_tokens(_phrases(data, path, "degenerate", "pleasantries"), _TOKEN),
        cue_marks=_cue_marks(prompts),
        cue_count=_cue_count(prompts.counselor.stage_cue),
        template=template_tokens(actors_dir),
        risk=load_risk_detector(prompts.language, actors_dir),
    )


_BRACKETED = re.compile(r"[(（][^()（）]+[)）]")


def _cue_marks(prompts: PromptSet) -> tuple[str, ...]:
    """The stage names' bracketed labels ("(insight)", "（领悟阶段）") and the names
    without them ("middle stage", "咨询中期"), casefolded: nobody names the prompt's
    stages in speech, so a turn holding one recites the stage cue or the stage rules
    ("In the middle stage, focus on the relationship…")."""
    names = prompts.counselor.stage_names.values()
    labels = {m for name in names for m in _BRACKETED.findall(name)}
    heads = {_BRACKETED.sub("", name).strip() for name in names}
    return tuple(sorted(mark.casefold() for mark in labels | heads if mark))


_CUE_WORDS = re.compile(r"[^\s(（;；,，:：.。]+(?:\s+[^\s(（;；,，:：.。]+)*\s*$")
_CUE_TAIL = re.compile(r"\s*(\w*)")


def _cue_count(cue: str) -> re.Pattern[str] | None:
    """The stage cue's own words around its turn number ("this is exchange {turn}",
    "这是第 {turn} 轮"), casefolded, any number or none in between: a model that recites
    the cue often drops the number ("(This is exchange )"). None when the cue has no
    turn number or fewer than three words or characters before it."""
    for literal, name, _spec, _conversion in string.Formatter().parse(cue):
        if name != "turn":
            continue
        words = _CUE_WORDS.search(literal)
        head = words.group(0).strip().casefold() if words else ""
        if len(head.split()) < 3 and len(head.replace(" ", "")) < 3:
            return None
        rest = cue[cue.index("{turn}") + len("{turn}") :]
        tail = _CUE_TAIL.match(rest)
        suffix = re.escape(tail.group(1).casefold()) if tail and tail.group(1) else ""
        body = r"\s+".join(re.escape(word) for word in head.split())
        # A reply cut by the token limit may stop right after the number ("这是第 3").
        return re.compile(rf"{body}\s*\d*\s*(?:{suffix}|$)" if suffix else rf"{body}")
    return None


def _phrase_file(language: str, actors_dir: str | Path | None) -> tuple[Path, dict[str, Any]]:
    """``quality.<language>.toml`` of ``actors_dir`` (else the bundled one), read."""
    folder = Path(actors_dir) if actors_dir is not None else bundled_dir("actors")
    path = folder / f"quality.{language}.toml"
    if not path.is_file() and actors_dir is not None:
        path = bundled_dir("actors") / path.name
    if not path.is_file():
        raise ConfigError(f"no quality phrases for language {language!r}", file=str(path))
    return path, read_toml(path, "phrase file")


def _also(data: dict[str, Any], path: Path) -> list[str]:
    value = data.get("also", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError("expected a list of language codes", file=str(path), field="also")
    return [language for language in value if language != data.get("language")]


def _merged(
    data: dict[str, Any],
    path: Path,
    others: list[tuple[Path, dict[str, Any]]],
    table: str,
    key: str,
) -> tuple[str, ...]:
    """One phrase list of this file, then the same list of each ``also`` language."""
    phrases = [_phrases(data, path, table, key)]
    phrases.extend(_phrases(other, other_path, table, key) for other_path, other in others)
    return tuple(dict.fromkeys(phrase for group in phrases for phrase in group))


def _words(
    data: dict[str, Any], path: Path, key: str, table: str = "prompt_leakage"
) -> Iterable[str]:
    """A word list of ``table``, casefolded (none when the table lacks it)."""
    if key not in data.get(table, {}):
        return ()
    return (word.casefold() for word in _phrases(data, path, table, key))


def _phrases(data: dict[str, Any], path: Path, table: str, key: str) -> tuple[str, ...]:
    return string_list(data.get(table, {}).get(key), path, f"{table}.{key}")


@dataclass(frozen=True, slots=True)
class Flag:
    """One flag of one session: its measure, the threshold, and whether it is raised.

    ``turn`` is the index (in the transcript) of the turn that decided the value.
    """

    name: str
    value: int | float | None  # counts are ints, shares and overlaps floats
    threshold: int | float
    flagged: bool
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class SessionQuality:
    """The quality flags of one session, in the order of ``FLAG_NAMES``.

    ``stored`` says they were read from the session's record rather than computed
    (they are the same flags either way, and compare equal).
    """

    flags: tuple[Flag, ...]
    stored: bool = field(default=False, compare=False)

    @property
    def raised(self) -> tuple[str, ...]:
        """The names of the flags that are raised."""
        return tuple(flag.name for flag in self.flags if flag.flagged)

    def flag(self, name: str) -> Flag:
        for candidate in self.flags:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


def _max_overlap(
    turns: Sequence[Spoken],
    shingles: list[frozenset[tuple[str, ...]]],
    minimum: int,
    free: Sequence[bool],
    *,
    own: bool,
) -> tuple[float, int | None]:
    """Largest overlap of a turn with the other's last turn (or with its own earlier
    ones); too short and content-free turns are left out."""
    best, where = 0.0, None
    for i, turn in enumerate(turns):
        if len(shingles[i]) < minimum or free[i]:
            continue
        if own:
            earlier = [j for j in range(i) if turns[j].role == turn.role]
        else:
            earlier = [j for j in range(i - 1, -1, -1) if turns[j].role != turn.role][:1]
        for j in earlier:
            if len(shingles[j]) < minimum or free[j]:
                continue
            score = containment(shingles[j] if own else shingles[i], shingles[i if own else j])
            if score > best:
                best, where = score, i
    return best, where


def assess_session(
    turns: Sequence[Spoken],
    rules: QualityRules,
    *,
    card_text: str | None = None,
    tokenize: Tokenizer | None = None,
) -> SessionQuality:
    """Every quality flag of one transcript (see the module docstring for definitions)."""
    limits = rules.thresholds
    spoken = [strip_template(turn.content, rules.template) for turn in turns]
    tokens = [text_tokens(text) for text in spoken]
    shingles = [_shingles(turn_tokens, 2) for turn_tokens in tokens]
    roles = [turn.role for turn in turns]
    courtesies = phrase_index(rules.pleasantries)
    polite = [pleasantries_only(turn_tokens, courtesies) for turn_tokens in tokens]
    minimum = _CONTENT_WORDS.get(rules.language, 3)
    words = word_phrases(courtesies)
    light = [
        courtesy or says_little(turn_tokens, courtesies, words, rules.filler_words, minimum)
        for courtesy, turn_tokens in zip(polite, tokens, strict=True)
    ]
    free = content_free_turns(roles, tokens, light)
    echo, echo_at = _max_overlap(turns, shingles, limits.min_shingles, light, own=False)
    repeat, repeat_at = _max_overlap(turns, shingles, limits.min_shingles, light, own=True)
    degenerate, degenerate_at = degenerate_share(roles, free)
    templated = [i for i, turn in enumerate(turns) if rules.template.search(turn.content)]
    flips = [i for i, turn in enumerate(turns) if rules.flips(turn)]
    leaks = [
        i
        for i, turn_tokens in enumerate(tokens)
        if rules.copies(turn_tokens) or rules.cites_cue(spoken[i])
    ]
    shares = [
        (i, None if polite[i] else script_share(text, rules.language))
        for i, text in enumerate(spoken)
    ]
    judged = [(i, share) for i, share in shares if share is not None]
    drifted = [i for i, share in judged if share < 0.5]
    drift = len(drifted) / len(judged) if judged else 0.0
    disclosure = _disclosure(
        turns, card_text, tokenize or rules.vocabulary, limits.disclosure_turns
    )
    closure, closure_at = _closure(turns, rules)
    unaddressed = _unaddressed(turns, rules.risk)
    return SessionQuality(
        (
            Flag("echo", echo, limits.echo, echo >= limits.echo, echo_at),
            Flag("repetition", repeat, limits.repetition, repeat >= limits.repetition, repeat_at),
            _count_flag("role_flip", flips, limits.role_flip),
            _count_flag("prompt_leakage", leaks, limits.prompt_leakage),
            Flag(
                "language_drift",
                drift,
                limits.drift,
                bool(judged) and drift >= limits.drift,
                drifted[0] if drifted else None,
            ),
            Flag(
                "premature_disclosure",
                disclosure,
                limits.disclosure,
                disclosure is not None and disclosure >= limits.disclosure,
            ),
            Flag(
                "premature_closure",
                closure,
                limits.closure_turns,
                closure is not None and closure < limits.closure_turns,
                closure_at,
            ),
            Flag(
                "degenerate",
                degenerate,
                limits.degenerate,
                degenerate >= limits.degenerate,
                degenerate_at,
            ),
            _count_flag("template_token", templated, limits.template_token),
            _count_flag("risk_unaddressed", unaddressed, limits.risk_unaddressed)
            if unaddressed is not None
            else Flag("risk_unaddressed", None, limits.risk_unaddressed, False),
        )
    )


def _unaddressed(turns: Sequence[Spoken], detector: RiskDetector | None) -> list[int] | None:
    """Indices of client turns disclosing a risk that the next counselor reply ignores."""
    if detector is None:
        return None
    missed = []
    for i, turn in enumerate(turns):
        if turn.role != "client" or not detector.scan(turn.content):
            continue
        reply = next((t for t in turns[i + 1 :] if t.role == "counselor"), None)
        if reply is not None and not detector.acknowledges(reply.content, turn.content):
            missed.append(i)
    return missed


def _count_flag(name: str, where: list[int], threshold: int) -> Flag:
    return Flag(name, len(where), threshold, len(where) >= threshold, where[0] if where else None)


def _disclosure(
    turns: Sequence[Spoken], card_text: str | None, tokenize: Tokenizer, first: int
) -> float | None:
    """Share of the card's vocabulary in the client's first utterances after the opening."""
    if not card_text:
        return None
    card = set(tokenize(card_text))
    if not card:
        return None
    client = [turn.content for turn in turns if turn.role == "client"][1 : first + 1]
    said = set().union(*(set(tokenize(text)) for text in client)) if client else set()
    return len(card & said) / len(card)


def _closure(turns: Sequence[Spoken], rules: QualityRules) -> tuple[float | None, int | None]:
    """(counselor turn number, transcript index) of the first closing phrase, if any."""
    closers = {role: rules.closer(role) for role in ("client", "counselor")}
    counselor_turns = 0
    for i, turn in enumerate(turns):
        if turn.role == "counselor":
            counselor_turns += 1
        closer = closers["client" if turn.role == "client" else "counselor"]
        if closer.check(turn.content) is not None:
            # A client's closing line comes after counselor turn n: it closes turn n + 1.
            number = counselor_turns if turn.role == "counselor" else counselor_turns + 1
            return float(number), i
    return None, None


def flag_table(quality: SessionQuality) -> dict[str, dict[str, Any]]:
    """Each flag's value, threshold, whether raised and deciding turn, by flag name."""
    return {
        flag.name: {k: v for k, v in asdict(flag).items() if k != "name"} for flag in quality.flags
    }


def rules_fingerprint(rules: QualityRules) -> str:
    """What the flags of a transcript depend on besides the transcript and the card."""
    thresholds = rules.applied_thresholds
    return fingerprint(
        {
            "definitions": QUALITY_DEFINITIONS,
            "language": rules.language,
            "client_flip": rules.client_flip,
            "counselor_flip": rules.counselor_flip,
            "closing": rules.closing,
            "client_closing": rules.client_closing,
            "sign_offs": rules.sign_offs,
            "continuations": rules.continuations,
            "stopwords": sorted(rules.stopwords),
            "prompt_grams": sorted(rules.prompt_grams),
            "self_grams": sorted(rules.self_grams),
            "function_words": sorted(rules.function_words),
            "filler_words": sorted(rules.filler_words),
            "counselor_labels": rules.counselor_labels,
            "thresholds": asdict(thresholds),
            "pleasantries": rules.pleasantries,
            "template": rules.template.pattern,
            "cue_marks": rules.cue_marks,
            "cue_count": rules.cue_count.pattern if rules.cue_count else None,
            "risk": rules.risk.fingerprint if rules.risk is not None else None,
        }
    )


@dataclass(frozen=True, slots=True)
class Flagger:
    """The quality flags of sessions under one set of rules, computed or read back.

    A record's ``quality`` document (:meth:`document`) names the rules that produced
    it by their fingerprint; :meth:`assess` reuses it only under the same fingerprint.
    """

    rules: QualityRules
    fingerprint: str

    @classmethod
    def of(cls, rules: QualityRules) -> Flagger:
        return cls(rules, rules_fingerprint(rules))

    def assess(
        self, turns: Sequence[Spoken], *, card_text: str | None, stored: object = None
    ) -> SessionQuality:
        """The session's flags: ``stored`` (a record's document) when it was made under
        these rules from this transcript and card, else computed from them."""
        reused = self.reusable(stored, turns, card_text=card_text)
        if reused is not None:
            return reused
        return assess_session(turns, self.rules, card_text=card_text)

    def reusable(
        self, stored: object, turns: Sequence[Spoken], *, card_text: str | None
    ) -> SessionQuality | None:
        """The flags of a record's document, if these rules produced it from this very
        transcript and card (a record edited since, e.g. redacted, is computed again)
        and it is whole."""
        if not isinstance(stored, dict) or stored.get("rules") != self.fingerprint:
            return None
        table = stored.get("flags")
        if not isinstance(table, dict) or stored.get("transcript") != _content(turns, card_text):
            return None
        try:
            flags = tuple(
                msgspec.convert({**table[name], "name": name}, Flag) for name in FLAG_NAMES
            )
        except (KeyError, TypeError, msgspec.ValidationError):
            return None
        return SessionQuality(flags, stored=True)

    def document(
        self, quality: SessionQuality, turns: Sequence[Spoken], *, card_text: str | None
    ) -> dict[str, Any]:
        """The ``quality`` field of a record: every flag, the raised ones, the thresholds
        (``leak_ngram`` and ``leak_words`` as applied), the fingerprint of the rules and that of the
        transcript and card the flags were computed from."""
        thresholds = self.rules.applied_thresholds
        return {
            "raised": list(quality.raised),
            "flags": flag_table(quality),
            "thresholds": asdict(thresholds),
            "rules": self.fingerprint,
            "transcript": _content(turns, card_text),
        }


def _content(turns: Sequence[Spoken], card_text: str | None) -> str:
    """The fingerprint of what the flags were computed from besides the rules."""
    return fingerprint([card_text, *([turn.role, turn.content] for turn in turns)])
