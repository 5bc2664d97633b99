"""1,000 real help-seeking posts at 500 concurrent dialogues, every record checked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from interactive_agents.method._cards import load_cards
from interactive_agents.method._records import DialogueRecord
from interactive_agents.runtime._engine import Engine
from interactive_agents.testing import Call, FakeServer

from .support import config_for, read_records

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

FAREWELL = "今天先聊到这里，保重。"


def planned_turns(complaint: str) -> int:
    """Each dialogue ends at a turn (2..7) derived from its card, so every record differs.

    The client's first utterance is always the greeting, so the earliest end is turn 2.
    """
    key = complaint.strip()[:20].encode()
    return hashlib.sha256(key).digest()[0] % 6 + 2


def script(call: Call) -> str:
    if call.role == "client":
        complaint = call.system.rsplit("你这次来咨询的主要困扰：", 1)[1]
        ending = call.turn >= planned_turns(complaint)
        return (
            f"第{call.turn}轮，我想今天就先这样吧。"
            if ending
            else f"第{call.turn}轮，我还是很难受。"
        )
    if "就先这样吧" in call.last_user:
        return FAREWELL
    return f"能多说说第{call.turn}轮时你的感受吗？"


async def test_thousand_cards_at_concurrency_500(reference: Path, tmp_path: Path) -> None:
    cards = load_cards(reference / "client_pool_train.json").cards
    server = FakeServer(script=script)
    server.start()
    try:
        config = config_for(
            server.base_url,
            language="zh",
            max_turns=10,
            max_in_flight=500,
            **{"endpoint.concurrency": 500},
        )
        async with Engine(config, run_dir=tmp_path) as engine:
            streamed = [record async for record in engine.run(cards)]
    finally:
        server.stop()

    assert len(streamed) == 1000 and all(isinstance(r, DialogueRecord) for r in streamed)
    records = read_records(tmp_path / "dialogues.jsonl")
    assert read_records(tmp_path / "failures.jsonl") == []
    assert sorted(r["id"] for r in records) == sorted(c.id for c in cards)
    by_id = {c.id: c for c in cards}
    for record in records:
        card = by_id[record["id"]]
        turns = record["turns"]
        expected = planned_turns(card.chief_complaint)
        assert record["card"]["chief_complaint"] == card.chief_complaint
        assert record["language"] == "zh"
        assert turns[0] == {
            "role": "client",
            "content": "你好",
            "stage": None,
            "rejected": [],
            "refiner_gave_up": False,
            "stage_source": None,
            "reasoning": None,
            "risk": None,
        }
        assert [t["role"] for t in turns] == ["client", "counselor"] * expected
        assert all(t["stage"] in {"early", "middle", "late"} for t in turns[1::2])
        assert turns[-1]["content"] == FAREWELL
        assert record["termination"] == {"reason": "phrase", "phrase": "保重", "detail": None}
        assert record["usage"]["calls"] == 2 * expected - 1
    assert engine.stats.in_flight == 0 and engine.stats.finished == 1000
