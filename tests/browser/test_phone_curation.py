"""Two phones in Chromium: recommend, comment, remix, volunteer and withdraw round-trip."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Locator, Page, expect

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


@dataclass
class StoryOnTheWall:
    """Ada's story, approved, on Bo's wall: the two phones, the host and moderator peers, the card Bo sees."""
    host: object
    moderator: object
    ada: Page
    bo: Page
    story: str
    card: Locator


def a_story_on_the_wall(stage, pages, peers, bo_device: str = "iPhone 13") -> StoryOnTheWall:
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)  # join scene, prompt, wall
    ada, bo = pages.phone("iPhone 13"), pages.phone(bo_device)
    join(ada, f"{stage.url}/", "Ada")
    join(bo, f"{stage.url}/", "Bo")
    send_story(ada, "The cape remembered every wearer.")
    story = approve_next(moderator)
    bo.click("#tab-wall")
    return StoryOnTheWall(host, moderator, ada, bo, story, bo.locator(f'#feed li[data-id="{story}"]'))


def test_recommend_comment_remix_volunteer_and_withdraw(stage, pages, peers, shot):
    display = peers.display()
    night = a_story_on_the_wall(stage, pages, peers, "Pixel 7")
    host, moderator, ada, bo, story, card = night.host, night.moderator, night.ada, night.bo, night.story, night.card
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
