"""The planner: predictions computed by hand for a tiny run, ``simulate --plan`` calling
no model, and a real run's summary showing the prediction beside what it did."""

from __future__ import annotations

import socket
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from interactive_agents.cli import main
from interactive_agents.method._cards import load_cards
from interactive_agents.method._config import RunConfig, build_config
from interactive_agents.method._prompts import load_prompts
from interactive_agents.runtime._planner import PlanAssumptions, RunPlan, plan_run
from interactive_agents.testing import FakeServer

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "runners" / "cards" / "demo_en.jsonl"

# Prompt cards whose token estimates (UTF-8 bytes // 4 + 4 per message) are easy by hand.
CLIENT_CARD = """
opening = "Hi!!"               # 4 bytes: 1 + 4 = 5 tokens
system = "{profile}"           # "CC: " + the chief complaint
[profile_labels]
chief_complaint = "CC"
[trait_labels]
"""
COUNSELOR_CARD = f"""
system = "{"s" * 40}"          # 40 bytes: 10 + 4 = 14 tokens
stage_cue = "{{stage_name}}"
[stage_names]
early = "{"e" * 8}"            # 2 + 4 = 6 tokens
middle = "{"m" * 16}"          # 4 + 4 = 8 tokens
late = "{"l" * 24}"
"""
TERMINATOR_CARD = 'phrases = { en = ["Goodbye"] }\n'


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    """Prompt cards and two role cards: profiles of 16 and 32 bytes (8 and 12 tokens)."""
    actors = tmp_path / "actors"
    actors.mkdir()
    (actors / "client.en.toml").write_text(CLIENT_CARD)
    (actors / "counselor.en.toml").write_text(COUNSELOR_CARD)
    (actors / "terminator.toml").write_text(TERMINATOR_CARD)
    cards = tmp_path / "cards.jsonl"
    cards.write_text(
        orjson.dumps({"id": "a", "chief_complaint": "x" * 12}).decode()
        + "\n"
        + orjson.dumps({"id": "b", "chief_complaint": "y" * 28}).decode()
        + "\n"
    )
    return actors, cards


def tiny_config(actors: Path, overrides: dict[str, object]) -> RunConfig:
    """3 turns, replies of 10 (client) and 20 (counselor) tokens, one shared endpoint."""
    return build_config(
        overrides={
            "language": "en",
            "max_turns": 3,
            "actors_dir": str(actors),
            "client.sampling.max_tokens": 10,
            "counselor.sampling.max_tokens": 20,
            "endpoint.base_urls": [f"http://127.0.0.1:{closed_port()}/v1"],
            "endpoint.model": "m",
            **overrides,
        }
    )


def tiny_plan(
    tiny: tuple[Path, Path],
    assumptions: PlanAssumptions | None = None,
    overrides: dict[str, object] | None = None,
) -> RunPlan:
    actors, cards = tiny
    config = tiny_config(actors, overrides or {})
    prompts = load_prompts("en", actors)
    return plan_run(config, load_cards(cards).cards, assumptions, prompts=prompts)


def test_calls_and_tokens_match_the_hand_computation(tiny: tuple[Path, Path]) -> None:
    """Counselor requests (system 14, greeting 5, cue 6/8/8, each earlier exchange
    24 + 14 tokens): 25, 65, 103; cached 0, 19 and 57 (all but the previous cue).
    Client requests after turns 1 and 2, card a (system 8): 37, 75 with 37 cached;
    card b (system 12): 41, 79 with 41 cached."""
    plan = tiny_plan(tiny)
    assert plan.counselor.calls == 6 and plan.client.calls == 4
    assert plan.counselor.prompt_tokens == 2 * (25 + 65 + 103)
    assert plan.counselor.cacheable_tokens == 2 * (19 + 57)
    assert plan.counselor.completion_tokens == 6 * 20
    assert plan.client.prompt_tokens == (37 + 75) + (41 + 79)
    assert plan.client.cacheable_tokens == 37 + 41
    assert plan.client.completion_tokens == 4 * 10
    summary = plan.to_dict()
    assert (summary["calls"], summary["prompt_tokens"], summary["completion_tokens"]) == (
        10,
        618,
        160,
    )
    assert summary["cacheable_tokens"] == 230 and summary["cacheable_share"] == round(230 / 618, 4)


def test_without_stage_cues_the_whole_previous_request_is_cacheable(
    tiny: tuple[Path, Path],
) -> None:
    plan = tiny_plan(tiny, overrides={"stages.cue": "none"})
    # Counselor requests 19, 57, 95: each repeats the previous one whole.
    assert plan.counselor.prompt_tokens == 2 * (19 + 57 + 95)
    assert plan.counselor.cacheable_tokens == 2 * (19 + 57)


