"""Content-free turns: what makes a session degenerate (the ``degenerate`` quality flag).

Small models fall into loops that say nothing: twelve turns of "你好！", "Thank you."
answered by "Thank you.", a sentence of pleasantry repeated to the token limit ("I'm glad
you're here. I'm glad you're here. …"), a few characters looped ("看到你看到你看到你").
A turn is *content-free* when, once its template tokens are dropped, it holds

* nothing but pleasantries (the ``[degenerate] pleasantries`` of
  ``actors/quality.<lang>.toml``: greetings, thanks, "nice to meet you", and the
  helper's formula and self-introduction, "How can I assist you today?",
  "有什么我可以帮你的吗？", "我是一个人工智能咨询师", whoever says them), give or take a
  tenth of its tokens (a pleasantry cut off by the token limit);
* or mostly pleasantries, with fewer content words besides than the language's minimum
  once the ``[degenerate] filler_words`` and function words are dropped
  (:func:`says_little`: the formula in a wording no list holds whole);
* or a loop of a few words: at most ``LOOP_BIGRAMS`` (16) distinct token bigrams, the
  turn at least twice as long ("看到你看到你看到你", "福制！福制！福制！");
* or a short reply (at most ``SHORT_WORDS`` (10) words, a Han character counting half a
  word) with nearly the same tokens (``NEAR_IDENTICAL``, 70 % of the two replies' tokens)
  as an earlier short reply of the same party: a garbled line said again with a word
  changed ("你好，翻一翻！", then "你好，你翻一翻！").

The session's measure is the largest share of content-free turns of one party (a party
with at least two of them). Pleasantry-only turns and those that say little are also
what echo and repetition leave out: there is nothing in them to copy.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

PLEASANTRY_SLACK = 0.1
LOOP_BIGRAMS = 16
SHORT_WORDS = 10
NEAR_IDENTICAL = 0.7


PhraseIndex = Mapping[str, Sequence[tuple[str, ...]]]


def phrase_index(phrases: Sequence[tuple[str, ...]]) -> PhraseIndex:
    """The phrases by their first token, longest first: a turn is scanned once, trying
    at each token only the phrases that start with it."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for phrase in sorted(phrases, key=len, reverse=True):
        index.setdefault(phrase[0], []).append(phrase)
    return index


def _without(tokens: list[str], index: PhraseIndex) -> list[str]:
    """``tokens`` with every occurrence of every phrase (longest first) taken out."""
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        for phrase in index.get(tokens[i], ()):
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                i += len(phrase)
                break
        else:
            rest.append(tokens[i])
            i += 1
    return rest


def pleasantries_only(tokens: list[str], index: PhraseIndex) -> bool:
    """Whether a turn says nothing but pleasantries (or nothing at all)."""
    return len(_without(tokens, index)) <= PLEASANTRY_SLACK * len(tokens)


def word_phrases(index: PhraseIndex) -> PhraseIndex:
    """The pleasantries of a word or more: a lone Han character (你, 好) is left out."""
    return {
        first: [phrase for phrase in phrases if len(phrase) > 1 or first.isascii()]
        for first, phrases in index.items()
    }


def says_little(
    tokens: list[str],
    index: PhraseIndex,
    words: PhraseIndex,
    function_words: frozenset[str],
    minimum: int,
) -> bool:
    """Whether a turn is mostly pleasantries and holds fewer than ``minimum`` distinct
    content words besides: the helper's formula in a wording no list holds whole ("I'm
    here to listen and help you feel better", "很高兴能和你聊聊") says as little as the
    listed one. ``words`` (:func:`word_phrases` of ``index``) must cover more than half
    of the turn, so a short line of its own ("Sorry, but I can't help you with that.",
    "请回答以下问题", "看到你看到你") is content."""
    if len(_without(tokens, words)) * 2 >= len(tokens):
        return False
    content = {
        token
        for token in _without(tokens, index)
        if token not in function_words and (len(token) > 2 or not token.isascii())
    }
    return len(content) < minimum


def looped(tokens: list[str]) -> bool:
    """Whether a turn is a few words said over and over."""
    bigrams = list(itertools.pairwise(tokens))
    distinct = len(set(bigrams))
    return 0 < distinct <= LOOP_BIGRAMS and len(bigrams) >= 2 * distinct


def content_free_turns(
    roles: Sequence[str], tokens: Sequence[list[str]], polite: Sequence[bool]
) -> list[bool]:
    """For each turn, whether it is content-free (see the module docstring), given
    which turns are pleasantries only or say little (``polite``)."""
    free = []
    short_seen: dict[str, list[frozenset[str]]] = {}
    for role, turn, courtesy in zip(roles, tokens, polite, strict=True):
        words = frozenset(turn)
        short = _short(words)
        mine = short_seen.setdefault(role, [])
        repeated = short and any(_overlap(words, seen) >= NEAR_IDENTICAL for seen in mine)
        free.append(repeated or courtesy or looped(turn))
        if short:
            mine.append(words)
    return free


def _short(words: frozenset[str]) -> bool:
    """Whether a reply's tokens make at most ``SHORT_WORDS`` words, a lone Han character
    counting half a word (a Chinese word is mostly two characters)."""
    if len(words) <= SHORT_WORDS:
        return True
    if len(words) > 2 * SHORT_WORDS:
        return False
    return sum(0.5 if len(word) == 1 and not word.isascii() else 1 for word in words) <= SHORT_WORDS


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """The tokens two replies share, of all the tokens of either."""
    return len(a & b) / len(a | b) if a or b else 0.0


def degenerate_share(roles: Sequence[str], free: Sequence[bool]) -> tuple[float, int | None]:
    """The largest share of content-free turns of one party (with at least two such
    turns), and the index of that party's first content-free turn."""
    best, where = 0.0, None
    for role in dict.fromkeys(roles):
        mine = [i for i, r in enumerate(roles) if r == role]
        empty = [i for i in mine if free[i]]
        if len(empty) >= 2 and len(empty) / len(mine) > best:
            best, where = len(empty) / len(mine), empty[0]
    return best, where


def phrase_tokens(phrases: Sequence[str], tokenize: re.Pattern[str]) -> tuple[tuple[str, ...], ...]:
    """The pleasantries as token tuples, longest first (for :func:`content_free`)."""
    found = {tuple(tokenize.findall(phrase.casefold())) for phrase in phrases}
    return tuple(sorted((p for p in found if p), key=len, reverse=True))
