"""The terminator g (docs/method.md#termination): does an accepted counselor reply end the session?

Three ways of reading the phrase list (``actors/terminator.toml``):

``substring``
    The paper's criterion: any listed phrase anywhere in the reply. Its weakness is that
    a phrase used in passing ends the session: "take care of yourself" in a reply that
    goes on to ask a question, "下一次你可以…" in a piece of advice.
``closing``
    A phrase counts only in the reply's last sentence, and only when that sentence is
    not a question.
``farewell`` (the default)
    A phrase counts where it is said as a farewell: nothing after it in the reply asks
    anything or carries the conversation on (a question after "take care", or one of the
    card's ``continuations``, "Let's talk about it", "让我们…"), and it nearly is its
    clause, starting it and ending it within a few words ("Take care of yourself.",
    "Please take care.", "期待你下次再来，…"), rather than being part of another thought
    ("It's important to take care of yourself", "Next time you feel this way, try to…",
    "下一次你可以试着记录一下情绪"). This mode also reads the card's ``sign_offs``, the
    answers to a thanks that close a session ("You're welcome! … Good luck with your
    project!", "不客气，有其他问题随时可以问我。"), the same way: the paper's list has
    none, and without them a session whose parties have said goodbye runs on, trading
    thanks, to its turn cap. How each mode fares on hand-labelled sessions of the
    embedded models is measured in docs/quality.md#terminator-premature-endings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from interactive_agents.method._phrase_match import finds
from interactive_agents.method._records import Termination

TerminatorMode = Literal["substring", "closing", "farewell"]
TERMINATOR_MODES: tuple[TerminatorMode, ...] = ("farewell", "closing", "substring")
DEFAULT_TERMINATOR_MODE: TerminatorMode = "farewell"

_SENTENCES = re.compile(r"[^。！？!?.…]+[。！？!?.…]*")
_CLAUSE_END = re.compile(r"[。！？!?…,，;；:：、]|\.(?!\d)")
_QUESTION = re.compile(r"[?？]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")

FAREWELL_TAIL_WORDS = 2
"""Words a farewell's clause may hold after the phrase ("Take care of yourself", "Good
luck with everything"); more is a clause that goes on ("Next time you feel anxious")."""
FAREWELL_TAIL_HAN = 4
"""The same in Han characters ("期待你下次再来", "下一次我们再聊"; not "下一次你可以试试")."""
FAREWELL_HEAD_WORDS = 2
"""Words a farewell's clause may hold before the phrase ("Please", "And please"); more is
another thought ("It's important to take care of yourself")."""
FAREWELL_HEAD_HAN = 3
"""The same in Han characters ("希望你一切顺利", "也祝你好运")."""


@dataclass(frozen=True, slots=True)
class TerminatorRules:
    """The phrase list and matching mode of one run; ``sign_offs`` and
    ``continuations`` are read by the ``farewell`` mode only."""

    phrases: tuple[str, ...]
    mode: TerminatorMode = DEFAULT_TERMINATOR_MODE
    sign_offs: tuple[str, ...] = ()
    continuations: tuple[str, ...] = ()

    def check(self, reply: str) -> Termination | None:
        """A termination if ``reply`` ends the session, else None."""
        if self.mode == "farewell":
            return self._farewell(reply)
        text = reply if self.mode == "substring" else self._last_statement(reply)
        folded = text.casefold()
        for phrase in self.phrases:
            if phrase.casefold() in folded:
                return Termination("phrase", phrase)
        return None

    def _farewell(self, reply: str) -> Termination | None:
        folded = reply.casefold()
        for phrase in (*self.phrases, *self.sign_offs):
            wanted = phrase.casefold()
            start = folded.find(wanted)
            while start >= 0:
                end = start + len(wanted)
                # What follows may carry the conversation on ("Let's keep talking").
                if farewell_at(reply, start, end) and not finds(self.continuations, reply[end:]):
                    return Termination("phrase", phrase)
                start = folded.find(wanted, start + 1)
        return None

    @staticmethod
    def _last_statement(reply: str) -> str:
        sentences: list[str] = [s.strip() for s in _SENTENCES.findall(reply.strip()) if s.strip()]
        if not sentences or sentences[-1].endswith(("?", "？")):
            return ""
        return sentences[-1]


def farewell_at(reply: str, start: int, end: int) -> bool:
    """Whether the phrase at ``reply[start:end]`` is said as a farewell: no question
    follows it in the reply, and its clause holds little before and after it."""
    rest = reply[end:]
    if _QUESTION.search(rest):
        return False
    after = _CLAUSE_END.search(rest)
    tail = rest[: after.start()] if after else rest
    before = list(_CLAUSE_END.finditer(reply, 0, start))
    head = reply[before[-1].end() if before else 0 : start]
    return (
        _han(head) <= FAREWELL_HEAD_HAN
        and _words(head) <= FAREWELL_HEAD_WORDS
        and _han(tail) <= FAREWELL_TAIL_HAN
        and _words(tail) <= FAREWELL_TAIL_WORDS
    )


def _han(text: str) -> int:
    return len(_HAN.findall(text))


def _words(text: str) -> int:
    """Latin (and other non-Han) words."""
    return len(_WORD.findall(_HAN.sub(" ", text)))
