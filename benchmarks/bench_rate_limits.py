"""Rate limits: achieved requests and tokens per minute against the configured RPM / TPM.

    python benchmarks/bench_rate_limits.py [--rpm 3000] [--tpm 900000] [--latency 0.1]

The mock has no limits of its own; the engine's scheduler alone holds the pace. Its
buckets start full and allow a burst (a second's worth of requests, ten seconds' worth of
tokens), so a run of W seconds may send up to limit × W / 60 + burst: the last column
compares with that allowance, the one before with the bare limit. Figures only.
"""

from __future__ import annotations

import argparse

from bench_engine import ENGINE, Measurement, run_in_child, show, steps

from interactive_agents.testing import ServerOptions, spawn

BURST_SECONDS = {"rpm": 1.0, "tpm": 10.0}
HEADERS = [
    "limit",
    "configured /min",
    "dialogues",
    "calls",
    "errors",
    "wall s",
    "achieved /min",
    "achieved / limit",
    "achieved / (limit + burst)",
]


def achieved(limit: str, m: Measurement) -> float:
    """Requests or tokens per minute over the whole run."""
    amount = m.calls if limit == "rpm" else m.prompt_tokens + m.completion_tokens
    return amount * 60 / m.wall_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rpm", type=int, default=3000)
    parser.add_argument("--tpm", type=int, default=900_000)
    parser.add_argument("--latency", type=float, default=0.1, help="mock latency, seconds")
    parser.add_argument("--dialogues", type=int, default=200)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    rows = []
    plan = {"rpm": args.rpm, "tpm": args.tpm}
    with spawn(ServerOptions(latency=args.latency)) as [url], steps(len(plan), "runs") as advance:
        for limit, value in plan.items():
            advance(f"{limit} {value:,}")
            m = run_in_child(
                kind=ENGINE,
                base_url=url,
                dialogues=args.dialogues,
                turns=args.turns,
                **{limit: value},
            )
            rate = achieved(limit, m)
            allowance = value + value * BURST_SECONDS[limit] / m.wall_s
            rows.append(
                [
                    limit,
                    f"{value:,}",
                    f"{args.dialogues:,}",
                    f"{m.calls:,}",
                    str(m.errors + m.dialogues_failed),
                    f"{m.wall_s:.2f}",
                    f"{rate:,.0f}",
                    f"{rate / value:.3f}",
                    f"{rate / allowance:.3f}",
                ]
            )
    show(f"Rate limits, mock latency {args.latency} s", HEADERS, rows, args.markdown)


if __name__ == "__main__":
    main()
