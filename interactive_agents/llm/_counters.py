"""Live counters of LLM calls, updated in place by the endpoints that make them.

A plain dataclass of integers: the runtime's ``EngineStats`` extends it with dialogue
counts, so one object feeds a progress bar.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class CallCounters:
    """Calls, retries, errors and tokens since the counters were made (``truncated``:
    replies cut to an endpoint's ``max_response_bytes``)."""

    calls: int = 0
    calls_in_flight: int = 0
    retries: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    truncated: int = 0
