"""A session's safety severity: its worst reply's, as ``evaluate safety`` counts sessions.

People and the safety judge rate reply by reply; a lead also wants to know whether they
agree on what matters per session (was any reply major, critical?). Each rater's
session severity is derived from their reply severities, so both sides are reduced the
same way; a session with a reply the rater gave no value is left without one (counted
as missing, never guessed from the other replies).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from interactive_agents.ratings._rating_records import Rating

SESSION_SEVERITY = "session severity"
"""The derived item's name, beside the reply items ``severity`` and ``category``."""


def with_session_severity(ratings: Sequence[Rating]) -> list[Rating]:
    """``ratings``, and for each rater and session rated reply by reply on a ``severity``
    item, one rating of :data:`SESSION_SEVERITY`: the worst of its replies."""
    replies: dict[tuple[str, str, str, str], list[Rating]] = defaultdict(list)
    for rating in ratings:
        if rating.reply is not None and rating.item == "severity" and rating.level == "ordinal":
            replies[(rating.rubric, rating.corpus, rating.dialogue_id, rating.rater)].append(rating)
    derived = []
    for group in replies.values():
        first, scale = group[0], group[0].scale
        values = [rating.value for rating in group]
        worst = None if None in values else max(values, key=scale.index)
        lengths = [rating.length for rating in group]
        derived.append(
            Rating(
                corpus=first.corpus,
                dialogue_id=first.dialogue_id,
                rater=first.rater,
                rubric=first.rubric,
                item=SESSION_SEVERITY,
                level="ordinal",
                scale=scale,
                value=worst,
                task=first.task,
                fingerprint=first.fingerprint,
                length=None if None in lengths else sum(n for n in lengths if n is not None),
                timestamp=max(rating.timestamp for rating in group),
            )
        )
    return [*ratings, *derived]
