"""Every page's scripts are ES modules that import what they use: no window.Stage or window.StagePhone
global, no page script that only works when loaded after another; the socket.io client is the one
classic script."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.phone import join
from tests.browser.test_consoles_browser import log_in
from tests.peers import go

# `typeof Stage`, not only window.Stage: the old common.js's top-level `const Stage` was a global
# binding every classic script could see, though not a property of window.
GLOBALS = "() => [typeof Stage, typeof StagePhone, typeof $, typeof window.Stage, typeof window.StagePhone]"
# Data blocks (the page's catalog, type application/json) are not scripts that run.
CLASSIC = ("() => [...document.scripts].filter((s) => !['module', 'application/json'].includes(s.type))"
           ".map((s) => new URL(s.src).pathname)")


def modules_only(page: Page) -> None:
    assert page.evaluate(GLOBALS) == ["undefined"] * 5, "a page script left a global behind"
    assert page.evaluate(CLASSIC) == ["/vendor/socket.io.min.js"]


def test_the_phone_page_runs_as_modules_without_a_stage_global(stage, pages, peers):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)  # join scene, open the prompt
    phone = pages.phone()
    join(phone, f"{stage.url}/", "Modular Mo")
    modules_only(phone)
    phone.fill("#story", "A cape in three modules.")
    phone.click("#send")
    expect(phone.locator(".mine-item").first).to_have_attribute("data-state", "sent")
    record = moderator.wait_for("queue_add")["record"]
    assert moderator.call("moderate", {"id": record["id"], "decision": "approve"})["ok"]
    expect(phone.locator(".mine-item").first).to_have_attribute("data-state", "approved")  # record_status
    phone.click("#tab-wall")  # feed.js, importing from audience.js, fills the wall
    expect(phone.locator("#feed li .text")).to_have_text(["A cape in three modules."])
    assert pages.errors == []


def test_console_and_display_pages_run_as_modules_without_a_stage_global(stage, pages, peers):
    display = pages.desktop("display", 1280, 720)
    display.goto(stage.display_url("main"))
    host = pages.desktop("host")
    log_in(host, stage, "host", "/host")
    crew = pages.desktop("crew")
    log_in(crew, stage, "crew", "/crew")
    moderator = pages.desktop("moderator")
    log_in(moderator, stage, "moderator", "/moderate")
    for page in (display, host, crew, moderator):
        modules_only(page)

    expect(host.locator("#conn")).to_have_attribute("data-state", "online")
    expect(host.locator("#cues li[data-state=standby]")).to_have_attribute("data-id", "1")
    host.click("#go")  # host.js: GO; the join scene reaches the display's module
    expect(display.locator("#scene-join")).to_be_visible()
    expect(crew.locator("#cues li").first).to_have_attribute("data-state", "done")  # crew.js
    expect(crew.locator("#takes-empty")).to_be_visible()  # takes.js, on crew.js's socket
    expect(moderator.locator("#conn")).to_have_attribute("data-state", "online")  # moderation.js
    assert pages.errors == []
