"""The pairwise judge π: which of two candidate replies is better, and why.

The prompt card (``actors/judge_pairwise.<lang>.toml``) asks for the reasoning first
and the choice last, in the line of its ``[answer]`` table, read as every judge's answer
is (:mod:`interactive_agents.judging._answers`: inline or on its own line, after
reasoning, in markdown, full-width). Reading is bounded: an answer without a readable
choice is asked again with another seed, and after the last attempt the judgement is
returned as unparsable or refused, never dropped and never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from interactive_agents._resources import bundled_dir, read_toml
from interactive_agents.arena._selection import Label
from interactive_agents.errors import ConfigError
from interactive_agents.judging._answers import (
    AnswerReading,
    AnswerRules,
    AnswerStatus,
    choice_reader,
    load_answer_rules,
    read_answer,
)
from interactive_agents.judging._rubrics import rubric_fingerprint
from interactive_agents.llm._endpoint import ChatBackend
from interactive_agents.llm._messages import ChatMessage, Sampling, Usage
from interactive_agents.method._records import Turn

Guideline = Literal["1", "2"]
# "Reply A", "回复A", "候选回复 B": the card's words for a candidate, before its letter.
READ_CHOICE = choice_reader(("A", "B"), ("candidate reply", "reply", "候选回复", "回复"))


@dataclass(frozen=True, slots=True)
class JudgePrompt:
    """The judge's card of one language, with the guideline texts and the answer rules."""

    system: str
    user: str
    guidelines: dict[str, str]
    answer: AnswerRules
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

    def parse(self, answer: str) -> AnswerReading[Label]:
        """The chosen label, read as the card's ``[answer]`` says, or why there is none."""
        reading = read_answer(answer, self.answer, READ_CHOICE)
        if not reading.ok:
            return AnswerReading(None, reading.status, reading.reason)
        label: Label = "A" if reading.value == "A" else "B"
        return AnswerReading(label, "parsed")


def load_judge_prompt(language: str, actors_dir: str | Path | None = None) -> JudgePrompt:
    """Read ``judge_pairwise.<language>.toml`` and check every field it needs."""
    folder = Path(actors_dir) if actors_dir is not None else bundled_dir("actors")
    path = folder / f"judge_pairwise.{language}.toml"
    file = str(path)
    if not path.is_file():
        raise ConfigError(f"no judge card for language {language!r}", file=file)
    data = read_toml(path, "judge card")
    for key in ("system", "user", "client_label", "counselor_label"):
        if not isinstance(data.get(key), str):
            raise ConfigError("missing or not a string", file=file, field=key)
    guidelines = data.get("guidelines")
    if not isinstance(guidelines, dict) or not {"1", "2"} <= set(guidelines):
        raise ConfigError("needs guidelines 1 and 2", file=file, field="guidelines")
    answer = load_answer_rules(
        data, path, READ_CHOICE, (data["system"], data["user"]), actors_dir=actors_dir
    )
    return JudgePrompt(
        system=data["system"],
        user=data["user"],
        guidelines={key: str(value) for key, value in guidelines.items()},
        answer=answer,
        client_label=data["client_label"],
        counselor_label=data["counselor_label"],
    )


@dataclass(frozen=True, slots=True)
class JudgeVerdict:
    """One judgement of one presentation order: the ``label``, or None and the
    ``status`` (``unparsable``, ``refused``) of the last answer, with its reason.
    ``reasoning`` is the judge's whole last answer."""

    label: Label | None
    reasoning: str
    attempts: int
    usage: Usage
    status: AnswerStatus = "parsed"
    reason: str = ""


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
        answer = ""
        reading: AnswerReading[Label] = AnswerReading(None, "unparsable", "no answer")
        for attempt in range(1, self.max_attempts + 1):
            completion = await self.backend.complete(
                messages, self.sampling, seed=seed + attempt - 1, priority=priority
            )
            usage += completion.usage
            answer = completion.content.strip()
            reading = self.prompt.parse(completion.content)
            if reading.ok:
                return JudgeVerdict(reading.value, answer, attempt, usage)
        return JudgeVerdict(None, answer, self.max_attempts, usage, reading.status, reading.reason)
