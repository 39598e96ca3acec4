"""The night's book page (/book) in Chromium: two curators' consoles on one real night, in step.

The remix tests' small night (Ada's story, Bea's drawing of it, Cy's circled take filmed by Sam) plus two more
stories; the audience recommends Ada's. One console adds the suggested page and the other sees it; a story from
the picker; a drag on the second console reorders both; a take still is paired with a page; the title is set
while the other curator types the foreword; a removal is undone; a withdrawn story stays, marked, on both.
"""

from __future__ import annotations

import sqlite3

from playwright.sync_api import Page, expect

from tests.browser.projector import serious_violations
from tests.browser.test_consoles_browser import log_in
from tests.remix.conftest import remix_night  # noqa: F401  (the remix tests' small real night)

SEA = "The cape went to sea one night and came back as a sail, salt in every seam."
MOON = "She hung the cape on the moon to dry. It is still there; look up."


def open_book(page: Page, server) -> Page:
    """Log in as crew and follow the crew console's link (the login form always lands on the role's console)."""
    log_in(page, server, "crew", "/crew")
    page.get_by_role("link", name="The night's book").click()
    expect(page).to_have_url(f"{server.url}/book")
    return page


def a_page(page: Page, words: str):
    return page.locator("#pages li", has_text=words)


def test_two_consoles_curate_one_book_in_step(remix_night, pages, shot):  # noqa: F811
    night = remix_night
    for name in ("Eve", "Fay"):
        night.phones[name] = night.peers.phone(name)
    sea = night.write_story("Eve", SEA)
    night.approve(sea)
    night.approve(night.write_story("Fay", MOON))
    for name in ("Cy", "Dee"):
        assert night.phones[name].call("recommend", {"id": night.story})["ok"]

    first = open_book(pages.desktop("book-a", 1440, 900), night.stage)
    second = open_book(pages.desktop("book-b", 1920, 1080), night.stage)
    for page in (first, second):
        expect(page.locator("#conn")).to_have_attribute("data-state", "online")
        expect(page.locator("#pages-empty")).to_be_visible()
        expect(page.locator("#render")).to_be_disabled()  # nothing to print yet, and it says so
        expect(page.locator("#render-hint")).to_contain_text("nothing to print")

    # The night's own suggestion: the recommended story with its drawing, one press away.
    recommended = first.locator(".suggestion[data-reason=recommended]")
    expect(recommended).to_have_count(1)
    expect(recommended).to_contain_text("Tell no one about this cape")
    expect(recommended).to_contain_text("2 recommendations")
    expect(recommended.locator("img.thumb")).to_have_attribute("src", f"/media/{_media_of(night, night.drawing)}")
    expect(first.locator(".suggestion[data-reason=circled]")).to_contain_text("take 1, circled")
    shot(first, "book-start-1440x900")
    recommended.get_by_role("button", name="Add page").click()
    for page in (first, second):  # the other console hears of it without a refresh
        expect(page.locator("#pages li")).to_have_count(1)
        expect(page.locator("#pages li .page-credits")).to_have_text("Written by Ada · drawn by Bea")
        expect(page.locator("#pages li img.thumb")).to_be_visible()
        expect(page.locator(".suggestion[data-reason=recommended]")).to_have_count(0)  # in the book now
        expect(page.locator("#totals")).to_contain_text("1 page by 2 people, from ")

    # Any approved story, found in the picker by its words.
    first.fill("#story-filter", "to sea")
    expect(first.locator("#story-list li")).to_have_count(1)
    first.locator("#story-list li").get_by_role("button", name="Add page").click()
    expect(first.locator("#story-list li")).to_contain_text("In the book: page 2")
    for page in (first, second):
        expect(page.locator("#pages li")).to_have_count(2)

    # Drag and drop on the second console: the sea story above Ada's, on both.
    second.locator("#pages li").nth(1).locator(".page-number").drag_to(
        second.locator("#pages li").nth(0), target_position={"x": 40, "y": 6})
    for page in (first, second):
        expect(page.locator("#pages li .page-text")).to_contain_text([SEA[:30], "Tell no one"])

    # The keyboard: Move down on page 1, and the focus stays with the page it moved.
    first.locator("#pages li").nth(0).get_by_role("button", name="Move down, page 1").focus()
    first.keyboard.press("Enter")
    expect(first.locator("#pages li .page-text").nth(1)).to_have_text(SEA)
    expect(first.locator(":focus")).to_have_attribute("aria-label", "Move up, page 2")
    first.keyboard.press("Enter")  # and back up
    expect(first.locator("#pages li .page-text").nth(0)).to_have_text(SEA)

    # Pair a picture: a still from Cy's circled take, at 1.2 s.
    a_page(first, "to sea").get_by_role("button", name="Add a picture, page 1").click()
    chooser = first.locator("#chooser")
    expect(chooser).to_be_visible()
    chooser.locator(f'.pick[data-id="{night.takes[0]}"]').click()
    expect(chooser.locator("#still")).to_be_visible()
    first.fill("#still-at", "99")
    chooser.get_by_role("button", name="Use this picture").click()
    expect(chooser.locator("#chooser-error")).to_contain_text("between 0 and")  # said, not sent
    first.fill("#still-at", "1.2")
    first.wait_for_function("() => document.getElementById('still-preview').readyState >= 1")
    shot(first, "book-chooser-1440x900")
    assert serious_violations(first) == []
    chooser.get_by_role("button", name="Use this picture").click()
    expect(chooser).to_be_hidden()
    for page in (first, second):
        paired = a_page(page, "to sea")
        still = f"/media/{_media_of(night, night.takes[0])}#t=1.2"
        expect(paired.locator(".thumb-still video")).to_have_attribute("src", still)
        expect(paired.locator(".page-still")).to_have_text("Still at 1.2 s")
        expect(paired.locator(".page-credits")).to_contain_text("Written by Eve")
        expect(paired.locator(".page-credits")).to_contain_text("performed by Cy")
        expect(paired.locator(".page-credits")).to_contain_text("filmed by Sam")

    # Settings: the title from one console while the other curator is typing the foreword.
    second.click("#book-foreword")
    second.keyboard.type("Made tonight by all of you")
    first.fill("#book-title", "The Cape Book")
    first.press("#book-title", "Tab")
    expect(first.locator("#book-title-state")).to_have_text("Saved")
    expect(second.locator("#book-title")).to_have_value("The Cape Book")
    expect(second.locator("#book-foreword")).to_have_value("Made tonight by all of you")  # kept while typing
    second.press("#book-foreword", "Tab")
    expect(second.locator("#book-foreword-state")).to_have_text("Saved")
    expect(first.locator("#book-foreword")).to_have_value("Made tonight by all of you")
    first.fill("#book-size", "20")
    first.press("#book-size", "Tab")
    expect(first.locator("#book-trim-state")).to_have_text(
        "The page size must be between 76 and 305 mm; it stays 127 mm.")
    expect(first.locator("#book-size")).to_have_value("127")  # the field shows what will print
    expect(second.locator("#book-size")).to_have_value("127")
    expect(first.locator(".cover-plain")).to_have_text("The Cape Book")  # a typographic cover until one is chosen

    # The cover from a page, then a removal undone.
    a_page(first, "Tell no one").get_by_role("button", name="Use as cover, page 2").click()
    expect(second.locator("#cover-picture img.thumb")).to_be_visible()
    expect(second.locator("#cover-caption")).to_have_text("Cover: a drawing by Bea")
    a_page(first, "Tell no one").get_by_role("button", name="Remove, page 2").click()
    expect(second.locator("#pages li")).to_have_count(1)
    expect(first.locator("#undo-text")).to_contain_text("Page 2 removed")
    first.get_by_role("button", name="Undo").click()
    for page in (first, second):
        expect(page.locator("#pages li .page-text").nth(1)).to_contain_text("Tell no one")

    # Eve withdraws her story: its page stays, marked, on both consoles, and leaves the totals. Her words no longer
    # show anywhere, not even here: the page says what it was and why it is out.
    assert night.phones["Eve"].call("withdraw", {"id": sea})["ok"]
    for page in (first, second):
        withdrawn = page.locator("#pages li").first
        expect(withdrawn).to_have_class("page is-left-out")
        expect(withdrawn).not_to_contain_text("to sea")
        expect(withdrawn.locator(".left-out")).to_contain_text("Left out of the book: its story may no longer be "
                                                                 "shown (withdrawn by its author)")
        expect(page.locator("#totals")).to_contain_text("1 page by 2 people")
        expect(page.locator("#totals")).to_contain_text("(1 page left out)")
        expect(page.locator("#book-left-out")).to_contain_text("Page 1 is left out")

    first.fill("#story-filter", "")
    expect(first.locator("#story-list li")).to_have_count(2)  # Eve's is withdrawn: no longer offered
    for page in (first, second):
        page.evaluate("window.scrollTo(0, 0); document.activeElement.blur()")
        assert serious_violations(page) == [], page
    shot(first, "book-1440x900")
    shot(second, "book-1920x1080")

    # Print: `stage book` runs on the server, both consoles follow it, and the PDF is there to fetch.
    first.get_by_role("button", name="Render the book").click()
    expect(second.locator("#render-step")).not_to_be_empty()
    expect(first.locator("#file-pdf")).to_be_visible(timeout=180_000)
    expect(second.locator("#file-pdf")).to_be_visible()
    expect(first.locator("#render-summary")).to_contain_text("printed page")
    expect(first.locator("#render-left-out")).to_contain_text("Page 1 is left out")
    expect(first.locator("#book-left-out-title")).to_be_hidden()  # said once: the print left out what the book does
    expect(first.locator("#render")).to_be_enabled()
    pdf = first.request.get(first.locator("#file-pdf").evaluate("a => a.href"))
    assert pdf.ok and pdf.body().startswith(b"%PDF"), pdf.status
    share = second.request.get(second.locator("#file-share").evaluate("a => a.href"))
    assert share.ok and "Ada" in share.text() and "Eve" not in share.text()
    shot(first, "book-rendered-1440x900")
    # The HTML edition opens styled (its own policy lets its inline style in, and nothing else runs).
    edition = pages._watch(first.context.new_page(), "edition")
    answer = edition.goto(f"{night.stage.url}/book/files/html")
    assert "style-src 'unsafe-inline'" in answer.headers["content-security-policy"]
    assert "DejaVu" in edition.evaluate("getComputedStyle(document.documentElement).fontFamily")
    expect(edition.locator("h1").first).to_have_text("The Cape Book")
    # Ada withdraws a story the render printed: the render is a copy with her words, so it is no longer served.
    assert night.phones["Ada"].call("withdraw", {"id": night.story})["ok"]
    stale = first.request.get(f"{night.stage.url}/book/files/pdf")
    assert stale.status == 409 and "render the book again" in stale.text()
    assert pages.errors == []


