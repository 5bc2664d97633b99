"""The terminator g (docs/method.md#termination): does an accepted counselor reply end the session?

``substring`` is the paper's criterion: any listed phrase anywhere in the reply.
Its known weakness is that a phrase in mid-sentence ("下一次你可以…") ends the session;
``closing`` counts a phrase only in the reply's last sentence, and only when that
sentence is not a question, which is how a farewell is actually phrased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from interactive_agents.method._records import Termination

TerminatorMode = Literal["substring", "closing"]

_SENTENCES = re.compile(r"[^。！？!?.…]+[。！？!?.…]*")


@dataclass(frozen=True, slots=True)
class TerminatorRules:
    """The phrase list and matching mode of one run."""

    phrases: tuple[str, ...]
    mode: TerminatorMode = "substring"

    def check(self, reply: str) -> Termination | None:
        """A termination if ``reply`` ends the session, else None."""
        text = reply if self.mode == "substring" else self._last_statement(reply)
        folded = text.casefold()
        for phrase in self.phrases:
            if phrase.casefold() in folded:
                return Termination("phrase", phrase)
        return None

    @staticmethod
    def _last_statement(reply: str) -> str:
        sentences: list[str] = [s.strip() for s in _SENTENCES.findall(reply.strip()) if s.strip()]
        if not sentences or sentences[-1].endswith(("?", "？")):
            return ""
        return sentences[-1]
