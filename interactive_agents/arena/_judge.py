"""The pairwise judge π: which of two candidate replies is better, and why.

The prompt card (``actors/judge_pairwise.<lang>.toml``) asks for the reasoning first
and the choice last, in a fixed line that ``choice_pattern`` reads. Parsing is
tolerant (markdown, either colon, extra text: the last match counts) and bounded: an
answer without a readable choice is asked again with another seed, and after the last
attempt the judgement is returned as unparsable, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from interactive_agents._resources import bundled_dir, read_toml
from interactive_agents.arena._selection import Label
from interactive_agents.errors import ConfigError
from interactive_agents.judging._rubrics import rubric_fingerprint
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._messages import ChatMessage, Sampling, Usage
from interactive_agents.method._records import Turn

Guideline = Literal["1", "2"]


@dataclass(frozen=True, slots=True)
class JudgePrompt:
    """The judge's card of one language, with the guideline texts and the choice pattern."""

    system: str
    user: str
    guidelines: dict[str, str]
    choice_pattern: re.Pattern[str]
    client_label: str
    counselor_label: str

    def messages(
        self, guideline: Guideline, turns: Sequence[Turn], reply_a: str, reply_b: str
    ) -> list[ChatMessage]:
        labels = {"client": self.client_label, "counselor": self.counselor_label}
        history = "\n".join(f"{labels[t.role]}: {t.content}" for t in turns)
        text = self.user.format(
            guideline=self.guidelines[guideline].strip(),
            history=history,
            reply_a=reply_a,
            reply_b=reply_b,
        )
        return [ChatMessage("system", self.system.strip()), ChatMessage("user", text.strip())]

    def parse(self, answer: str) -> tuple[Label | None, str]:
        """The chosen label (None if unreadable) and the reasoning written before it."""
        matches = list(self.choice_pattern.finditer(answer))
        if not matches:
            return None, answer.strip()
        last = matches[-1]
        label: Label = "A" if last.group(1).upper() == "A" else "B"
        return label, answer[: last.start()].strip()


def load_judge_prompt(language: str, actors_dir: str | Path | None = None) -> JudgePrompt:
    """Read ``judge_pairwise.<language>.toml`` and check every field it needs."""
    folder = Path(actors_dir) if actors_dir is not None else bundled_dir("actors")
    path = folder / f"judge_pairwise.{language}.toml"
    file = str(path)
    if not path.is_file():
        raise ConfigError(f"no judge card for language {language!r}", file=file)
    data = read_toml(path, "judge card")
    for key in ("system", "user", "choice_pattern", "client_label", "counselor_label"):
        if not isinstance(data.get(key), str):
            raise ConfigError("missing or not a string", file=file, field=key)
    guidelines = data.get("guidelines")
    if not isinstance(guidelines, dict) or not {"1", "2"} <= set(guidelines):
        raise ConfigError("needs guidelines 1 and 2", file=file, field="guidelines")
    try:
        pattern = re.compile(data["choice_pattern"], re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(
            f"not a regular expression: {exc}", file=file, field="choice_pattern"
        ) from exc
    if pattern.groups < 1:
        raise ConfigError("needs a group for the label", file=file, field="choice_pattern")
    return JudgePrompt(
        system=data["system"],
        user=data["user"],
        guidelines={key: str(value) for key, value in guidelines.items()},
        choice_pattern=pattern,
        client_label=data["client_label"],
        counselor_label=data["counselor_label"],
    )


@dataclass(frozen=True, slots=True)
class JudgeVerdict:
    """One judgement of one presentation order; ``label`` None means unparsable."""

    label: Label | None
    reasoning: str
    attempts: int
    usage: Usage


@dataclass(frozen=True, slots=True)
class PairwiseJudge:
    """Asks one judge model, retrying unreadable answers up to ``max_attempts`` times."""

    backend: ChatBackend
    prompt: JudgePrompt
    guideline: Guideline
    sampling: Sampling
    max_attempts: int = 3

    @property
    def name(self) -> str:
        return f"{self.backend.model}@guideline{self.guideline}"

    @property
    def rubric(self) -> str:
        """The fingerprint of this judge's card, guideline and model (method/rubrics)."""
        return rubric_fingerprint((self.prompt, self.guideline), self.backend.model)

    async def judge(
        self, turns: Sequence[Turn], reply_a: str, reply_b: str, *, seed: int, priority: int = 0
    ) -> JudgeVerdict:
        messages = self.prompt.messages(self.guideline, turns, reply_a, reply_b)
        usage = Usage()
        reasoning = ""
        for attempt in range(1, self.max_attempts + 1):
            completion = await self.backend.complete(
                messages, self.sampling, seed=seed + attempt - 1, priority=priority
            )
            usage += completion.usage
            label, reasoning = self.prompt.parse(completion.content)
            if label is not None:
                return JudgeVerdict(label, reasoning, attempt, usage)
        return JudgeVerdict(None, reasoning, self.max_attempts, usage)
