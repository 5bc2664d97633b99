"""The vocabulary V(text) of the vocabulary overlap rate (docs/method.md#vocabulary-overlap-eq-1).

The exact rule:

1. Split the text into tokens. Chinese (``zh``): jieba's default accurate mode
   (``jieba.lcut(text)``, HMM on for unknown words); Latin words inside Chinese text come
   out as jieba splits them. English (``en``): after mapping the curly apostrophe ’ to
   ', every match of ``[^\\W_]+(?:'[^\\W_]+)*``, i.e. a maximal run of letters and digits
   that may contain inner apostrophes (``don't``, ``client's``); hyphens split words.
2. Lower-case every token (``str.lower``).
3. Drop every token that contains no letter or digit: punctuation, whitespace, symbols
   and emoji are not words. Numbers are words (``30``, ``3.5``).
4. Drop stop words, if a stop-word set is given (matched after lower-casing). None are
   dropped by default, as in the paper's Eq. 1.
5. V is the *set* of the remaining tokens.

``auto`` chooses one language for a whole corpus, so that S and R are always split the
same way: ``zh`` when CJK ideographs are more than half of all its letters, else ``en``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from interactive_agents.errors import InputError

Language = Literal["zh", "en"]

_ENGLISH_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_WORD_CHARACTER = re.compile(r"[^\W_]")
_LETTER = re.compile(r"[^\W\d_]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def vocabulary(
    text: str, language: Language, stopwords: frozenset[str] = frozenset()
) -> frozenset[str]:
    """V(text) under the rule of this module's docstring."""
    words: Iterable[str]
    if language == "zh":
        import jieba  # the eval extra; loaded only when Chinese text is split

        tokens = (token.lower() for token in jieba.lcut(text))
        words = (token for token in tokens if _WORD_CHARACTER.search(token))
    else:
        words = _ENGLISH_WORD.findall(text.replace("’", "'").lower())
    return frozenset(word for word in words if word not in stopwords)


def detect_language(texts: Iterable[str]) -> Language:
    """``zh`` when CJK ideographs are more than half of the letters of ``texts``."""
    ideographs = letters = 0
    for text in texts:
        ideographs += len(_CJK.findall(text))
        letters += len(_LETTER.findall(text))
    return "zh" if ideographs * 2 > letters else "en"


def read_stopwords(path: str | Path) -> frozenset[str]:
    """One stop word per line (UTF-8); blank lines and ``#`` comments are ignored."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the stop words: {exc}", file=str(path)) from exc
    return frozenset(
        word.lower() for line in lines if (word := line.strip()) and not word.startswith("#")
    )
