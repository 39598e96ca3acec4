"""The crew console's remix panel in Chromium: pick a take, render with progress, see lineage, send it on."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.remix.conftest import remix_night  # noqa: F401  (the remix tests' small real night)
from tests.browser.test_consoles_browser import log_in
from tests.browser.test_phone_quality import serious_violations


def test_the_crew_renders_a_captioned_take_and_sends_it_to_moderation(remix_night, pages, shot):  # noqa: F811
    night = remix_night
    crew = pages.desktop("crew")
    log_in(crew, night.stage, "crew", "/crew")
    take = crew.locator("#remix-take option")
    expect(take).to_have_count(2)
    expect(take.first).to_contain_text("Take")
    crew.select_option("#remix-take", night.takes[0])
    crew.click("#remix-render")
    expect(crew.locator("#remix-status")).to_contain_text("Rendering captioned-take")
    expect(crew.locator("#remix-result")).to_be_visible(timeout=120_000)
    expect(crew.locator("#remix-status")).to_contain_text("Rendered: 3.0 s")
    lineage = crew.locator("#remix-lineage")
    expect(lineage.locator("li").first).to_contain_text("remix by Stage crew")
    expect(lineage).to_contain_text("take 1 performed by Cy, filmed by Sam (rig stage-left)")
    expect(lineage).to_contain_text("story by Ada: Tell no one about this cape")
    expect(crew.locator("#remix-credits")).to_contain_text("Cy — performer")
    expect(crew.locator("#remix-credits")).to_contain_text("Sam — camera")
    expect(crew.locator("#remix-credits")).not_to_contain_text("stage-left")  # people are credited, not rigs
    crew.wait_for_function("() => document.getElementById('remix-video').readyState >= 1", timeout=30_000)
    assert crew.evaluate("document.getElementById('remix-video').duration") > 2.9
    expect(crew.locator("#remix-approve")).to_be_hidden()
    crew.locator("#remix").scroll_into_view_if_needed()
    shot(crew, "crew-remix-panel")
    assert serious_violations(crew) == []
    crew.click("#remix-submit")
    expect(crew.locator("#remix-status")).to_have_text("Sent to moderation.")
    queued = night.moderator.wait_for("queue_add", lambda d: d["record"]["kind"] == "remix")
    assert set(queued["record"]["sources"]) == {night.takes[0], night.story}
    assert pages.errors == []
