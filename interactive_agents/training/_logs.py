"""Training logs as JSON Lines, and the loss curve drawn from them.

One line per logging event of the trainer (``step``, ``epoch`` and what it reported:
``loss``, ``learning_rate``, ``eval_loss``…), appended, so a resumed run continues the
same file and the curve shows the whole run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

LOG_FILE = "log.jsonl"
CURVE_FILE = "loss.png"


class JsonlLogger(TrainerCallback):
    """Appends every log event of the main process to ``log.jsonl``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not state.is_world_process_zero or not logs:
            return
        record = {"step": state.global_step, "epoch": state.epoch, **logs}
        with self.path.open("ab") as handle:
            handle.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))


def read_log(path: Path) -> list[dict[str, Any]]:
    """The log events, in order."""
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def plot_loss(log: Path, out: Path) -> Path:
    """Training and validation loss against the step, learning rate on a second axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    events = read_log(log)
    figure, axis = plt.subplots(figsize=(7, 4))
    for key, label in (("loss", "training loss"), ("eval_loss", "validation loss")):
        points = [(e["step"], e[key]) for e in events if key in e]
        if points:
            steps, values = zip(*points, strict=True)
            axis.plot(steps, values, marker="o" if key == "eval_loss" else None, label=label)
    axis.set_xlabel("step")
    axis.set_ylabel("loss")
    rates = [(e["step"], e["learning_rate"]) for e in events if "learning_rate" in e]
    if rates:
        second = axis.twinx()
        steps, values = zip(*rates, strict=True)
        second.plot(steps, values, color="grey", linestyle=":", label="learning rate")
        second.set_ylabel("learning rate")
    axis.legend(loc="upper right")
    figure.tight_layout()
    figure.savefig(out, dpi=100)
    plt.close(figure)
    return out
