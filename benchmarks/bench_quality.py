"""What ``simulate --quality-flags`` costs: CPU per dialogue with the flags and without.

    python benchmarks/bench_quality.py [--dialogues 1000] [--turns 10] [--repeats 2]

Two measurements, figures only (nothing is asserted):

1. The whole engine against the mock server (``interactive_agents.testing``): N dialogues
   at concurrency N, ``[quality]`` off and on in turn, each run in a child process of its
   own (``bench_engine``'s), so its CPU time is its own. The mock answers with a short
   run of filler words, cheap to flag, so this bounds the cost from below.
2. The flags alone, as the session computes them when it makes its record (the card
   rendered, every flag assessed, the record's document built), on real text: the
   reference's simulated session (20 utterances, Chinese, with its card) and the same
   utterances cycled to a 50-turn session, the engine's default turn cap.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import orjson
from bench_engine import ENGINE, Measurement, run_in_child, show, steps

from interactive_agents import Turn, load_cards
from interactive_agents.method import Flagger, card_text, load_prompts, load_quality_rules
from interactive_agents.testing import ServerOptions, spawn

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference"
RUN_HEADERS = ["quality flags", "run", "dialogues", "calls", "wall s", "CPU s", "CPU ms/dialogue"]
# CPU ms per dialogue is also CPU seconds per 1,000 dialogues.
ALONE_HEADERS = ["transcript", "utterances", "card chars", "CPU ms/dialogue"]


def engine_rows(args: argparse.Namespace) -> list[list[str]]:
    """Engine runs with the flags off and on, alternated so drift hits both alike."""
    plan = [enabled for _ in range(args.repeats) for enabled in (False, True)]
    measured: dict[bool, list[Measurement]] = {False: [], True: []}
    rows = []
    with spawn(ServerOptions(latency=args.latency)) as [url], steps(len(plan), "runs") as advance:
        for index, enabled in enumerate(plan):
            advance(f"quality flags {'on' if enabled else 'off'}")
            m = run_in_child(
                kind=ENGINE,
                base_url=url,
                dialogues=args.dialogues,
                turns=args.turns,
                overrides={"quality.enabled": enabled},
            )
            measured[enabled].append(m)
            rows.append(_run_row("on" if enabled else "off", str(index // 2 + 1), m, args))
    for enabled in (False, True):
        runs = measured[enabled]
        cpu = sum(m.cpu_s for m in runs) / len(runs)
        rows.append(
            [
                "on" if enabled else "off",
                "mean",
                f"{args.dialogues:,}",
                "",
                "",
                f"{cpu:.2f}",
                f"{cpu / args.dialogues * 1e3:.3f}",
            ]
        )
    off = sum(m.cpu_s for m in measured[False]) / args.repeats
    on = sum(m.cpu_s for m in measured[True]) / args.repeats
    rows.append(
        [
            "on - off",
            "",
            "",
            "",
            "",
            f"{on - off:+.2f}",
            f"{(on - off) / args.dialogues * 1e3:+.3f} ({(on - off) / off:+.1%})",
        ]
    )
    return rows


def _run_row(label: str, run: str, m: Measurement, args: argparse.Namespace) -> list[str]:
    return [
        label,
        run,
        f"{args.dialogues:,}",
        f"{m.calls:,}",
        f"{m.wall_s:.2f}",
        f"{m.cpu_s:.2f}",
        f"{m.cpu_s / args.dialogues * 1e3:.3f}",
    ]


def alone_rows(reference: Path, repeat: int) -> list[list[str]]:
    """The flags of one record, timed on the reference's session and a 50-turn one."""
    raw = orjson.loads((reference / "dialogues" / "raw_dialogue_0.json").read_bytes())
    utterances = [Turn(item["role"], item["content"]) for item in raw]
    pool = reference / "client_pool_train.json"
    card = load_cards(reference / "role_cards" / "train_0.txt", pool=str(pool)).cards[0]
    prompts = load_prompts("zh")
    flagger = Flagger.of(load_quality_rules(prompts))
    long = [utterances[i % len(utterances)] for i in range(100)]
    rows = []
    for name, turns in (("reference session", utterances), ("50 turns", long)):
        transcript = [Turn("client", prompts.client.opening), *turns]
        start = time.process_time()
        for _ in range(repeat):
            text = card_text(card.to_dict(), "zh")
            quality = flagger.assess(transcript, card_text=text)
            flagger.document(quality, transcript, card_text=text)
        per = (time.process_time() - start) / repeat
        rows.append(
            [
                name,
                str(len(transcript)),
                str(len(card_text(card.to_dict(), "zh"))),
                f"{per * 1e3:.3f}",
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialogues", type=int, default=1000, help="N = C")
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.1, help="mock latency, seconds")
    parser.add_argument("--repeats", type=int, default=2, help="runs of each setting")
    parser.add_argument("--alone-repeat", type=int, default=200, help="timings of the flags")
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    show(
        "Quality flags alone (assess + document, one record)",
        ALONE_HEADERS,
        alone_rows(args.reference, args.alone_repeat),
        args.markdown,
    )
    title = f"Engine runs, mock latency {args.latency} s, {args.turns} turns (N = C)"
    show(title, RUN_HEADERS, engine_rows(args), args.markdown)


if __name__ == "__main__":
    main()
