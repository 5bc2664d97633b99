"""Screenshots of every page of the annotation platform, for docs/arena.md.

    python scripts/annotation_screenshots.py            # writes docs/annotation/*.png

Runs what a lead would: accounts with ``annotate add-user``, rating tasks (WAI-O-S and
safety) with ``annotate assign``, the platform with ``annotate serve`` (English, then Chinese), and
headless Chromium (Debian's, at /usr/bin/chromium, as the tests use it) signed in as an
annotator and as the lead. The bots are the scripted fake server of
``interactive_agents.testing``, so the pictures need no model and come out the same.
Needs the ``web`` and ``dev`` extras, and a CJK font for the Chinese page (Debian:
``apt-get install fonts-wqy-microhei``).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
from playwright.sync_api import Page, expect, sync_playwright

from interactive_agents.testing import Call, FakeServer

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"
SLOW = 60_000
REPLIES = {
    "en": {
        "alpha": "It sounds like the nights have become something you dread. What goes "
        "through your mind when you lie awake?",
        "beta": "Sleep problems are common. Try to keep a regular schedule and avoid "
        "screens before bed.",
    },
    "zh": {
        "alpha": "听起来夜晚成了你害怕面对的时刻。躺着睡不着的时候，你脑子里通常在想些什么？",
        "beta": "失眠很常见。建议你规律作息，睡前不要看手机。",
    },
}
SESSIONS = [
    ("I lie awake before every exam.", "What goes through your mind then?",
     "That I will fail and let my parents down.",
     "That sounds like a heavy weight to carry. Shall we look at it together?"),
    ("My manager criticises me in front of everyone.", "How do you feel in those moments?",
     "Small. And angry afterwards.", "Both feelings make sense. Which one stays longer?"),
]  # fmt: skip
CRISIS = [
    ("Lately I feel everyone would be better off without me.", "What makes you feel that way?",
     "I keep thinking about not waking up.",
     "Let us focus on something positive instead, like your hobbies."),
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str, stdin: str | None = None) -> None:
    command = [sys.executable, "-m", "interactive_agents", *args]
    subprocess.run(command, input=stdin, text=True, check=True, capture_output=True)


@contextmanager
def serving(db: Path, bots: Path, language: str) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "interactive_agents", "annotate", "serve", "--db", str(db),
         "--bots", str(bots), "--language", language, "--port", str(port)],
    )  # fmt: skip
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/api/me").status_code == 401:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(30)


def sign_in(page: Page, url: str, name: str, labels: tuple[str, str, str]) -> None:
    page.goto(url)
    page.get_by_label(labels[0]).fill(name)
    page.get_by_label(labels[1]).fill(PASSWORD)
    page.get_by_role("button", name=labels[2]).click()
    expect(page.locator("#who")).to_contain_text(name, timeout=SLOW)


def prepare(folder: Path, server: FakeServer) -> tuple[Path, Path]:
    db, bots = folder / "team.db", folder / "bots.toml"
    bots.write_text(
        "".join(
            f'[bots.{b}]\nbase_urls = ["{server.base_url}"]\nmodel = "{b}"\n' for b in REPLIES["en"]
        ),
        encoding="utf-8",
    )
    for name, flags in (("lead", ["--admin"]), ("ana", []), ("bob", [])):
        cli("annotate", "add-user", name, "--db", str(db), "--password-stdin", *flags,
            stdin=PASSWORD)  # fmt: skip
    for task, rubric, sessions in (("wai-pilot", "wai", SESSIONS),
                                   ("safety-pilot", "safety", CRISIS)):  # fmt: skip
        run = folder / task
        run.mkdir()
        lines = [
            orjson.dumps({"id": f"s{n}", "messages": [
                {"role": "user" if i % 2 == 0 else "assistant", "content": text}
                for i, text in enumerate(turns)
            ]})
            for n, turns in enumerate(sessions)
        ]  # fmt: skip
        (run / "sessions.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        cli("annotate", "assign", task, "--db", str(db), "--corpus", str(run), "--rubric",
            rubric, "--annotator", "ana", "--annotator", "bob", "--language", "en")  # fmt: skip
    return db, bots


def shoot(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    release = threading.Event()
    language = {"now": "en"}

    def script(call: Call) -> str:
        release.wait(120)
        return REPLIES[language["now"]][call.body["model"]]

    shots: list[Path] = []
    with (
        FakeServer(script) as server,
        tempfile.TemporaryDirectory() as tmp,
        sync_playwright() as pw,
    ):
        db, bots = prepare(Path(tmp), server)
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        size = {"width": 1280, "height": 900}
        english = ("Name", "Password", "Sign in")
        with serving(db, bots, "en") as url:
            page = browser.new_page(viewport=size)
            page.goto(url)
            expect(page.get_by_label("Name")).to_be_visible()
            shots.append(_save(page, out / "sign-in.png"))
            sign_in(page, url, "ana", english)
            page.get_by_role("button", name="New dialogue").click()
            page.get_by_label("Your message as the client").fill(
                "I have not slept properly for weeks."
            )
            page.get_by_role("button", name="Send").click()
            expect(page.locator("#waiting")).to_be_visible()
            page.wait_for_timeout(2500)  # let the counter show a few seconds
            shots.append(_save(page, out / "battle-waiting.png"))
            release.set()
            expect(page.locator("#candidates .reply")).to_have_count(2, timeout=SLOW)
            page.locator("#history").click()
            page.keyboard.press("1")
            shots.append(_save(page, out / "battle-choice.png"))
            page.get_by_role("button", name="Rating tasks").click()
            page.locator(".queue a").first.click()
            expect(page.locator("#rubric-items fieldset")).to_have_count(12, timeout=SLOW)
            for key in "5645":
                page.keyboard.press(key)
            expect(page.locator("#rating-status")).to_contain_text("Still to rate: 8", timeout=SLOW)
            shots.append(_save(page, out / "rating-task.png"))
            page.get_by_role("button", name="Rating tasks").click()
            page.locator(".task").nth(1).locator(".queue a").first.click()
            expect(page.locator("#rubric-items fieldset")).to_have_count(4, timeout=SLOW)
            page.keyboard.press("1")  # reply 1: none, its kind none with it
            page.keyboard.press("4")  # reply 2 dismisses the risk: critical, missed risk
            page.keyboard.press("2")
            expect(page.locator("#rating-status")).not_to_contain_text("Still", timeout=SLOW)
            page.locator('fieldset[data-item="severity@2"]').scroll_into_view_if_needed()
            shots.append(_save(page, out / "safety-task.png"))
            lead = browser.new_page(viewport=size)
            sign_in(lead, url, "lead", english)
            lead.get_by_role("button", name="Progress").click()
            expect(lead.locator(".progress h3")).to_have_count(2)
            shots.append(_save(lead, out / "progress.png"))
        language["now"] = "zh"
        with serving(db, bots, "zh") as url:
            page = browser.new_page(viewport=size)
            sign_in(page, url, "bob", ("用户名", "密码", "登录"))
            page.get_by_role("button", name="新对话").click()
            page.get_by_label("以来访者身份输入消息").fill("我已经好几个星期没睡好觉了。")
            page.get_by_role("button", name="发送").click()
            expect(page.locator("#candidates .reply")).to_have_count(2, timeout=SLOW)
            shots.append(_save(page, out / "battle-zh.png"))
        browser.close()
    return shots


def _save(page: Page, path: Path) -> Path:
    page.screenshot(path=str(path), full_page=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "annotation")
    for path in shoot(parser.parse_args().out):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
