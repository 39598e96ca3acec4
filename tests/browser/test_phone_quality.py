"""The phone page's weight, accessibility, reflow and languages, as a phone on venue Wi-Fi meets them."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.chromium import ARTIFACTS
from tests.browser.phone import draw_a_line, join
from tests.browser.test_phone_curation import approve_next, send_story
from tests.peers import go

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BUDGET = 60 * 1024  # first load, compressed: HTML + CSS + JS, socket.io client included

# Whatever reaches past the viewport's inline edges (a sideways scroll, or something cut off) and any control
# whose own text does not fit in it. Hidden and screen-reader-only elements do not count.
OVERFLOW = r"""() => {
  const width = document.documentElement.clientWidth, found = [];
  const page = document.documentElement.scrollWidth;
  if (page > width) found.push(`page: ${page} > ${width}`);
  const name = (el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`;
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".sr-only, template") || !el.getClientRects().length) continue;
    const box = el.getBoundingClientRect();
    if (box.width && (box.right > width + 1 || box.left < -1)) found.push(`${name(el)}: ${box.left}..${box.right}`);
    if (!["BUTTON", "A", "LABEL"].includes(el.tagName)) continue;
    if (el.scrollWidth > el.clientWidth + 1) found.push(`${name(el)} cut: ${el.scrollWidth} > ${el.clientWidth}`);
    // More lines than words: a word was broken in two ("Writ|e").
    const rects = [], walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), range = document.createRange();
    while (walk.nextNode()) {
      range.selectNodeContents(walk.currentNode);
      rects.push(...[...range.getClientRects()].filter((r) => r.width));
    }
    const tops = rects.map((r) => r.top).sort((a, b) => a - b);
    const lines = tops.filter((top, i) => i === 0 || top - tops[i - 1] > 4).length;
    const words = el.textContent.trim().split(/\s+/).filter(Boolean).length;
    if (words && lines > words) found.push(`${name(el)}: ${words} words on ${lines} lines`);
  }
  return found;
}"""


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


def night_with_a_story_and_a_drawing(stage, peers, phone: Page) -> None:
    """The phone joined, its story and drawing on the wall, a comment of its own waiting: every card state."""
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)
    join(phone, f"{stage.url}/", "Ada")
    send_story(phone, "A cape for the axe.")
    approve_next(moderator)
    phone.click('#modes button[data-mode="drawing"]')
    draw_a_line(phone)
    phone.click("#drawing-form button[type=submit]")
    approve_next(moderator, "drawing")
    phone.click("#tab-wall")
    expect(phone.locator("#feed li")).to_have_count(2)
    phone.locator("#feed li .comment-input").first.fill("Lovely.")
    phone.locator("#feed li .comment-form button").first.click()
    expect(phone.locator("#feed li .comment-state").first).not_to_be_empty()


def views(phone: Page):
    """Each view and mode of the joined phone, in turn: yields its name while it is in front."""
    phone.click("#tab-write")
    for mode in ("story", "drawing", "photo", "clip"):
        phone.click(f'#modes button[data-mode="{mode}"]')
        yield f"write-{mode}"
    phone.click('#modes button[data-mode="story"]')
    phone.click("#tab-wall")
    phone.locator("#feed li .perform:visible").first.click()  # no consent yet: the consent error on the Write tab
    expect(phone.locator("#consent-error")).to_be_visible()
    yield "write-consent-error"
    phone.click("#tab-wall")
    yield "wall"
    phone.click("#tab-mine")
    yield "mine"


def test_every_audience_view_has_no_serious_accessibility_violations(stage, pages, peers):
    phone = pages.phone("iPhone 13")
    phone.goto(f"{stage.url}/")
    expect(phone.locator("#join")).to_be_visible()
    assert serious_violations(phone) == [], "join view"
    night_with_a_story_and_a_drawing(stage, peers, phone)
    for view in views(phone):
        assert serious_violations(phone) == [], view
        phone.screenshot(path=str(ARTIFACTS / f"phone-{view}-full.png"), full_page=True, animations="disabled")
    assert pages.errors == []


def test_no_sideways_scrolling_nor_anything_cut_at_320_px_and_at_200_percent_zoom(stage, pages, peers, shot):
    narrow = pages.phone("iPhone SE")  # 320 CSS px wide
    narrow.set_viewport_size({"width": 320, "height": 568})
    profile = dict(pages.playwright.devices["iPhone 13"])
    profile.pop("default_browser_type", None)
    # 200 % zoom on an iPhone 13: half the CSS pixels across, twice the device pixels for each.
    profile.update(viewport={"width": 195, "height": 332}, device_scale_factor=profile["device_scale_factor"] * 2)
    context = pages.browser.new_context(**profile)
    pages.contexts.append(context)
    zoomed = pages._watch(context.new_page(), "zoomed phone")

    zoomed.goto(f"{stage.url}/")
    expect(zoomed.locator("#join")).to_be_visible()
    assert zoomed.evaluate(OVERFLOW) == [], "join view at 200 %"
    shot(zoomed, "phone-zoom-200-join")
    night_with_a_story_and_a_drawing(stage, peers, narrow)
    join(zoomed, f"{stage.url}/", "Zoe Zoomed, who has a long name")
    for page, size in ((narrow, "320px"), (zoomed, "zoom-200")):
        for view in views(page):
            assert page.evaluate(OVERFLOW) == [], f"{view} at {size}"
            if view in ("write-story", "wall", "write-consent-error"):
                shot(page, f"phone-{size}-{view}")
    assert pages.errors == []


def test_the_phone_offers_the_show_s_languages_and_keeps_the_pick(stage, pages, peers, shot):
    host = peers.host()
    go(host), go(host)
    phone = pages.phone("iPhone 13")
    phone.goto(f"{stage.url}/")
    picker = phone.locator("#languages")
    expect(picker.locator("a")).to_have_text(["English", "العربية", "español"])
    expect(picker.locator('a[aria-current="true"]')).to_have_text("English")
    expect(picker.locator('a[lang="ar"]')).to_have_attribute("dir", "rtl")
    picker.locator('a[lang="es"]').click()
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    expect(picker.locator('a[aria-current="true"]')).to_have_text("español")
    phone.goto(f"{stage.url}/")  # no ?lang= any more: the cookie keeps the pick
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    shot(phone, "phone-lang-es-join")
    join(phone, f"{stage.url}/?lang=es", "Ana")
    shot(phone, "phone-lang-es-write")
    assert serious_violations(phone) == [], "Spanish page"

    phone.goto(f"{stage.url}/?lang=ar")  # right to left: the page mirrors through logical properties
    expect(phone.locator("html")).to_have_attribute("dir", "rtl")
    expect(phone.locator("#me")).to_have_text("Ana")
    first, last = (phone.locator(f"#tab-{tab}").bounding_box() for tab in ("write", "mine"))
    assert first["x"] > last["x"], "the first tab is at the right of an Arabic page"
    phone.fill("#story", "قصة صغيرة عن عباءة.")
    phone.click("#send")
    phone.click("#tab-mine")
    edge = phone.locator(".mine-item").first.evaluate(
        "(li) => [getComputedStyle(li).borderRightWidth, getComputedStyle(li).borderLeftWidth]")
    assert edge == ["4px", "0px"], f"the state edge of a Mine item starts at the right: {edge}"
    shot(phone, "phone-lang-ar-mine")
    phone.click("#tab-write")
    shot(phone, "phone-lang-ar-write")
    assert serious_violations(phone) == [], "Arabic page"
    assert pages.errors == []
