"""The arena's tables as the paper defines them (Table 4, Figure 14): counted in dialogues.

The paper draws two bots per dialogue and the judge selects one reply per turn, so:

* **occurrences** of a bot = the dialogues it took part in (they sum to 2 x dialogues);
* **upvotes** of a bot in a dialogue = the turns at which its reply was selected; its
  **average upvotes** = total upvotes / occurrences (upvotes per dialogue);
* the **pair matrix** counts dialogues per pair of bots (symmetric; its upper triangle
  sums to the number of dialogues).

Our records can hold more than one battle per selection: a turn judged in both
presentation orders gives two battles. A *selection* is one (judge, dialogue, turn);
it upvotes a bot only when every readable battle of it chose that bot. A tie (any
battle of the selection judged a tie), a both-order disagreement (one order chose each
bot) and a selection whose battles were all unparsable upvote nobody, and are counted
as such. A dialogue is one (judge,
dialogue id): the same history labelled by two judges is two dialogues of the tables.
Unparsable battles still place their bots in the dialogue (they took part).

The per-battle figures (battles fought, battles won) stay in :mod:`.ratings`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from interactive_agents.arena._battles import Battle


@dataclass(frozen=True, slots=True, eq=False)
class DialogueTables:
    """Table 4 and Figure 14 in dialogues, indexed by ``models``.

    ``upvotes_per_dialogue[i]`` lists model i's upvotes in each of its dialogues.
    """

    models: tuple[str, ...]
    dialogues: int
    selections: int
    occurrences: NDArray[np.int64]
    upvotes: NDArray[np.int64]
    upvotes_per_dialogue: tuple[tuple[int, ...], ...]
    dialogue_counts: NDArray[np.int64]
    ties: int
    disagreements: int
    unparsable: int

    def average_upvotes(self, index: int) -> float:
        """Upvotes per dialogue of one model (NaN if it took part in none)."""
        seen = int(self.occurrences[index])
        return float(self.upvotes[index]) / seen if seen else float("nan")


def _selected(battles: Sequence[Battle]) -> str | None:
    """The bot a selection upvotes, or None (tie, disagreement, or nothing readable)."""
    chosen = {b.bot_a if b.winner == "a" else b.bot_b for b in battles if b.winner in ("a", "b")}
    ties = any(b.winner == "tie" for b in battles)
    return chosen.pop() if len(chosen) == 1 and not ties else None


def dialogue_tables(battles: Iterable[Battle], models: Sequence[str]) -> DialogueTables:
    """Count dialogues, occurrences, upvotes and pairs (see module doc) for ``models``."""
    index = {model: i for i, model in enumerate(models)}
    selections: dict[tuple[str, str, int], list[Battle]] = defaultdict(list)
    dialogues: dict[tuple[str, str], set[str]] = defaultdict(set)
    for battle in battles:
        selections[(battle.judge, battle.dialogue_id, battle.turn)].append(battle)
        dialogues[(battle.judge, battle.dialogue_id)].update(
            bot for bot in (battle.bot_a, battle.bot_b) if bot in index
        )
    per_dialogue: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    ties = disagreements = unparsable = 0
    for (judge, dialogue_id, _turn), group in selections.items():
        winner = _selected(group)
        if winner is not None:
            counts = per_dialogue[(judge, dialogue_id)]
            counts[winner] = counts.get(winner, 0) + 1
        elif any(b.winner == "tie" for b in group):
            ties += 1
        elif any(b.usable for b in group):
            disagreements += 1
        else:
            unparsable += 1
    n = len(models)
    pairs = np.zeros((n, n), dtype=np.int64)
    history: list[list[int]] = [[] for _ in models]
    for key, bots in dialogues.items():
        ordered = sorted(index[bot] for bot in bots)
        for i in ordered:
            history[i].append(per_dialogue[key].get(models[i], 0))
        for position, i in enumerate(ordered):
            for j in ordered[position + 1 :]:
                pairs[i, j] += 1
                pairs[j, i] += 1
    return DialogueTables(
        models=tuple(models),
        dialogues=len(dialogues),
        selections=len(selections),
        occurrences=np.array([len(h) for h in history], dtype=np.int64),
        upvotes=np.array([sum(h) for h in history], dtype=np.int64),
        upvotes_per_dialogue=tuple(tuple(h) for h in history),
        dialogue_counts=pairs,
        ties=ties,
        disagreements=disagreements,
        unparsable=unparsable,
    )
