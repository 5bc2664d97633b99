"""Scripted replies: a request seen as a call of one dialogue role, answered by a script."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from interactive_agents.testing._faults import Fault


@dataclass(frozen=True)
class Call:
    """What a script sees of one request.

    Both roles of a dialogue talk to the same server: a request whose history (after the
    system prompt) opens with an ``assistant`` message comes from the client (its own
    greeting), one that opens with ``user`` from the counselor. ``turn`` counts from 1.
    """

    role: str
    turn: int
    messages: list[dict[str, str]]
    body: dict[str, Any]
    port: int

    @property
    def system(self) -> str:
        first = self.messages[0] if self.messages else {}
        return first["content"] if first.get("role") == "system" else ""

    @property
    def last_user(self) -> str:
        """The other party's latest utterance (a stage cue may follow it)."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")


Script = Callable[[Call], str | Fault]


def default_script(call: Call) -> str | Fault:
    """Polite, well-formed replies that never end the session."""
    if call.role == "client":
        return f"I keep worrying about it, part {call.turn}."
    return f"What goes through your mind when that happens, part {call.turn}?"


def call_of(body: dict[str, Any], messages: list[Any], port: int) -> Call:
    """The call a request makes: which role asks, at which turn."""
    history = [m for m in messages if isinstance(m, dict) and m.get("role") != "system"]
    role = "client" if history and history[0].get("role") == "assistant" else "counselor"
    users = sum(1 for m in history if m.get("role") == "user")
    return Call(role, users + 1 if role == "client" else users, messages, body, port)
