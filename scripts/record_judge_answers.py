"""Record real answers of an embedded model to every judge prompt, for the parser tests.

For one embedded model (or any OpenAI-compatible endpoint) and one language, asks the
topic rater, the WAI-O-S judge and the arena's pairwise judge about the sessions of a
corpus, ``--seeds`` times each, exactly as the commands build their prompts; an answer
the current parser cannot read is followed by the card's reminder (as ``evaluate``
does) and that answer is recorded too. Every answer is appended to ``--out`` as one
JSON line with the judge, language, model, card, seed, attempt, the example line the
judge was shown and the answer; ``tests/fixtures/judge_answers/`` holds such answers
with the value a person reads in each (labelled by hand, never by the parser).

``--old-topic-card FILE`` renders the topic rater's prompt from an older card (one that
showed a realistic example line), to record the echoes that example invited.

    python scripts/record_judge_answers.py --local-model qwen2.5-coder-1.5b-instruct \\
        --language en --corpus runs/quickstart --out answers.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import tomllib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson

from interactive_agents import Turn
from interactive_agents.arena import load_judge_prompt
from interactive_agents.corpora import Corpus, load_corpus
from interactive_agents.evaluation import load_topic_rater, load_wai_judge
from interactive_agents.llm import (
    ChatEndpoint,
    ChatMessage,
    EndpointConfig,
    LocalServer,
    LocalServerOptions,
    Sampling,
)

WAI_ITEMS = (2, 4, 9)  # one item of each factor (task, goal reversed, bond)


@asynccontextmanager
async def endpoint(args: argparse.Namespace) -> AsyncIterator[ChatEndpoint]:
    """The judge: ``--base-url``/``--model``, or the embedded ``--local-model``."""
    if args.base_url:
        config = EndpointConfig(base_urls=(args.base_url,), model=args.model, timeout=900)
        backend = ChatEndpoint(config)
        try:
            yield backend
        finally:
            await backend.aclose()
        return
    options = LocalServerOptions(model=args.local_model, threads=args.threads)
    async with LocalServer(options) as server:
        backend = ChatEndpoint(server.endpoint_for(EndpointConfig(timeout=900)))
        try:
            yield backend
        finally:
            await backend.aclose()


def old_topic_messages(card: Path, topics: str, client_text: str) -> list[ChatMessage]:
    """The topic rater's prompt as an older card (``topics_pattern`` era) rendered it."""
    data = tomllib.loads(card.read_text(encoding="utf-8"))
    system = data["system"].strip().format(topics=topics, max_topics=3)
    user = data["user"].strip().format(client_text=client_text.strip(), max_topics=3)
    return [ChatMessage("system", system), ChatMessage("user", user)]


def old_example(card: Path) -> tuple[str, str]:
    """The example line and the reminder of an older topic card."""
    data = tomllib.loads(card.read_text(encoding="utf-8"))
    reminder = data["reminder"].strip().format(max_topics=3)
    return reminder.splitlines()[-1].strip(), reminder


async def append(path: Path, line: dict[str, Any]) -> None:
    """One JSON line, appended (off the event loop)."""

    def write() -> None:
        with path.open("ab") as handle:
            handle.write(orjson.dumps(line) + b"\n")

    await asyncio.to_thread(write)


async def record(args: argparse.Namespace) -> None:
    corpus: Corpus = load_corpus(args.corpus)
    dialogues = corpus.dialogues[: args.dialogues]
    language = args.language
    sampling = Sampling(args.temperature, 0.9, args.max_tokens)
    rater = load_topic_rater(language)
    wai = load_wai_judge(language)
    pairwise = load_judge_prompt(language)
    out = Path(args.out)
    async with endpoint(args) as backend:
        model = backend.model

        async def ask(
            judge: str,
            card: str,
            messages: Sequence[ChatMessage],
            example: str,
            reminder: str,
            parse: Any,
            dialogue: str,
        ) -> None:
            for seed in range(args.seeds):
                history = list(messages)
                for attempt in (1, 2):
                    completion = await backend.complete(history, sampling, seed=seed)
                    answer = completion.content
                    line = {
                        "judge": judge,
                        "language": language,
                        "model": model,
                        "card": card,
                        "dialogue": dialogue,
                        "seed": seed,
                        "attempt": attempt,
                        "example": example,
                        "answer": answer,
                    }
                    await append(out, line)
                    print(judge, card, dialogue, seed, attempt, repr(answer[-120:]), flush=True)
                    if parse(answer).ok:
                        break
                    history += [ChatMessage("assistant", answer), ChatMessage("user", reminder)]

        for dialogue in dialogues:
            client_text = dialogue.client_text()
            if args.old_topic_card:
                example, reminder = old_example(args.old_topic_card)
                messages = old_topic_messages(
                    args.old_topic_card, rater.topic_set.numbered(), client_text
                )
                await ask("topics", "old", messages, example, reminder, rater.parse, dialogue.id)
                continue
            await ask(
                "topics",
                "current",
                rater.messages(client_text),
                rater.answer.example,
                rater.reminder(),
                rater.parse,
                dialogue.id,
            )
            for item in WAI_ITEMS:
                await ask(
                    f"wai-{item}",
                    "current",
                    wai.messages(dialogue, item),
                    wai.answer.example,
                    wai.reminder(),
                    wai.parse,
                    dialogue.id,
                )
            turns = [Turn(u.role, u.content) for u in dialogue.turns]
            counselor = [i for i, t in enumerate(turns) if t.role == "counselor"]
            if len(counselor) >= 2:
                cut = counselor[-1]
                other = turns[counselor[-2]].content
                messages = pairwise.messages(args.guideline, turns[:cut], turns[cut].content, other)
                example = pairwise.answer.example
                await ask("pairwise", "current", messages, example, "", pairwise.parse, dialogue.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", required=True, help="Sessions the judges read.")
    parser.add_argument("--language", choices=("zh", "en"), required=True)
    parser.add_argument("--out", required=True, help="JSON Lines file, appended to.")
    parser.add_argument("--local-model", help="An embedded model (interactive-agents models).")
    parser.add_argument("--base-url", help="An OpenAI-compatible server instead.")
    parser.add_argument("--model", default="", help="The model name with --base-url.")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--dialogues", type=int, default=1, help="Sessions to judge.")
    parser.add_argument("--seeds", type=int, default=2, help="Answers per prompt.")
    parser.add_argument("--max-tokens", type=int, default=192)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--guideline", choices=("1", "2"), default="2")
    parser.add_argument("--old-topic-card", type=Path, help="Render topics from this card.")
    asyncio.run(record(parser.parse_args()))


if __name__ == "__main__":
    main()
