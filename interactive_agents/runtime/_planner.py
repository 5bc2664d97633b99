"""What a simulation run will cost, predicted from its configuration without any call.

The model follows :class:`~.dialogue_loop.DialogueLoop` request by request, assuming
every dialogue runs to ``max_turns`` (a termination phrase only makes it shorter):

- **Calls.** Counselor turn ``t`` (1..T) asks for ``m`` candidates on average, where a
  candidate is rejected with probability ``p`` (independently) and at most ``A``
  (``refiner.max_attempts``) are asked: ``m = 1 + p + ... + p**(A - 1)``. The client
  is asked once after every counselor turn but the last (T - 1 calls); the greeting
  is fixed text, not a call.
- **Prompt tokens** are counted with the engine's own TPM estimate
  (:func:`~interactive_agents.llm._endpoint.estimate_tokens`): the system prompt (the
  client's holds its card), the greeting, the stage cue of the turn, and every earlier
  reply at its assumed length plus the estimate's per-message overhead. Each request
  resends its role's whole history, so prompt tokens grow with the square of the turns.
- **Cacheable tokens** are the prefix a request repeats from the previous request of
  its stream (one role of one dialogue): everything but the last stage cue, and the
  whole prompt for a regenerated candidate. A stream's first request has none.
- **Wall time** is the largest of the bounds the configured limits set: dialogues
  (``max_in_flight`` at once, each a chain of calls of ``latency + reply tokens /
  tokens_per_second``), and per endpoint its concurrency (busy time / slots), ``rpm``
  and ``tpm`` (prompt plus completion tokens, as the TPM limiter counts them).
- **Cost** from prices per million tokens: uncached prompt tokens at the input price,
  cacheable ones at the cached price (assuming the cache holds them), completions at
  the output price.
- **Risk**: how many cards' chief complaints disclose a risk (the risk detector,
  docs/safety.md#risk-detector), in all and per category: the sessions whose handling
  the counselor's crisis rule and the safety judge are about.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, astuple, dataclass

from interactive_agents.llm._endpoint import estimate_tokens
from interactive_agents.llm._messages import ChatMessage
from interactive_agents.method._cards import RoleCard
from interactive_agents.method._config import RoleConfig, RunConfig
from interactive_agents.method._prompts import PromptSet, load_prompts
from interactive_agents.method._risk import cards_at_risk, load_risk_detector

MESSAGE_OVERHEAD = estimate_tokens([ChatMessage("user", "")])
"""What the estimate adds per message, on top of its content."""


@dataclass(frozen=True, slots=True)
class PlanAssumptions:
    """What a plan cannot read from the configuration, with defaults that say so.

    ``*_reply_tokens`` of None take the role's ``max_tokens`` (an upper bound: real
    replies are usually shorter; a finished run's completion tokens per call give the
    mean for the next plan). ``rejection_rate`` 0 assumes the refiner accepts every
    first candidate (a run's ``refiner_rejections`` over its counselor turns measures
    it). ``latency`` is a call's fixed time (network, queue, prefill) and
    ``tokens_per_second`` one request's decode speed. Prices are per million tokens;
    the cached price defaults to the input price.
    """

    client_reply_tokens: int | None = None
    counselor_reply_tokens: int | None = None
    rejection_rate: float = 0.0
    latency: float = 0.5
    tokens_per_second: float = 40.0
    price_input: float | None = None
    price_output: float | None = None
    price_cached: float | None = None

    def reply_tokens(self, role: str, config: RoleConfig) -> int:
        given = self.client_reply_tokens if role == "client" else self.counselor_reply_tokens
        return config.sampling.max_tokens if given is None else given

    @property
    def priced(self) -> bool:
        return self.price_input is not None or self.price_output is not None


@dataclass(frozen=True, slots=True)
class StreamLoad:
    """Expected calls and tokens of one role (over all dialogues, or one)."""

    calls: float = 0.0
    prompt_tokens: float = 0.0
    completion_tokens: float = 0.0
    cacheable_tokens: float = 0.0

    def __add__(self, other: StreamLoad) -> StreamLoad:
        return StreamLoad(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def with_system(self, system_tokens: int) -> StreamLoad:
        """This load of a stream's history plus its system prompt, which opens every
        request and is cacheable in all but the stream's first."""
        return StreamLoad(
            self.calls,
            self.prompt_tokens + self.calls * system_tokens,
            self.completion_tokens,
            self.cacheable_tokens + max(self.calls - 1, 0) * system_tokens,
        )

    def scaled(self, factor: float) -> StreamLoad:
        return StreamLoad(*(value * factor for value in astuple(self)))


