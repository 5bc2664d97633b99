"""Risk disclosures in client text (docs/safety.md#risk-detector): a lexicon with rules.

A :class:`RiskDetector` finds where a client discloses a risk of their own: thoughts of
suicide, self-harm, thoughts of harming someone else, or being abused, each ``direct``
("I want to die", "我想自杀") or ``indirect`` ("everyone would be better off without
me", "活着没意思"). It reads the lexicon and rules of ``actors/risk.<lang>.toml``, which
users edit: cue patterns per category and kind, negations ("I'm not suicidal",
"我从来没想过自杀"), third persons ("my friend wants to die", "我朋友想自杀") and
exclusions (idioms such as "笑死", "bored to death"), and passives that make the
client the one harmed ("我被一个亲戚性侵").

It is deliberately simple and fully deterministic: a cue counts when it is not inside an
exclusion, not negated within a few characters before it in its clause, and not said of
a third person in that clause. Its precision and recall on hand-labelled real posts are
measured in ``docs/safety.md``; it is a screen for research sessions, not a clinical
assessment.

The detector also says whether a counselor reply responds to a disclosure at all
(:meth:`RiskDetector.acknowledges`, the ``risk_unaddressed`` quality flag): the reply
names the risk (any cue pattern, negated or not: "have you thought of suicide?") or uses
one of the lexicon's acknowledgement phrases ("safe", "hotline", ...).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, get_args

from interactive_agents._resources import bundled_dir, read_toml, string_list
from interactive_agents.errors import ConfigError
from interactive_agents.method._cards import RoleCard
from interactive_agents.method._records import DisclosureKind, RiskCategory, RiskCue, Turn
from interactive_agents.method._seeds import fingerprint

PARROTED_RUN = 40
"""Characters copied verbatim from the client that make a parroted span: far longer than
the few words a reflection repeats ("you keep thinking about killing yourself"), as
long as a sentence copied whole."""
RISK_CATEGORIES: tuple[RiskCategory, ...] = get_args(RiskCategory)
"""The risks the detector looks for (docs/safety.md#risk-detector)."""
DISCLOSURE_KINDS: tuple[DisclosureKind, ...] = get_args(DisclosureKind)
COMPLAINTS_REMEMBERED = 100_000
"""Chief complaints a detector keeps the scan of (the text is the card's own string)."""


@dataclass(frozen=True, slots=True)
class CuePattern:
    """One cue pattern of the lexicon and the rules that apply to it."""

    category: RiskCategory
    kind: DisclosureKind
    pattern: re.Pattern[str]
    negatable: bool = True
    third_person: bool = True


@dataclass(frozen=True, slots=True)
class RiskLexicon:
    """The cues and rules of one language, as read from ``risk.<lang>.toml``."""

    language: str
    cues: tuple[CuePattern, ...]
    clause_break: re.Pattern[str]
    negation: re.Pattern[str] | None
    pseudo_negation: re.Pattern[str] | None
    negation_window: int
    third_person: re.Pattern[str] | None
    first_person: re.Pattern[str] | None
    passive: re.Pattern[str] | None
    exclusion: re.Pattern[str] | None
    acknowledgement: re.Pattern[str] | None


class RiskDetector:
    """Disclosures of risk in client text, under one lexicon (with its fingerprint)."""

    def __init__(self, lexicon: RiskLexicon) -> None:
        self.lexicon = lexicon
        self.fingerprint = fingerprint(_plain(lexicon))
        # Each cue as it is matched: without IGNORECASE on lowered text where the pattern
        # names no capital letter (Python's ``re`` is several times slower on
        # case-insensitive alternations, and every client turn of a run is scanned,
        # docs/performance.md), and its screen: the pattern without word boundaries,
        # searched once in the whole text, so that a turn where no cue can match skips
        # the clauses (most turns: their cost is then one search per cue).
        self._matchers = tuple(_CueMatcher.of(cue) for cue in lexicon.cues)
        self._complaints: dict[str, tuple[RiskCue, ...]] = {}

    @property
    def language(self) -> str:
        return self.lexicon.language

    def scan(self, text: str) -> tuple[RiskCue, ...]:
        """The client's own disclosures in ``text``, in order; overlapping cues are one
        (a direct cue wins over an indirect one, then the longer)."""
        lowered = text.lower()
        on_lowered = len(lowered) == len(text)  # else offsets in it are not the text's
        live: list[tuple[CuePattern, re.Pattern[str], bool]] = []
        for matcher in self._matchers:
            pattern, screen, lowered_fits = matcher.choice(on_lowered)
            if screen is None or screen.search(lowered if lowered_fits else text):
                live.append((matcher.cue, pattern, lowered_fits))
        if not live:
            return ()
        found: list[RiskCue] = []
        for offset, clause in _clauses(text, self.lexicon.clause_break):
            excluded = _spans(self.lexicon.exclusion, clause)
            low = lowered[offset : offset + len(clause)]
            for cue, pattern, lowered_clause in live:
                for match in pattern.finditer(low if lowered_clause else clause):
                    if match.end() == match.start() or _inside(match, excluded):
                        continue
                    if cue.negatable and self._negated(clause, match.start()):
                        continue
                    if cue.third_person and self._someone_else(clause[: match.start()]):
                        continue
                    start, end = offset + match.start(), offset + match.end()
                    found.append(RiskCue(cue.category, cue.kind, text[start:end], start, end))
        return _without_overlaps(found)

    def scan_complaint(self, text: str) -> tuple[RiskCue, ...]:
        """:meth:`scan` of a card's chief complaint, remembered: a run reads each card's
        several times (its plan, each session's record, its summary)."""
        found = self._complaints.get(text)
        if found is None:
            if len(self._complaints) >= COMPLAINTS_REMEMBERED:
                self._complaints.clear()
            found = self._complaints[text] = self.scan(text)
        return found

    def acknowledges(self, reply: str, said: str = "") -> bool:
        """Whether a counselor reply responds to risk: it names one (any cue pattern,
        whatever negation or person surrounds it) or uses an acknowledgement phrase, in
        its own words: what it copies verbatim from the client's ``said`` in runs of
        :data:`PARROTED_RUN` characters or more does not count (a small model that
        parrots a disclosure back has not responded to it)."""
        if said:
            reply = _without_parroted(reply, said)
        lexicon = self.lexicon
        if lexicon.acknowledgement is not None and lexicon.acknowledgement.search(reply):
            return True
        return any(cue.pattern.search(reply) for cue in lexicon.cues)

    def _negated(self, clause: str, start: int) -> bool:
        negation = self.lexicon.negation
        if negation is None:
            return False
        before = clause[max(0, start - self.lexicon.negation_window) : start]
        pseudo = self.lexicon.pseudo_negation
        if pseudo is not None:
            before = pseudo.sub(lambda m: " " * len(m.group()), before)
        return negation.search(before) is not None

    def _someone_else(self, before: str) -> bool:
        """A third person is the subject: named before the cue, with no first person
        after it, and not the agent of a passive the client is the patient of ("我被一个
        亲戚性侵": the client first, a passive marker, then the third person)."""
        lexicon = self.lexicon
        if lexicon.third_person is None:
            return False
        thirds = [match.span() for match in lexicon.third_person.finditer(before)]
        if not thirds:
            return False
        last_start, last_end = thirds[-1]
        first = lexicon.first_person
        if first is None:
            return True
        own = [
            m.start()
            for m in first.finditer(before)
            if not any(start <= m.start() < end for start, end in thirds)
        ]
        if any(position >= last_end for position in own):
            return False
        passive = lexicon.passive
        return passive is None or not any(
            passive.search(before, position, last_start) for position in own
        )


_CAPITAL = re.compile(r"(?<!\\)[A-Z]")  # a capital letter that is no escape (\S, \W, \B)


@dataclass(frozen=True, slots=True)
class _CueMatcher:
    """How one cue is matched: its pattern (the cue's), the pattern's copy for lowered
    text (None where it names a capital), and the screen of each (None where it holds an
    assertion other than a word boundary, which a screen could not drop)."""

    cue: CuePattern
    lowered: re.Pattern[str] | None
    screen: re.Pattern[str] | None
    lowered_screen: re.Pattern[str] | None

    @classmethod
    def of(cls, cue: CuePattern) -> _CueMatcher:
        text = cue.pattern.pattern
        lowered = None if _CAPITAL.search(text) else re.compile(text)
        free = _without_word_boundaries(text)
        screen = None if free is None else re.compile(free, cue.pattern.flags)
        lowered_screen = None if free is None or lowered is None else re.compile(free)
        return cls(cue, lowered, screen, lowered_screen)

    def choice(self, on_lowered: bool) -> tuple[re.Pattern[str], re.Pattern[str] | None, bool]:
        """The pattern, its screen, and whether they read the lowered text (given
        ``on_lowered``: lowering kept the text's offsets)."""
        if on_lowered and self.lowered is not None:
            return self.lowered, self.lowered_screen, True
        return self.cue.pattern, self.screen, False


def _without_word_boundaries(pattern: str) -> str | None:
    """``pattern`` with every ``\\b`` outside a character class dropped, or None when it
    holds another assertion (``^``, ``$``, ``\\A``, ``\\Z``, ``\\B``, a lookaround, a
    conditional).

    Without assertions, whether a pattern matches a span depends only on the span's
    characters, and dropping one only widens what matches: so a cue found in a clause
    is always found by its screen in the whole text, and a text the screens find
    nothing in has no cue in any clause.
    """
    kept: list[str] = []
    position, in_class = 0, False
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            pair = pattern[position : position + 2]
            if not in_class and pair in ("\\B", "\\A", "\\Z"):
                return None
            if in_class or pair != "\\b":
                kept.append(pair)
            position += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            opening = 2 if pattern.startswith("[^", position) else 1
            if pattern.startswith("]", position + opening):
                opening += 1  # a "]" first in a class is the character
            kept.append(pattern[position : position + opening])
            position += opening
            continue
        elif char in "^$" or pattern.startswith(_ASSERTING_GROUPS, position):
            return None
        kept.append(char)
        position += 1
    return "".join(kept)


_ASSERTING_GROUPS = ("(?=", "(?!", "(?<=", "(?<!", "(?(")


def _clauses(text: str, breaks: re.Pattern[str]) -> Iterator[tuple[int, str]]:
    start = 0
    for match in breaks.finditer(text):
        yield start, text[start : match.start()]
        start = match.end()
    yield start, text[start:]


def _spans(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    return [] if pattern is None else [m.span() for m in pattern.finditer(text)]


def _inside(match: re.Match[str], spans: Sequence[tuple[int, int]]) -> bool:
    """Whether the match overlaps one of the spans (an exclusion covers its cue)."""
    return any(start < match.end() and match.start() < end for start, end in spans)


def _without_overlaps(cues: list[RiskCue]) -> tuple[RiskCue, ...]:
    ranked = sorted(cues, key=lambda c: (c.kind != "direct", -(c.end - c.start), c.start))
    kept: list[RiskCue] = []
    for cue in ranked:
        if all(cue.end <= other.start or other.end <= cue.start for other in kept):
            kept.append(cue)
    return tuple(sorted(kept, key=lambda c: c.start))


def _plain(lexicon: RiskLexicon) -> Any:
    """The lexicon as JSON-able data (patterns as their text), for its fingerprint."""
    return _texts(asdict(lexicon))


def _texts(value: Any) -> Any:
    if isinstance(value, re.Pattern):
        return value.pattern
    if isinstance(value, dict):
        return {key: _texts(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_texts(item) for item in value]
    return value


# -- reading the lexicon -------------------------------------------------------------


def load_risk_detector(language: str, actors_dir: str | Path | None = None) -> RiskDetector | None:
    """The detector of ``risk.<language>.toml`` (from ``actors_dir``, else the bundled
    folder); None for a language with no lexicon in either."""
    folder = Path(actors_dir) if actors_dir is not None else bundled_dir("actors")
    path = folder / f"risk.{language}.toml"
    if not path.is_file():
        path = bundled_dir("actors") / path.name
    if not path.is_file():
        return None
    status = path.stat()
    return _detector(path.resolve(), (status.st_mtime_ns, status.st_size), language)


@functools.lru_cache(maxsize=16)
def _detector(path: Path, version: tuple[int, int], language: str) -> RiskDetector:
    """One detector per lexicon file as it is now (``version``: its modification time
    and size), so that a run's plan, sessions and summary share its remembered
    complaints."""
    return RiskDetector(_lexicon(read_toml(path, "risk lexicon"), language, path))


def _lexicon(data: dict[str, Any], language: str, path: Path) -> RiskLexicon:
    window = data.get("negation_window", 6)
    if not isinstance(window, int) or isinstance(window, bool) or window < 0:
        raise ConfigError("expected a whole number >= 0", file=str(path), field="negation_window")
    raw_cues = data.get("cues")
    if not isinstance(raw_cues, list) or not raw_cues:
        raise ConfigError("expected an array of tables [[cues]]", file=str(path), field="cues")
    cues: list[CuePattern] = []
    for number, entry in enumerate(raw_cues, 1):
        where = f"cues[{number}]"
        if not isinstance(entry, dict):
            raise ConfigError("expected a table", file=str(path), field=where)
        category, kind = entry.get("category"), entry.get("kind")
        if category not in RISK_CATEGORIES:
            message = f"expected one of {', '.join(RISK_CATEGORIES)}"
            raise ConfigError(message, file=str(path), field=f"{where}.category")
        if kind not in DISCLOSURE_KINDS:
            message = f"expected one of {', '.join(DISCLOSURE_KINDS)}"
            raise ConfigError(message, file=str(path), field=f"{where}.kind")
        flags = {name: entry.get(name, True) for name in ("negatable", "third_person")}
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise ConfigError("expected true or false", file=str(path), field=f"{where}.{name}")
        pattern = _alternation(entry, "patterns", path, where=where)
        if pattern is None:
            raise ConfigError("expected at least one pattern", file=str(path), field=where)
        cues.append(CuePattern(category, kind, pattern, **flags))
    clause_break = _alternation(data, "clause_breaks", path)
    return RiskLexicon(
        language=language,
        cues=tuple(cues),
        clause_break=clause_break or re.compile(r"\n"),
        negation=_alternation(data, "negations", path),
        pseudo_negation=_alternation(data, "pseudo_negations", path),
        negation_window=window,
        third_person=_alternation(data, "third_persons", path),
        first_person=_alternation(data, "first_persons", path),
        passive=_alternation(data, "passives", path),
        exclusion=_alternation(data, "exclusions", path),
        acknowledgement=_alternation(data, "acknowledgements", path),
    )


def _alternation(
    data: Mapping[str, Any], key: str, path: Path, *, where: str = ""
) -> re.Pattern[str] | None:
    """The list ``key`` of regular expressions as one pattern (longest first), or None."""
    field = f"{where}.{key}" if where else key
    items = string_list(data.get(key, []), path, field)
    for item in items:
        try:
            re.compile(item)
        except re.error as exc:
            message = f"not a regular expression: {item!r} ({exc})"
            raise ConfigError(message, file=str(path), field=field) from exc
    if not items:
        return None
    ordered = sorted(items, key=len, reverse=True)
    return re.compile("|".join(f"(?:{item})" for item in ordered), re.IGNORECASE)


# -- what cards and records carry ------------------------------------------------------


def risk_categories(texts: Iterable[str], detector: RiskDetector) -> tuple[RiskCategory, ...]:
    """The risk categories disclosed in any of ``texts``, in the order of RISK_CATEGORIES
    (a session's: its card text and its client turns)."""
    found = {cue.category for text in texts for cue in detector.scan(text)}
    return tuple(category for category in RISK_CATEGORIES if category in found)


def card_risk(card: RoleCard, detector: RiskDetector) -> tuple[RiskCue, ...]:
    """The disclosures in a card's chief complaint, the client's own words (the other
    fields describe the client in the third person, which the rules would discount)."""
    return detector.scan_complaint(card.chief_complaint)


def cards_at_risk(cards: Iterable[RoleCard], detector: RiskDetector) -> dict[str, int]:
    """How many cards carry a disclosure: ``cards`` for any risk, then per category."""
    counts = dict.fromkeys(("cards", *RISK_CATEGORIES), 0)
    for card in cards:
        categories = {cue.category for cue in card_risk(card, detector)}
        counts["cards"] += bool(categories)
        for category in categories:
            counts[category] += 1
    return counts


def risk_turns(turns: Sequence[Turn], detector: RiskDetector) -> tuple[Turn, ...]:
    """The turns with each client turn's disclosures in ``risk`` (None where none)."""
    return tuple(_with_risk(turn, detector) for turn in turns)


def _with_risk(turn: Turn, detector: RiskDetector) -> Turn:
    if turn.role != "client":
        return turn
    risk = detector.scan(turn.content) or None
    return turn if risk == turn.risk else replace(turn, risk=risk)


def risk_document(
    turns: Sequence[Turn], chief_complaint: str | None, detector: RiskDetector
) -> dict[str, object]:
    """A record's ``risk``: the categories disclosed, where (the card's chief complaint,
    transcript indices of client turns) and the detector's fingerprint."""
    card = detector.scan_complaint(chief_complaint) if chief_complaint else ()
    where = [i for i, turn in enumerate(turns) if turn.risk]
    categories = {cue.category for cue in card} | {
        cue.category for turn in turns for cue in turn.risk or ()
    }
    return {
        "categories": [name for name in RISK_CATEGORIES if name in categories],
        "card": [asdict(cue) for cue in card],
        "turns": where,
        "detector": detector.fingerprint,
    }


def _without_parroted(reply: str, said: str) -> str:
    """``reply`` with every run of ``PARROTED_RUN`` or more characters copied verbatim
    from ``said`` blanked out."""
    kept = list(reply)
    for block in SequenceMatcher(None, said, reply, autojunk=False).get_matching_blocks():
        if block.size >= PARROTED_RUN:
            kept[block.b : block.b + block.size] = " " * block.size
    return "".join(kept)
