"""The host and moderator consoles in Chromium: keyboard moderation, GO through timed cues, panic."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.stage_process import PASSWORDS, StageProcess



def log_in(page: Page, server: StageProcess, role: str, path: str) -> None:
    page.goto(f"{server.url}{path}")
    page.fill("#passphrase", PASSWORDS[role])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(f"{path}$"))


def press_go(host: Page) -> None:
    # Kept as a fixed wait: the GO debounce (200 ms) is a rule about elapsed time, and a stage manager's
    # presses are further apart than it; there is no state on the page to wait for.
    host.wait_for_timeout(250)
    host.keyboard.press("Space")


def cue(host: Page, cue_id: str):
    return host.locator(f'#cues li[data-id="{cue_id}"]')


def test_keyboard_moderation_and_a_show_with_auto_follow_group_and_panic(night, pages, shot):
    server, peers = night
    display = pages.desktop("display", 1280, 720)
    display.goto(server.display_url("main"))
    host = pages.desktop("host")
    log_in(host, server, "host", "/host")
    moderator = pages.desktop("moderator", 1100, 800)
    log_in(moderator, server, "moderator", "/moderate")

    press_go(host)
    expect(cue(host, "1")).to_have_attribute("data-state", "done")
    press_go(host)
    expect(host.locator("#prompt-open")).to_have_text("A tiny story about a cape")

    ada, spam = peers.phone("Ada"), peers.phone("Spammer")
    for phone, text in ((ada, "A spoiler about a cape"), (spam, "spoiler spoiler"), (spam, "spoiler again"),
                        (ada, "Another spoiler, nicer")):
        assert phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": text})["ok"]
    queue = moderator.locator("#queue li.record")
    expect(queue).to_have_count(4)
    expect(queue.first.locator(".flags")).to_have_text("⚑ word:spoiler")
    expect(moderator.locator("#pending")).to_have_text("4")
    shot(moderator, "moderator-queue")

    moderator.keyboard.press("j")  # select the spammer's first story
    expect(queue.nth(1)).to_have_class(re.compile("selected"))
    moderator.keyboard.press("b")  # ban the author: a confirmation first, Cancel focused...
    expect(moderator.locator("#ban-cancel")).to_be_focused()
    moderator.keyboard.press("Tab")
    moderator.keyboard.press("Enter")  # ...then both of their stories leave the queue
    expect(queue).to_have_count(2)
    moderator.keyboard.press("a")  # approve Ada's first
    expect(queue).to_have_count(1)
    expect(queue.first.locator(".text")).to_have_text("Another spoiler, nicer")
    moderator.keyboard.press("r")
    expect(queue).to_have_count(0)
    expect(moderator.locator("#approved li .text")).to_have_text(["A spoiler about a cape"])
    expect(host.locator("#queue li.record")).to_have_count(0)  # the host's panel stays in sync

    press_go(host)  # cue 3: a 0.6 s wait that auto-follows into cue 4, the wall
    expect(cue(host, "3")).to_have_attribute("data-state", "running")
    expect(cue(host, "3").locator(".cue-timer")).to_have_text(re.compile(r"\d\.\d s"))
    expect(display.locator("#wall li .text")).to_have_text(["A spoiler about a cape"])
    expect(cue(host, "4")).to_have_attribute("data-state", "done")
    expect(cue(host, "5")).to_have_attribute("data-state", "standby")

    host.locator("#approved button.send", has_text="Show on main").click()
    expect(display.locator("#story-text")).to_have_text("A spoiler about a cape")
    shot(display, "display-story")

    cue(host, "6").click()  # jump: the group is now in standby
    expect(cue(host, "6")).to_have_attribute("data-state", "standby")
    press_go(host)
    expect(display.locator("#message")).to_have_text("Intermission")
    expect(cue(host, "6")).to_have_attribute("data-state", "done")
    shot(host, "host-after-group")

    cue(host, "5").click()
    press_go(host)  # the story cue, with a 2 s pre-wait (0.5 s was sometimes over before a loaded CI's click)...
    expect(cue(host, "5")).to_have_attribute("data-state", "pre_wait")
    host.click("#panic")  # ...stopped by PANIC before it fires; the displays go to the panic scene
    expect(display.locator("#scene-blank")).to_be_visible()
    expect(cue(host, "5")).to_have_attribute("data-state", "stopped")
    # That the stopped pre-wait never fires later is the cue engine's to prove, on its injected clock, not
    # here on the wall clock: tests/unit/test_engine.py::test_panic_stops_everything_and_runs_the_night_panic.
    host.fill("#audit-action", "panic")
    host.click("#audit-form button")
    expect(host.locator("#audit tr")).to_have_count(1)
    assert pages.errors == []