@dataclass(frozen=True, slots=True)
class RunPlan:
    """The prediction for a run: load per role, wall time and its binding limit, cost."""

    dialogues: int
    max_turns: int
    assumptions: PlanAssumptions
    client: StreamLoad
    counselor: StreamLoad
    wall_s: float
    bound: str
    bounds: dict[str, float]
    cost: float | None
    cost_without_cache: float | None
    risk_cards: dict[str, int] | None = None

    @property
    def total(self) -> StreamLoad:
        return self.client + self.counselor

    @property
    def cacheable_share(self) -> float:
        total = self.total
        return total.cacheable_tokens / total.prompt_tokens if total.prompt_tokens else 0.0

    def to_dict(self) -> dict[str, object]:
        """The plan as JSON: expected counts rounded to whole calls and tokens."""

        def counts(load: StreamLoad) -> dict[str, int]:
            return {name: round(value) for name, value in asdict(load).items()}

        return {
            "dialogues": self.dialogues,
            "max_turns": self.max_turns,
            **counts(self.total),
            "cacheable_share": round(self.cacheable_share, 4),
            "roles": {"client": counts(self.client), "counselor": counts(self.counselor)},
            "wall_s": round(self.wall_s, 2),
            "bound": self.bound,
            "bounds_s": {name: round(value, 2) for name, value in self.bounds.items()},
            "cost": _round_money(self.cost),
            "cost_without_cache": _round_money(self.cost_without_cache),
            "assumptions": asdict(self.assumptions),
            "risk_cards": self.risk_cards,
        }


