"""The annotation platform in real headless Chromium, served by uvicorn on loopback.

The bots are models of the scripted server; the platform runs as the
``annotate serve`` command in its own process, accounts are made with ``add-user``,
rating tasks with ``assign``, and battles and ratings leave with ``export``, as a lead
would do it. Covered: battles (waiting, a failing bot, ties and "both bad" by keyboard,
turn counts), isolation, the Chinese interface, and rating tasks.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect, sync_playwright

from interactive_agents.arena._battles import read_battles
from interactive_agents.cli import main
from interactive_agents.testing import Call, FakeServer, Fault

from .support import engine_record, write_bots_registry, write_run

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "correct horse battery"
INJECTION = "<script>window.injected = 1</script><img src=x onerror='window.injected=2'>"

# Signing in costs an scrypt (N = 2^17) and a send two bot calls: on a loaded 2-core
# machine either can take longer than Playwright's 5 s default, which is not a failure;
# nor is a page slow to redraw under load, so every expectation waits as long.
LOADED = 30_000
expect.set_options(timeout=LOADED)


def bot_script(call: Call) -> str:
    turn = sum(1 for m in call.messages if m["role"] == "user")
    return f"{call.body['model']} wonders about it, turn {turn}?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


class Platform:
    """``annotate serve`` in a child process; restartable on the same database."""

    def __init__(self, db: Path, bots: Path, language: str = "en") -> None:
        self.db, self.bots, self.language = db, bots, language
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "interactive_agents", "annotate", "serve", "--db",
             str(self.db), "--bots", str(self.bots), "--language", self.language, "--port",
             str(self.port)],
        )  # fmt: skip
        for _ in range(300):
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


def make_platform(server: FakeServer, tmp_path: Path, language: str) -> Iterator[Platform]:
    server.script = bot_script
    bots = write_bots_registry(tmp_path / "bots.toml", server.base_url, extra="max_retries = 0\n")
    db = tmp_path / "annotation.db"
    for name, flags in (("ana", []), ("bob", []), ("boss", ["--admin"])):
        cli("annotate", "add-user", name, "--db", str(db), "--password-stdin", *flags,
            stdin=PASSWORD + "\n")  # fmt: skip
    running = Platform(db, bots, language)
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def platform(server: FakeServer, tmp_path: Path) -> Iterator[Platform]:
    yield from make_platform(server, tmp_path, "en")


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def sign_in(
    browser: Browser,
    platform: Platform,
    name: str,
    labels: tuple[str, ...] = ("Name", "Password", "Sign in"),
) -> Page:
    page = browser.new_context().new_page()
    page.goto(platform.url)
    page.get_by_label(labels[0]).fill(name)
    page.get_by_label(labels[1]).fill(PASSWORD)
    page.get_by_role("button", name=labels[2]).click()
    expect(page.locator("#who")).to_contain_text(name, timeout=LOADED)
    return page


def send(page: Page, text: str) -> None:
    page.get_by_label("Your message as the client").fill(text)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#candidates .reply")).to_have_count(2, timeout=LOADED)


def say_and_choose(page: Page, text: str, position: int) -> str:
    """Send a client message, check the two candidates, pick one; returns its text."""
    send(page, text)
    replies = page.locator("#candidates .reply")
    assert sorted(t.split(" wonders")[0] for t in replies.all_inner_texts()) == ["alpha", "beta"]
    chosen = replies.nth(position).inner_text()
    page.locator("#candidates input[type=radio]").nth(position).check()
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
    expect(page.locator("#dialogues li")).to_have_text(["Dialogue 1 · 1 turn"])

    second = say_and_choose(page, "It started at work.", 1)
    # The bots answered the second message from the history with the chosen reply.
    for call in server.calls[-2:]:
        assert [m["content"] for m in call.messages if m["role"] == "assistant"] == [first]
    expect(page.locator("#history li")).to_have_count(4)
    expect(page.locator("#dialogues li")).to_have_text(["Dialogue 1 · 2 turns"])

    out = tmp_path / "battles.jsonl"
    cli("annotate", "export", "--db", str(platform.db), "--out", str(out))
    battles = read_battles(out).battles
    assert [(b.turn, b.judge) for b in battles] == [(1, "human:ana"), (2, "human:ana")]
    for battle, chosen in zip(battles, (first, second), strict=True):
        winner = battle.bot_a if battle.winner == "a" else battle.bot_b
        assert chosen.startswith(winner)
        assert battle.length_a == battle.length_b == 6  # "alpha wonders about it, turn 1?"
    cli("elo", str(out), "--out", str(tmp_path / "elo"), "--bootstrap", "10")

    # After a restart the dialogue, the session and the pending state are all still there.
    platform.stop()
    platform.start()
    page.reload()
    page.locator("#dialogues a").first.click()
    expect(page.locator("#history li")).to_have_count(4)


def test_waiting_for_the_bots_shows_and_a_failing_bot_is_explained(
    platform: Platform, browser: Browser, server: FakeServer
) -> None:
    page = sign_in(browser, platform, "ana")
    page.get_by_role("button", name="New dialogue").click()
    answering = threading.Event()

    def slow(call: Call) -> str:
        answering.wait(60)  # holds the fake's loop, so both bots wait until released
        return bot_script(call)

    server.script = slow
    page.get_by_label("Your message as the client").fill("Is anyone there?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#waiting")).to_be_visible()
    expect(page.locator("#waiting")).to_contain_text("Both counselors are answering")
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    expect(page.locator("#candidates .reply")).to_have_count(0)
    answering.set()
    expect(page.locator("#candidates .reply")).to_have_count(2, timeout=LOADED)
    expect(page.locator("#waiting")).to_be_hidden()
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.locator("#say")).to_be_visible()

    server.script = bot_script
    server.fail_next(Fault(status=400))
    page.get_by_label("Your message as the client").fill("Hello again?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#error")).to_contain_text("A counselor did not answer", timeout=LOADED)
    expect(page.locator("#waiting")).to_be_hidden()
    expect(page.get_by_label("Your message as the client")).to_have_value("Hello again?")
    expect(page.locator("#history li")).to_have_count(2)  # nothing was written
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#candidates .reply")).to_have_count(2, timeout=LOADED)
    expect(page.locator("#error")).to_have_text("")


def test_ties_and_both_bad_by_keyboard(
    platform: Platform, browser: Browser, tmp_path: Path
) -> None:
    page = sign_in(browser, platform, "bob")
    page.get_by_role("button", name="New dialogue").click()
    for text, key in (("First worry.", "t"), ("Second worry.", "b"), ("Third worry.", "2")):
        page.get_by_label("Your message as the client").fill(text)
        page.get_by_label("Your message as the client").press("Control+Enter")
        expect(page.locator("#candidates .reply")).to_have_count(2, timeout=LOADED)
        page.locator("#history").click()  # focus out of the message box
        page.keyboard.press(key)
        page.keyboard.press("Enter")
        expect(page.locator("#say")).to_be_visible()
    expect(page.locator("#dialogues li")).to_have_text(["Dialogue 1 · 3 turns"])
    out = tmp_path / "battles.jsonl"
    cli("annotate", "export", "--db", str(platform.db), "--out", str(out))
    battles = read_battles(out).battles
    assert [(b.winner, b.both_bad) for b in battles][:2] == [("tie", False), ("tie", True)]
    assert battles[2].winner in ("a", "b") and not battles[2].both_bad


def test_annotators_see_only_their_own_dialogues(platform: Platform, browser: Browser) -> None:
    ana = sign_in(browser, platform, "ana")
    ana.get_by_role("button", name="New dialogue").click()
    say_and_choose(ana, "Nobody listens to me.", 0)
    expect(ana.locator("#dialogues li")).to_have_count(1)
    dialogue = ana.request.get(f"{platform.url}/api/dialogues").json()[0]["id"]

    bob = sign_in(browser, platform, "bob")
    expect(bob.locator("#battles")).to_be_visible()
    expect(bob.locator("#dialogues a")).to_have_count(0)
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
    expect(page.locator("#error")).to_contain_text("Wrong name or password", timeout=LOADED)
    ana = sign_in(browser, platform, "ana")
    made = ana.request.post(f"{platform.url}/api/dialogues").json()["id"]
    api = f"{platform.url}/api/dialogues/{made}"
    assert ana.request.post(f"{api}/messages", data={"text": "   "}).status == 422
    assert ana.request.post(f"{api}/messages", data={"text": "x" * 2001}).status == 422
    assert ana.request.post(f"{api}/choice", data={"choice": 3}).status == 422
    assert ana.request.post(f"{api}/choice", data={"choice": 1}).status == 409


def test_the_interface_in_chinese(server: FakeServer, tmp_path: Path, browser: Browser) -> None:
    for running in make_platform(server, tmp_path, "zh"):
        page = sign_in(browser, running, "ana", ("用户名", "密码", "登录"))
        assert page.evaluate("document.documentElement.lang") == "zh"
        expect(page.locator("#tabs")).to_contain_text("回复对比")
        expect(page.locator("#tabs")).to_contain_text("评分任务")
        page.get_by_role("button", name="新对话").click()
        page.get_by_label("以来访者身份输入消息").fill("我最近总是睡不着。")
        page.get_by_role("button", name="发送").click()
        expect(page.locator("#candidates .reply")).to_have_count(2, timeout=LOADED)
        expect(page.locator("#choose legend")).to_have_text("哪条回复更好？")
        page.get_by_text("都不好", exact=True).click()
        page.get_by_role("button", name="确定").click()
        expect(page.locator("#history li").first).to_have_text("来访者：我最近总是睡不着。")
        expect(page.locator("#dialogues li")).to_have_text(["对话 1 · 1 轮"])
        page.get_by_role("button", name="评分任务").click()
        expect(page.locator("#task-list")).to_have_text("目前没有分配给您的评分任务。")


def test_a_rating_task_in_the_browser(platform: Platform, browser: Browser, tmp_path: Path) -> None:
    run = write_run(
        tmp_path / "pilot",
        [
            engine_record(f"s{n}", None, [f"Session {n}: I cannot sleep.", "Since when?"])
            for n in range(3)
        ],
    )
    db = str(platform.db)
    cli("annotate", "assign", "pilot", "--db", db, "--corpus", str(run),
        "--annotator", "ana", "--annotator", "bob")  # fmt: skip
    page = sign_in(browser, platform, "ana")
    page.get_by_role("button", name="Rating tasks").click()
    expect(page.locator("#task-list .task strong")).to_have_text("pilot · 0 of 3 finished")
    page.locator(".queue a").first.click()
    expect(page.locator("#rubric-items fieldset")).to_have_count(12)
    expect(page.locator("#item-title")).to_have_text("pilot · session 1 of 3")
    page.get_by_text("Instructions (the text the judge gets)").click()
    expect(page.locator("#instructions-text")).to_contain_text("Working Alliance Inventory")
    # The keys rate the highlighted statement and move on.
    for key in "345612":
        page.keyboard.press(key)
    expect(page.locator("#rating-status")).to_contain_text("Still to rate: 6", timeout=LOADED)
    expect(page.locator("#rubric-items fieldset.focused legend")).to_contain_text("7.")
    # Away and back: the six ratings were saved.
    page.get_by_role("button", name="Battles").click()
    page.get_by_role("button", name="Rating tasks").click()
    expect(page.locator(".queue a").first).to_contain_text("6 of 12 rated")
    page.locator(".queue a").first.click()
    expect(page.locator("#rubric-items fieldset.rated")).to_have_count(6)
    expect(page.locator('#rubric-items fieldset[data-item="wai-2"] input:checked')).to_have_value(
        "4"
    )
    for key in "777777":
        page.keyboard.press(key)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#item-title")).to_have_text("pilot · session 2 of 3", timeout=LOADED)
    expect(page.locator("#task-list .task strong")).to_have_text("pilot · 1 of 3 finished")

    boss = sign_in(browser, platform, "boss")
    boss.get_by_role("button", name="Progress").click()
    expect(boss.locator(".progress h3")).to_contain_text("pilot (wai): 1 of 6 ratings finished")
    expect(boss.locator(".progress tr")).to_have_count(3)
    exported = boss.request.get(f"{platform.url}/api/progress/pilot/export").body().splitlines()
    values = {orjson.loads(line)["item"]: orjson.loads(line)["value"] for line in exported}
    assert values == {**{f"wai-{i}": int(k) for i, k in enumerate("345612", 1)},
                      **{f"wai-{i}": 7 for i in range(7, 13)}}  # fmt: skip


def test_a_safety_task_rates_every_reply_in_the_browser(
    platform: Platform, browser: Browser, tmp_path: Path
) -> None:
    turns = ["I feel like disappearing.", "What happened?", "Nothing matters any more.",
             "Let us talk about the weather instead."]  # fmt: skip
    run = write_run(tmp_path / "crisis", [engine_record(f"s{n}", None, turns) for n in range(2)])
    db = str(platform.db)
    cli("annotate", "assign", "safety", "--db", db, "--corpus", str(run), "--rubric", "safety",
        "--annotator", "ana", "--annotator", "bob", "--language", "en")  # fmt: skip
    page = sign_in(browser, platform, "ana")
    page.get_by_role("button", name="Rating tasks").click()
    page.locator(".queue a").first.click()
    expect(page.locator("#rubric-items fieldset")).to_have_count(4)
    expect(page.locator("#reads")).to_contain_text("each counselor reply")
    expect(page.locator("#transcript li.counselor")).to_have_text(
        ["[1] Counselor: What happened?", "[2] Counselor: Let us talk about the weather instead."]
    )
    expect(page.locator("#rubric-items legend")).to_have_text([
        "Counselor reply [1]: severity",
        "Counselor reply [1]: the kind of problem (none when the severity is none)",
        "Counselor reply [2]: severity",
        "Counselor reply [2]: the kind of problem (none when the severity is none)",
    ])  # fmt: skip
    page.get_by_text("Instructions (the text the judge gets)").click()
    expect(page.locator("#instructions-text")).to_contain_text("Decision flow")
    # Reply 1 is safe: none for its severity rates its kind none as well.
    page.keyboard.press("1")
    expect(page.locator('fieldset[data-item="category@1"] input:checked')).to_have_value('"none"')
    # The keys go on to reply 2, which ignores the risk: critical (4), missed risk (2).
    expect(page.locator("#rubric-items fieldset.focused")).to_have_attribute(
        "data-item", "severity@2"
    )
    page.keyboard.press("4")
    page.keyboard.press("2")
    expect(page.locator("#rating-status")).not_to_contain_text("Still to rate", timeout=LOADED)
    # A problem without its kind is pointed out, and gone once it agrees again.
    page.locator('fieldset[data-item="severity@1"] input[value=\'"minor"\']').check()
    expect(page.locator("#rating-status")).to_contain_text("Reply 1: none goes with none")
    page.locator('fieldset[data-item="severity@1"] input[value=\'"none"\']').check()
    expect(page.locator("#rating-status")).not_to_contain_text("none goes with none")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#item-title")).to_have_text("safety · session 2 of 2", timeout=LOADED)

    boss = sign_in(browser, platform, "boss")
    exported = boss.request.get(f"{platform.url}/api/progress/safety/export").body().splitlines()
    values = {(line["reply"], line["item"]): line["value"] for line in map(orjson.loads, exported)}
    assert values == {(1, "severity"): "none", (1, "category"): "none",
                      (2, "severity"): "critical", (2, "category"): "missed_risk"}  # fmt: skip
