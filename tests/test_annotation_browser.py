"""The annotation platform in real headless Chromium, served by uvicorn on loopback.

The bots are models of the scripted server; the platform runs as the
``annotate serve`` command in its own process, accounts are made with ``add-user``
and battles leave with ``export``, as an operator would do it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect, sync_playwright

from interactive_agents.arena._battles import read_battles
from interactive_agents.cli import main
from interactive_agents.testing import Call, FakeServer

from .support import write_bots_registry

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "correct horse battery"
INJECTION = "<script>window.injected = 1</script><img src=x onerror='window.injected=2'>"

# Signing in costs an scrypt (N = 2^17) and a send two bot calls: on a loaded 2-core
# machine either can take longer than Playwright's 5 s default, which is not a failure.
LOADED = 30_000


def bot_script(call: Call) -> str:
    turn = sum(1 for m in call.messages if m["role"] == "user")
    return f"{call.body['model']} wonders about it, turn {turn}?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Platform:
    """``annotate serve`` in a child process; restartable on the same database."""

    def __init__(self, db: Path, bots: Path) -> None:
        self.db, self.bots = db, bots
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "interactive_agents", "annotate", "serve", "--db",
             str(self.db), "--bots", str(self.bots), "--language", "en", "--port",
             str(self.port)],
        )  # fmt: skip
        for _ in range(200):
            try:
                if httpx.get(f"{self.url}/api/me").status_code == 401:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("the annotation platform did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(30)
            self.process = None


@pytest.fixture
def platform(server: FakeServer, tmp_path: Path) -> Iterator[Platform]:
    server.script = bot_script
    bots = write_bots_registry(tmp_path / "bots.toml", server.base_url)
    db = tmp_path / "annotation.db"
    for name, flags in (("ana", []), ("bob", []), ("boss", ["--admin"])):
        made = CliRunner().invoke(
            main,
            ["annotate", "add-user", name, "--db", str(db), "--password-stdin", *flags],
            input=PASSWORD + "\n",
        )
        assert made.exit_code == 0, made.output
    running = Platform(db, bots)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(browser: Browser, platform: Platform, name: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(platform.url)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#who")).to_contain_text(name, timeout=LOADED)
    return page


def say_and_choose(page: Page, text: str, position: int) -> str:
    """Send a client message, check the two candidates, pick one; returns its text."""
    page.get_by_label("Your message as the client").fill(text)
    page.get_by_role("button", name="Send").click()
    options = page.locator("#candidates label")
    expect(options).to_have_count(2, timeout=LOADED)
    texts = sorted(options.all_inner_texts())
    assert [t.split(" wonders")[0] for t in texts] == ["alpha", "beta"]
    chosen = options.nth(position).inner_text()
    options.nth(position).locator("input[type=radio]").check()
    page.get_by_role("button", name="Choose").click()
    expect(page.locator("#history li").last).to_have_text(f"Counselor: {chosen}")
    return chosen


def test_annotate_choose_continue_and_export(
    platform: Platform, browser: Browser, server: FakeServer, tmp_path: Path
) -> None:
    page = sign_in(browser, platform, "ana")
    page.get_by_role("button", name="New dialogue").click()
    first = say_and_choose(page, f"I feel anxious {INJECTION}", 0)
    # The typed markup is shown as text and never ran.
    expect(page.locator("#history li").first).to_have_text(f"Client: I feel anxious {INJECTION}")
    assert page.evaluate("window.injected") is None
    assert page.locator("#history img").count() == 0

    second = say_and_choose(page, "It started at work.", 1)
    # The bots answered the second message from the history with the chosen reply.
    last_calls = server.calls[-2:]
    for call in last_calls:
        assert [m["content"] for m in call.messages if m["role"] == "assistant"] == [first]
    expect(page.locator("#history li")).to_have_count(4)

    out = tmp_path / "battles.jsonl"
    exported = CliRunner().invoke(
        main, ["annotate", "export", "--db", str(platform.db), "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    battles = read_battles(out).battles
    assert [(b.turn, b.judge) for b in battles] == [(1, "human:ana"), (2, "human:ana")]
    for battle, chosen in zip(battles, (first, second), strict=True):
        winner = battle.bot_a if battle.winner == "a" else battle.bot_b
        assert chosen.startswith(winner)
    elo = CliRunner().invoke(main, ["elo", str(out), "--out", str(tmp_path / "elo"),
                                    "--bootstrap", "10"])  # fmt: skip
    assert elo.exit_code == 0, elo.output

    # After a restart the dialogue, the session and the pending state are all still there.
    platform.stop()
    platform.start()
    page.reload()
    page.locator("#dialogues a").first.click()
    expect(page.locator("#history li")).to_have_count(4)


def test_annotators_see_only_their_own_dialogues(platform: Platform, browser: Browser) -> None:
    ana = sign_in(browser, platform, "ana")
    ana.get_by_role("button", name="New dialogue").click()
    say_and_choose(ana, "Nobody listens to me.", 0)
    expect(ana.locator("#dialogues li")).to_have_count(1)
    dialogue = ana.request.get(f"{platform.url}/api/dialogues").json()[0]["id"]

    bob = sign_in(browser, platform, "bob")
    expect(bob.locator("#work")).to_be_visible()
    expect(bob.locator("#dialogues li")).to_have_count(0)
    api = f"{platform.url}/api/dialogues/{dialogue}"
    assert bob.request.get(api).status == 404
    posted = bob.request.post(f"{api}/messages", data={"text": "hijack"})
    assert posted.status == 404
    assert bob.request.post(f"{api}/choice", data={"choice": 1}).status == 404
    assert bob.request.get(f"{platform.url}/api/export").status == 403
    assert ana.request.get(api).json()["turns"][0]["content"] == "Nobody listens to me."

    boss = sign_in(browser, platform, "boss")
    export = boss.request.get(f"{platform.url}/api/export")
    assert export.status == 200 and b'"judge":"human:ana"' in export.body()
    assert httpx.get(f"{platform.url}/api/dialogues").status_code == 401


def test_wrong_password_and_bad_input_are_refused(platform: Platform, browser: Browser) -> None:
    page = browser.new_context().new_page()
    page.goto(platform.url)
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#error")).to_contain_text("wrong name or password")
    ana = sign_in(browser, platform, "ana")
    made = ana.request.post(f"{platform.url}/api/dialogues").json()["id"]
    api = f"{platform.url}/api/dialogues/{made}"
    assert ana.request.post(f"{api}/messages", data={"text": "   "}).status == 422
    assert ana.request.post(f"{api}/messages", data={"text": "x" * 2001}).status == 422
    assert ana.request.post(f"{api}/choice", data={"choice": 3}).status == 422
    assert ana.request.post(f"{api}/choice", data={"choice": 1}).status == 409
