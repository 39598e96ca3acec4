"""The phone and the projector in the audience's language: Arabic right to left with nothing left in English,
Spanish picked on the phone and kept, the projector in the show's language."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

from stage import i18n

from stage.show.loader import load_show
from tests.browser.phone import join
from tests.browser.projector import serious_violations
from tests.peers import go

DEMO = load_show(Path(__file__).resolve().parents[2] / "shows" / "tiny-stories.yaml")
LATIN = re.compile(r"[A-Za-z]")
PLACEHOLDER = re.compile(r"%\\\(\w+\\\)s")  # a placeholder once re.escape has been through it
# Every text a person meets on the page, read as a screen reader would too: visible text nodes and the names
# and hints in attributes (placeholder, aria-label, alt, title) of visible elements.
VISIBLE_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, text = node.textContent.trim(), el = node.parentElement;
    // The language picker names each language in itself ("English", "español"), each link with its own lang.
    if (text && el && !el.closest("script, style, template, #languages") && el.checkVisibility()) out.push(text);
  }
  for (const el of document.body.querySelectorAll("[placeholder], [aria-label], [alt], [title]")) {
    if (!el.checkVisibility()) continue;
    for (const name of ["placeholder", "aria-label", "alt", "title"]) {
      const value = (el.getAttribute(name) || "").trim();
      if (value) out.push(value);
    }
  }
  return out;
}"""


def english_sources(tag: str) -> list[re.Pattern]:
    """Each catalog message whose translation differs from its English, as a pattern over what a page shows
    (a placeholder matches any text): one of these on a page is a string the catalog failed to reach."""
    with (i18n.CATALOGS / tag / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    patterns = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for source in ids:
            if source not in strings:
                patterns.append(re.compile(PLACEHOLDER.sub(".+?", re.escape(source))))
    return patterns


def english_left(page: Page, written: set[str], tag: str) -> list[str]:
    """Texts still in English once what people and the show file wrote (user content) is taken out: the whole
    text one of the catalog's English messages, or, for a language not written in Latin letters, any of them."""
    sources = english_sources(tag)
    left = []
    for text in page.evaluate(VISIBLE_TEXTS):
        rest = text
        for words in sorted(written, key=len, reverse=True):
            rest = rest.replace(words, "")
        rest = rest.strip()
        if (tag == "ar" and LATIN.search(rest)) or any(source.fullmatch(rest) for source in sources):
            left.append(text)
    return left


def show_texts() -> set[str]:
    return {DEMO.title, *(p.text for p in DEMO.prompts)}


def test_the_arabic_phone_reads_right_to_left_with_every_text_from_the_catalog(stage, pages, peers, shot):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)  # join scene, the prompt, the wall
    phone = pages.phone(locale="ar-EG")
    phone.goto(f"{stage.url}/")
    assert phone.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    written = show_texts() | {"Salma", "Stage"}
    assert english_left(phone, written, "ar") == [], "the join view"
    shot(phone, "lang-ar-join")
    join(phone, f"{stage.url}/", "Salma")
    story = "The cape had been her grandmother's."
    written.add(story)
    phone.click("#tab-write")
    phone.fill("#story", story)
    phone.click("#send")
    record = moderator.wait_for("queue_add", lambda d: d["record"]["kind"] == "story")["record"]
    assert english_left(phone, written, "ar") == [], "the write view after a send"
    shot(phone, "lang-ar-write")
    assert moderator.call("moderate", {"id": record["id"], "decision": "approve"})["ok"]
    phone.click("#tab-wall")
    expect(phone.locator(f'#feed li[data-id="{record["id"]}"]')).to_be_visible()
    assert english_left(phone, written, "ar") == [], "the wall"
    assert serious_violations(phone) == [], "the Arabic wall"
    shot(phone, "lang-ar-wall")
    phone.click("#tab-mine")
    expect(phone.locator("#view-mine")).to_be_visible()
    assert english_left(phone, written, "ar") == [], "mine"
    shot(phone, "lang-ar-mine")
    # The layout mirrors: the tabs run right to left.
    write, mine = (phone.locator(f"#tab-{t}").bounding_box() for t in ("write", "mine"))
    assert write["x"] > mine["x"]


def test_a_phone_picks_spanish_and_keeps_it_and_the_projector_speaks_the_show_s_language(stage, pages, peers):
    host = peers.host()
    go(host)  # the join scene
    phone = pages.phone(locale="en-GB")
    phone.goto(f"{stage.url}/")
    assert phone.evaluate("document.documentElement.lang") == "en"
    phone.locator("#languages").get_by_text("español").click()
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    phone.goto(f"{stage.url}/")  # the pick is kept (a cookie), over the browser's English
    expect(phone.locator("html")).to_have_attribute("lang", "es")
    assert english_left(phone, show_texts() | {"Stage"}, "es") == []
    expect(phone.get_by_text("Únete al espectáculo")).to_be_visible()
    display = pages.desktop("display", 1920, 1080)
    display.goto(stage.display_url("main"))
    expect(display.locator("#scene-join")).to_be_visible()
    assert display.evaluate("document.documentElement.lang") == "en"  # the demo show's language
