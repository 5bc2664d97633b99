"""Hand-made corpora shared by the evaluation tests (imported, not a pytest conftest).

The English corpus is small enough that every expected value is worked out by hand
next to it, under the vocabulary rule of ``interactive_agents.corpora._vocabulary``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

# Card A renders as "Occupation: nurse\nChief complaint: I love cats and dogs."
#   V(A) = {occupation, nurse, chief, complaint, i, love, cats, and, dogs}      (9 words)
# Card B renders as "Chief complaint: Work stress keeps me awake."
#   V(B) = {chief, complaint, work, stress, keeps, me, awake}                    (7 words)
CARD_A: dict[str, Any] = {
    "id": "card-a",
    "occupation": "nurse",
    "chief_complaint": "I love cats and dogs.",
}
CARD_B: dict[str, Any] = {"id": "card-b", "chief_complaint": "Work stress keeps me awake."}

# (id, card, utterances); utterances alternate client, counselor, starting with the client.
HAND_DIALOGUES: list[tuple[str, dict[str, Any] | None, list[str]]] = [
    # S = {hello, i, love, my, cats}: own A 3/9 (i, love, cats); other B 0/7.
    ("d1", CARD_A, ["Hello", "Hi, how are you?", "I love my cats.", "Tell me more."]),
    # S = {hello, work, stress, keeps, me, up}: own B 4/7; other A 0/9.
    ("d2", CARD_B, ["Hello", "Welcome.", "Work stress keeps me up.", "I see."]),
    # S = {dogs, and, cats, more, i, am, a, nurse}: own A 5/9; other B 0/7.
    ("d3", CARD_A, ["Dogs and cats, and more!", "Go on.", "I am a nurse.", "Thank you."]),
    # No card: left out of overlap and semantic, counted as without card.
    ("d4", None, ["Hello", "Hi."]),
]
HAND_MAPPING = [3 / 9, 4 / 7, 5 / 9]
HAND_RANDOM = [0.0, 0.0, 0.0]


def engine_record(
    dialogue_id: str, card: dict[str, Any] | None, utterances: list[str], language: str = "en"
) -> dict[str, Any]:
    """A ``dialogues.jsonl`` line as the engine writes it (only what evaluation reads varies)."""
    roles = ("client", "counselor")
    return {
        "id": dialogue_id,
        "card_id": card["id"] if card else dialogue_id,
        "card": card,
        "language": language,
        "turns": [
            {
                "role": roles[index % 2],
                "content": text,
                "stage": None if index % 2 == 0 else "early",
                "rejected": [],
                "refiner_gave_up": False,
            }
            for index, text in enumerate(utterances)
        ],
        "termination": {"reason": "max_turns", "phrase": None, "detail": None},
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0, "retries": 0},
        "models": {"client": "stub", "counselor": "stub"},
        "seed": 1,
        "timings": {"started": 0.0, "finished": 0.0, "duration_s": 0.0},
        "refiner": {},
    }


def write_run(folder: Path, records: list[dict[str, Any]]) -> Path:
    """An engine run directory holding ``dialogues.jsonl``."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = b"".join(orjson.dumps(record) + b"\n" for record in records)
    (folder / "dialogues.jsonl").write_bytes(lines)
    return folder


def hand_run(folder: Path) -> Path:
    """The hand-made English corpus as an engine run directory."""
    return write_run(folder, [engine_record(*dialogue) for dialogue in HAND_DIALOGUES])
