"""The client guard: the refiner's counterpart for client utterances (optional, off by default).

Small instruct models playing the client slip in four ways that spoil a session for
training: they repeat the counselor's last reply, they start talking as the counselor,
they recite the prompt or the stage cue, and they write chat-template tokens. The guard
rejects such a candidate so the client is asked again (bounded by ``max_attempts``);
every rejected candidate is kept in the turn's ``rejected`` list. When every attempt is
rejected the last candidate is kept, the turn flagged ``refiner_gave_up``, and the
session goes on: the quality flags of the finished session still show the problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from interactive_agents.method._quality import QualityRules, Spoken, echo_overlap, token_shingles
from interactive_agents.method._records import RefinerVerdict, Turn


@dataclass(frozen=True, slots=True)
class ClientGuard:
    """The checks of one run: the quality rules of its language and the attempt bound."""

    rules: QualityRules
    max_attempts: int = 3

    def check(self, text: str, turns: Sequence[Spoken]) -> RefinerVerdict:
        """Accept or reject a client candidate that would follow ``turns``."""
        limits = self.rules.thresholds
        last = next((t.content for t in reversed(turns) if t.role == "counselor"), None)
        long_enough = len(token_shingles(text)) >= limits.min_shingles
        if last is not None and long_enough:
            overlap = echo_overlap(text, last)
            if overlap >= limits.echo:
                return RefinerVerdict(
                    False, f"echoes the counselor ({overlap:.2f} >= {limits.echo})"
                )
        if self.rules.flips(Turn("client", text)):
            return RefinerVerdict(False, "speaks as the counselor")
        if self.rules.leaks(text):
            return RefinerVerdict(False, "repeats the prompt or the stage cue")
        token = self.rules.template.search(text)
        if token is not None:
            return RefinerVerdict(False, f"contains a chat-template token ({token.group()})")
        return RefinerVerdict(True)