def _media_of(night, record_id: str) -> str:
    with sqlite3.connect(night.data / "stage.db") as db:
        return db.execute("SELECT media FROM records WHERE id = ?", (record_id,)).fetchone()[0]


def test_a_render_that_fails_says_which_page_and_why(remix_night, pages, shot):  # noqa: F811
    night = remix_night
    crew = night.peers.crew()
    assert crew.call("book_add", {"story": night.story, "picture": night.drawing})["ok"]
    gone = _media_of(night, night.drawing)
    (night.data / "media" / gone).unlink()  # the drawing's file is lost
    page = open_book(pages.desktop("book", 1440, 900), night.stage)
    expect(page.locator("#pages li .thumb-missing")).to_have_text("Picture file missing")
    page.get_by_role("button", name="Render the book").click()
    error = page.get_by_role("alert").filter(has_text="The render failed")
    expect(error).to_be_visible(timeout=180_000)
    expect(error).to_contain_text("page 1")
    expect(page.locator("#render-result")).to_be_hidden()
    expect(page.locator("#render")).to_be_enabled()  # fix it, and press again
    shot(page, "book-render-failed-1440x900")
    # The thumbnails of the lost file fail to load too (the media route answers them 500, not 404); nothing else.
    assert [e for e in pages.errors if f"/media/{gone}" not in e] == []
