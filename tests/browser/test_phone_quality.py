"""The phone page's weight and accessibility, as a phone on venue Wi-Fi meets them."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.peers import go

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BUDGET = 60 * 1024  # first load, compressed: HTML + CSS + JS, socket.io client included


def first_load_bytes(page: Page, url: str) -> tuple[int, list[str]]:
    sizes: dict[str, int] = {}
    page.on("requestfinished", lambda request: sizes.__setitem__(request.url, request.sizes()["responseBodySize"]))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return sum(sizes.values()), sorted(sizes)


def serious_violations(page: Page) -> list[str]:
    page.evaluate(AXE.read_text())  # evaluate is not subject to the page's CSP, unlike a script tag
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def test_first_load_is_within_the_budget_and_stays_on_the_venue_server(stage, pages):
    phone = pages.phone()
    total, urls = first_load_bytes(phone, f"{stage.url}/")
    assert total <= BUDGET, f"first load is {total} bytes compressed; the budget is {BUDGET}"
    assert all(url.startswith(stage.url) for url in urls), "no request leaves the venue server"
    assert any(url.endswith("/vendor/socket.io.min.js") for url in urls)


def test_every_audience_view_has_no_serious_accessibility_violations(stage, pages, peers):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)
    phone = pages.phone()
    phone.set_viewport_size({"width": 320, "height": 640})  # the narrowest phones
    phone.goto(f"{stage.url}/")
    expect(phone.locator("#join")).to_be_visible()
    assert serious_violations(phone) == [], "join view"
    phone.fill("#name", "Ada")
    phone.click("#join-form button")
    expect(phone.locator("#story-form")).to_be_visible()
    phone.fill("#story", "A cape for the axe.")
    phone.click("#send")
    record = moderator.wait_for("queue_add")["record"]["id"]
    moderator.call("moderate", {"id": record, "decision": "approve"})
    assert serious_violations(phone) == [], "write view"
    phone.click("#tab-wall")
    expect(phone.locator("#feed li")).to_have_count(1)
    assert serious_violations(phone) == [], "wall view"
    phone.click("#tab-mine")
    assert serious_violations(phone) == [], "mine view"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 320, "no sideways scrolling at 320 px"
