"""Two phones in Chromium: recommend, comment, remix, volunteer and withdraw round-trip."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.phone import join
from tests.peers import go




def send_story(page: Page, text: str) -> None:
    page.click("#tab-write")
    page.fill("#story", text)
    page.click("#send")


def approve_next(moderator, kind: str = "story") -> str:
    record = moderator.wait_for("queue_add", lambda d: d["record"]["kind"] == kind)["record"]
    assert moderator.call("moderate", {"id": record["id"], "decision": "approve"})["ok"]
    return record["id"]


def test_recommend_comment_remix_volunteer_and_withdraw(stage, pages, peers, shot):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)  # join scene, prompt, wall
    display = peers.display()
    ada, bo = pages.phone("iPhone 13"), pages.phone("Pixel 7")
    join(ada, f"{stage.url}/", "Ada")
    join(bo, f"{stage.url}/", "Bo")

    send_story(ada, "The cape remembered every wearer.")
    story = approve_next(moderator)
    bo.click("#tab-wall")
    card = bo.locator(f'#feed li[data-id="{story}"]')
    expect(card.locator(".text")).to_have_text("The cape remembered every wearer.")
    card.locator(".recommend").click()
    expect(card.locator(".recommend")).to_have_attribute("aria-pressed", "true")
    expect(card.locator(".count")).to_have_text("1")

    card.locator(".comment-input").fill("Goosebumps.")
    card.locator(".comment-form button").click()
    approve_next(moderator, "comment")
    ada.click("#tab-wall")
    ada_card = ada.locator(f'#feed li[data-id="{story}"]')
    expect(ada_card.locator(".comments")).to_have_text(re.compile("Bo\\s+Goosebumps."))
    expect(ada_card.locator(".count")).to_have_text("1")

    card.locator(".remix").click()
    expect(bo.locator("#remixing")).to_contain_text("by Ada")
    bo.fill("#story", "I wore it once. It remembered me too.")
    bo.click("#send")
    remix = approve_next(moderator)
    bo.click("#tab-wall")
    expect(bo.locator(f'#feed li[data-id="{remix}"] .remix-of')).to_have_text(" · remix of a story by Ada")
    shot(bo, "phone-wall")

    ada_card.locator(".perform").click()  # without ticking consent: the phone asks for it first, beside the box
    expect(ada.locator("#consent-error")).to_have_text(
        "Tick the box to agree first, then press “I'd like to perform”.")
    expect(ada.locator("#consent-text")).to_contain_text("filmed")
    ada.check("#consent-check")
    ada.click("#tab-wall")
    ada_card.locator(".perform").click()
    listing = host.wait_for("volunteers", lambda v: v["volunteers"])["volunteers"]
    assert [(v["name"], v["story_text"]) for v in listing] == [("Ada", "The cape remembered every wearer.")]
    ada.click("#tab-write")
    expect(ada.locator("#withdraw-consent")).to_be_visible()

    assert display.wait_for("wall_add", lambda d: d["record"]["id"] == story)
    ada.click("#tab-mine")
    ada.locator(f'.mine-item[data-id="{story}"] .withdraw').click()
    expect(ada.locator(f'.mine-item[data-id="{story}"]')).to_have_attribute("data-status", "withdrawn")
    expect(ada.locator("#announce")).to_have_text("Withdrawn: it no longer shows anywhere.")
    assert display.wait_for("wall_remove")["id"] == story
    expect(bo.locator(f'#feed li[data-id="{story}"]')).to_have_count(0)
    assert pages.errors == []