def _round_money(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def expected_candidates(rejection_rate: float, attempts: int) -> float:
    """Candidates asked per counselor turn: the k-th is asked if k - 1 were rejected."""
    return sum(rejection_rate**k for k in range(attempts))


def plan_run(
    config: RunConfig,
    cards: Sequence[RoleCard],
    assumptions: PlanAssumptions | None = None,
    *,
    prompts: PromptSet | None = None,
) -> RunPlan:
    """Predict the calls, tokens, wall time and cost of playing ``cards`` under ``config``.

    ``prompts`` default to the run's own (its language, actors folder and options).
    """
    assumptions = assumptions or PlanAssumptions()
    if prompts is None:
        prompts = load_prompts(
            config.language,
            config.actors_dir,
            client_resistance=config.prompts.client_resistance,
            crisis_rule=config.prompts.crisis_rule,
        )
    turns = config.max_turns
    client_reply = assumptions.reply_tokens("client", config.client)
    counselor_reply = assumptions.reply_tokens("counselor", config.counselor)
    candidates = expected_candidates(assumptions.rejection_rate, config.refiner.max_attempts)
    greeting = estimate_tokens([ChatMessage("user", prompts.client.opening)])
    counselor_turn = counselor_reply + MESSAGE_OVERHEAD
    client_turn = client_reply + MESSAGE_OVERHEAD

    counselor = StreamLoad()
    previous_history = 0.0  # the previous request's prompt without its cue (no system)
    for turn in range(1, turns + 1):
        history = greeting + (turn - 1) * (counselor_turn + client_turn)
        prompt = history + _cue_tokens(config, prompts, turn)
        cached_first = previous_history if turn > 1 else 0.0
        counselor += StreamLoad(
            candidates,
            candidates * prompt,
            candidates * counselor_reply,
            cached_first + (candidates - 1) * prompt,
        )
        previous_history = history
    client = StreamLoad()
    for turn in range(1, turns):  # asked after counselor turn `turn`, for the next one
        prompt = greeting + turn * counselor_turn + (turn - 1) * client_turn
        previous = greeting + (turn - 1) * counselor_turn + (turn - 2) * client_turn
        client += StreamLoad(1, prompt, client_reply, previous if turn > 1 else 0.0)

    dialogues = len(cards)
    counselor_system = estimate_tokens([prompts.counselor.system_message()])
    counselor_total = counselor.with_system(counselor_system).scaled(dialogues)
    client_total = StreamLoad()
    for card in cards:
        system = estimate_tokens([prompts.client.system_message(card, turns)])
        client_total += client.with_system(system)

    durations = {
        "client": assumptions.latency + client_reply / assumptions.tokens_per_second,
        "counselor": assumptions.latency + counselor_reply / assumptions.tokens_per_second,
    }
    loads = {"client": client_total, "counselor": counselor_total}
    chain = counselor.calls * durations["counselor"] + client.calls * durations["client"]
    bounds = {"dialogues": math.ceil(dialogues / config.max_in_flight) * chain}
    bounds |= _endpoint_bounds(config, loads, durations)
    bound = max(bounds, key=lambda name: bounds[name])
    cost, uncached = _costs(client_total + counselor_total, assumptions)
    detector = load_risk_detector(config.language, config.actors_dir)
    return RunPlan(
        dialogues=dialogues,
        max_turns=turns,
        assumptions=assumptions,
        client=client_total,
        counselor=counselor_total,
        wall_s=bounds[bound],
        bound=bound,
        bounds=bounds,
        cost=cost,
        cost_without_cache=uncached,
        risk_cards=None if detector is None else cards_at_risk(cards, detector),
    )


def _cue_tokens(config: RunConfig, prompts: PromptSet, turn: int) -> int:
    """The stage cue that closes counselor turn ``turn``'s request (0 without cues)."""
    if not config.stages.tells_counselor:
        return 0
    stage = config.stages.stage(turn, config.max_turns)
    return estimate_tokens([prompts.counselor.cue(stage, turn, config.max_turns)])


def _endpoint_bounds(
    config: RunConfig, loads: dict[str, StreamLoad], durations: dict[str, float]
) -> dict[str, float]:
    """Concurrency, RPM and TPM bounds of each endpoint; roles on one endpoint share it,
    as the engine shares one backend (and its limits) between them."""
    endpoints: dict[object, list[str]] = {}
    for role in ("client", "counselor"):
        endpoints.setdefault(getattr(config, role).endpoint.key(), []).append(role)
    bounds: dict[str, float] = {}
    for roles in endpoints.values():
        endpoint = getattr(config, roles[0]).endpoint
        name = "+".join(roles)
        calls = sum(loads[role].calls for role in roles)
        busy = sum(loads[role].calls * durations[role] for role in roles)
        bounds[f"{name} concurrency"] = busy / endpoint.max_concurrency
        if endpoint.rpm:
            bounds[f"{name} rpm"] = calls * 60 / endpoint.rpm
        if endpoint.tpm:
            tokens = sum(loads[r].prompt_tokens + loads[r].completion_tokens for r in roles)
            bounds[f"{name} tpm"] = tokens * 60 / endpoint.tpm
    return bounds


def _costs(total: StreamLoad, assumptions: PlanAssumptions) -> tuple[float | None, float | None]:
    """The cost with the cacheable prefix billed as cached, and without any cache."""
    if not assumptions.priced:
        return None, None
    price_in = assumptions.price_input or 0.0
    price_out = assumptions.price_output or 0.0
    price_cached = price_in if assumptions.price_cached is None else assumptions.price_cached
    output = total.completion_tokens * price_out
    uncached = (total.prompt_tokens * price_in + output) / 1e6
    fresh = total.prompt_tokens - total.cacheable_tokens
    cached = (fresh * price_in + total.cacheable_tokens * price_cached + output) / 1e6
    return cached, uncached