def test_reply_lengths_and_refiner_rejections_are_assumptions(tiny: tuple[Path, Path]) -> None:
    """Half of all candidates rejected, 3 attempts: 1 + 0.5 + 0.25 candidates a turn;
    a regenerated candidate repeats its whole prompt."""
    plan = tiny_plan(tiny, PlanAssumptions(rejection_rate=0.5))
    assert plan.counselor.calls == 2 * 3 * 1.75
    assert plan.counselor.prompt_tokens == 2 * 1.75 * (25 + 65 + 103)
    assert plan.counselor.cacheable_tokens == 2 * ((19 + 57) + 0.75 * (25 + 65 + 103))
    shorter = tiny_plan(tiny, PlanAssumptions(client_reply_tokens=2, counselor_reply_tokens=4))
    # Exchanges of (4 + 4) + (2 + 4) tokens: counselor 25, 14 + 5 + 14 + 8 = 41, 55.
    assert shorter.counselor.prompt_tokens == 2 * (25 + 41 + 55)
    assert shorter.counselor.completion_tokens == 6 * 4


def test_wall_time_is_the_binding_limit_and_cost_bills_the_cache(
    tiny: tuple[Path, Path],
) -> None:
    """Calls of 1 s + 10 or 20 tokens at 10/s: 2 s (client), 3 s (counselor)."""
    assumptions = PlanAssumptions(
        latency=1.0, tokens_per_second=10.0, price_input=1.0, price_output=2.0, price_cached=0.5
    )
    overrides: dict[str, object] = {
        "max_in_flight": 1,
        "endpoint.concurrency": 2,
        "endpoint.rpm": 20,
        "endpoint.tpm": 2000,
    }
    plan = tiny_plan(tiny, assumptions, overrides)
    assert plan.bounds == pytest.approx(
        {
            "dialogues": 2 * (3 * 3 + 2 * 2),  # one at a time, 13 s each
            "client+counselor concurrency": (6 * 3 + 4 * 2) / 2,
            "client+counselor rpm": 10 * 60 / 20,
            "client+counselor tpm": (618 + 160) * 60 / 2000,
        }
    )
    assert plan.bound == "client+counselor rpm" and plan.wall_s == pytest.approx(30.0)
    assert plan.cost == pytest.approx(((618 - 230) * 1.0 + 230 * 0.5 + 160 * 2.0) / 1e6)
    assert plan.cost_without_cache == pytest.approx((618 * 1.0 + 160 * 2.0) / 1e6)
    assert tiny_plan(tiny).cost is None  # no prices, no cost


def test_roles_on_separate_endpoints_have_their_own_limits(tiny: tuple[Path, Path]) -> None:
    separate = {"counselor.endpoint.base_urls": ["http://127.0.0.1:9/v1"]}
    assumptions = PlanAssumptions(latency=1.0, tokens_per_second=10.0)
    plan = tiny_plan(tiny, assumptions, {**separate, "endpoint.concurrency": 1})
    assert plan.bounds["client concurrency"] == pytest.approx(4 * 2)
    assert plan.bounds["counselor concurrency"] == pytest.approx(6 * 3)


def test_plan_calls_no_model_and_needs_no_run_directory(tiny: tuple[Path, Path]) -> None:
    actors, cards = tiny
    url = f"http://127.0.0.1:{closed_port()}/v1"
    args = ["simulate", "--cards", str(cards), "--base-url", url, "--model", "m"]
    args += ["--language", "en", "--max-turns", "3", "--actors-dir", str(actors)]
    args += ["--client-max-tokens", "10", "--counselor-max-tokens", "20", "--plan"]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    plan = orjson.loads(result.stdout)
    assert (plan["calls"], plan["prompt_tokens"], plan["cacheable_tokens"]) == (10, 618, 230)
    table = CliRunner().invoke(main, [*args, "--price-input", "1", "--price-output", "2"])
    assert table.exit_code == 0, table.output
    assert "Plan: 2 dialogues x 3 turns" in table.output and "$0.0009" in table.output


def test_a_run_reports_the_plan_beside_what_it_did(server: FakeServer, tmp_path: Path) -> None:
    """The scripted replies never end a session and pass the refiner: every predicted
    call is made, no more."""
    args = ["simulate", "--cards", str(DEMO), "--out", str(tmp_path / "run")]
    args += ["--base-url", server.base_url, "--model", "scripted", "--language", "en"]
    args += ["--max-turns", "3", "--quiet", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout)
    beside = summary["plan_vs_actual"]
    assert beside["calls"] == {"predicted": 6 * 5, "actual": summary["calls"]}
    assert summary["calls"] == len(server.calls) == 30
    assert beside["prompt_tokens"]["actual"] == summary["prompt_tokens"] > 0
    assert beside["prompt_tokens"]["predicted"] > 0
    assert beside["cached_share"]["predicted"] == summary["plan"]["cacheable_share"] > 0.3
    assert summary["plan"]["roles"]["counselor"]["calls"] == 18

    # Resumed with everything done: nothing is planned and nothing is called.
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    resumed = orjson.loads(again.stdout)
    assert resumed["plan"]["dialogues"] == 0
    assert resumed["plan_vs_actual"]["calls"] == {"predicted": 0, "actual": 0}


def test_the_run_table_shows_predicted_and_actual(server: FakeServer, tmp_path: Path) -> None:
    args = ["simulate", "--cards", str(DEMO), "--out", str(tmp_path / "run"), "--limit", "1"]
    args += ["--base-url", server.base_url, "--model", "scripted", "--max-turns", "2"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Predicted (at the start) and actual" in result.output
    assert "cached_share" in result.output
