"""Every tap on the phone answered where it was made (issue 18): a send on the Write view, with what happens
next; a comment under its form; a recommendation on its button, announced; an offer to perform on its card,
naming the story; and a refusal next to what caused it."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import Page, expect

from tests.browser.phone import ServerLink, draw_a_line, join
from tests.browser.test_phone_curation import a_story_on_the_wall, approve_next, send_story
from tests.peers import go

SENT = "Sent — a moderator reads it next. You'll see it under Mine."
ON_WALL = "Sent — it is on the wall now. You'll see it under Mine."
SAVED = "Your story is saved on this phone: it goes as soon as the connection is back. You'll see it under Mine."


def stories(stage) -> list[str]:
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        return [text for (text,) in db.execute("SELECT text FROM records WHERE kind = 'story' ORDER BY created_at")]


def in_viewport(page: Page, selector: str) -> bool:
    return page.evaluate("""(selector) => {
      const box = document.querySelector(selector).getBoundingClientRect();
      return box.height > 0 && box.top >= 0 && box.bottom <= innerHeight;
    }""", selector)


def test_the_phone_confirms_a_send_on_the_write_view_and_follows_it(stage, pages, peers, shot):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)  # join scene, open the prompt
    phone = pages.phone("iPhone 13")
    link = ServerLink(phone)
    join(phone, f"{stage.url}/", "Noted Nia")

    phone.fill("#story", "A cape that waved back.")
    phone.click("#send")
    note = phone.locator("#story-sent")
    expect(note).to_have_text(SENT)
    expect(note).to_have_attribute("role", "status")  # announced, not only shown
    expect(phone.locator("#tab-write")).to_have_attribute("aria-selected", "true")  # still where it was sent
    expect(phone.locator("#view-write")).to_be_visible()
    shot(phone, "phone-write-sent")
    assert in_viewport(phone, "#story-sent"), "the confirmation is beside the Send button, in view"
    expect(phone.locator("#story")).to_have_value("")

    approve_next(moderator)
    expect(note).to_have_text(ON_WALL)  # record_status: the note follows what became of it
    shot(phone, "phone-write-on-the-wall")

    link.cut()
    expect(phone.locator("#conn")).to_have_attribute("data-state", "offline")
    phone.fill("#story", "A cape in the tunnel, no signal.")
    phone.click("#send")
    expect(note).to_have_text(SAVED)
    shot(phone, "phone-write-saved-offline")
    link.restore()
    expect(note).to_have_text(SENT, timeout=30_000)
    assert stories(stage) == ["A cape that waved back.", "A cape in the tunnel, no signal."]

    phone.locator("#story-form .to-mine").click()
    expect(phone.locator("#tab-mine")).to_have_attribute("aria-selected", "true")
    expect(phone.locator(".mine-item")).to_have_count(2)
    assert pages.errors == []


def test_a_refused_story_is_said_beside_its_form_with_its_words_back_in_the_box(stage, pages, peers, shot):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)
    phone = pages.phone("iPhone 13")
    join(phone, f"{stage.url}/", "Wordy Wim")
    error = phone.locator("#story-error")

    phone.click("#send")  # nothing written
    expect(error).to_have_text("Write your story first.")
    long = " ".join(["cape"] * 31)  # the demo prompt takes 30 words
    phone.fill("#story", long)
    expect(phone.locator("#story")).to_have_attribute("aria-invalid", "true")
    phone.click("#send")
    expect(error).to_have_text("Your story is too long: at most 280 characters and 30 words.")
    expect(error).to_have_attribute("role", "alert")
    expect(phone.locator("#story")).to_have_value(long)  # kept to mend
    assert in_viewport(phone, "#story-error")
    shot(phone, "phone-write-too-long")

    phone.fill("#story", "First and last.")
    phone.click("#send")
    first = moderator.wait_for("queue_add")["record"]
    expect(phone.locator("#story-sent")).to_have_text(SENT)
    assert moderator.call("ban", {"participant": first["participant"]})["ok"]
    phone.fill("#story", "")
    phone.fill("#story", "One more after the ban.")
    phone.click("#send")
    # The server's refusal, in the phone's words (not the server's English), the story back in the box.
    expect(error).to_have_text("This phone can no longer send anything tonight. Your story is back in the box.")
    expect(phone.locator("#story")).to_have_value("One more after the ban.")
    expect(phone.locator("#story-sent")).to_have_text("")
    shot(phone, "phone-write-refused")
    assert pages.errors == []


def test_comment_recommend_and_perform_are_answered_on_their_card(stage, pages, peers, shot):
    night = a_story_on_the_wall(stage, pages, peers)
    host, moderator, ada, bo, card = night.host, night.moderator, night.ada, night.bo, night.card
    recommend = card.locator(".recommend")
    recommend.click()
    expect(recommend).to_have_attribute("aria-pressed", "true")
    expect(recommend.locator(".count")).to_have_text("1")
    expect(recommend).to_have_accessible_name("Recommend 1")  # the heart is decoration
    expect(bo.locator("#announce")).to_have_text("You recommend this. 1 recommendation.")
    recommend.click()
    expect(recommend).to_have_attribute("aria-pressed", "false")
    expect(bo.locator("#announce")).to_have_text("You no longer recommend this. 0 recommendations.")
    recommend.click()
    expect(recommend.locator(".count")).to_have_text("1")

    card.locator(".comment-form button").click()  # nothing written: said under the form
    expect(card.locator(".comment-error")).to_have_text("Write a comment first.")
    card.locator(".comment-input").fill("Goosebumps.")
    card.locator(".comment-form button").click()
    state = card.locator(".comment-state")
    expect(state).to_have_text("Sent — your comment shows here once a moderator approves it.")
    expect(card.locator(".comment-error")).to_be_hidden()
    expect(card.locator(".comment-input")).to_have_value("")
    shot(bo, "phone-wall-comment-sent")
    approve_next(moderator, "comment")
    expect(card.locator(".comments")).to_contain_text("Goosebumps.")
    expect(state).to_have_text("Your comment is on the wall now.")

    # Perform without consent: to the consent box, the reason right beside it, in view, the box focused.
    card.locator(".perform").click()
    expect(bo.locator("#tab-write")).to_have_attribute("aria-selected", "true")
    consent_error = bo.locator("#consent-error")
    expect(consent_error).to_have_text("Tick the box to agree first, then press “I'd like to perform”.")
    expect(bo.locator("#consent-check")).to_be_focused()
    assert in_viewport(bo, "#consent-error") and in_viewport(bo, "#consent-check")
    gap = bo.evaluate("""() => document.querySelector('#consent-error').getBoundingClientRect().top
      - document.querySelector('#consent-check').closest('label').getBoundingClientRect().bottom""")
    assert 0 <= gap < 24, f"the consent error sits {gap}px from its checkbox"
    expect(bo.locator("#volunteer-state")).to_contain_text("“The cape remembered every wearer.”")
    shot(bo, "phone-perform-needs-consent")
    bo.check("#consent-check")
    expect(consent_error).to_be_hidden()
    bo.click("#volunteer")
    expect(bo.locator("#volunteer-state")).to_have_text(
        "Thank you! You offered to perform “The cape remembered every wearer.” — "
        "the host picks volunteers and will call you.")
    listing = host.wait_for("volunteers", lambda v: v["volunteers"])["volunteers"]
    assert [(v["name"], v["story_text"]) for v in listing] == [("Bo", "The cape remembered every wearer.")]
    shot(bo, "phone-perform-offered")

    # With consent given, "Perform this" is answered on its card, naming the story.
    send_story(ada, "A second cape, shorter.")
    second = approve_next(moderator)
    bo.click("#tab-wall")
    expect(card.locator(".card-state")).to_contain_text("“The cape remembered every wearer.”")  # still said there
    other = bo.locator(f'#feed li[data-id="{second}"]')
    other.locator(".perform").click()
    expect(other.locator(".card-state")).to_have_text(
        "Thank you! You offered to perform “A second cape, shorter.” — "
        "the host picks volunteers and will call you.")
    expect(bo.locator("#tab-wall")).to_have_attribute("aria-selected", "true")
    expect(card.locator(".card-state")).to_have_text("")  # one standing offer: the first story's card lets go
    host.wait_for("volunteers", lambda v: v["volunteers"][:1]
                  and v["volunteers"][0]["story_text"] == "A second cape, shorter.")
    shot(bo, "phone-wall-perform-offered")

    bo.click("#tab-write")
    bo.click("#withdraw-consent")
    expect(bo.locator("#volunteer-state")).to_have_text(
        "Your consent is withdrawn: the host will not call you, and your takes are hidden.")
    expect(bo.locator("#consent-check")).not_to_be_checked()
    bo.click("#tab-wall")
    expect(other.locator(".card-state")).to_have_text("")  # no offer stands: no card says there is one
    assert pages.errors == []


def visible_actions(card) -> list[tuple[str, bool]]:
    return card.evaluate("""(li) => [...li.querySelectorAll('.actions button')].filter((b) => b.offsetParent)
      .map((b) => [b.className, getComputedStyle(b).backgroundColor])""")


def test_each_card_has_one_main_action_and_the_tabs_are_not_the_modes(stage, pages, peers, shot):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)
    phone = pages.phone("iPhone 13")
    join(phone, f"{stage.url}/", "Picky Pat")
    send_story(phone, "A cape with one clear button.")
    story = approve_next(moderator)
    phone.click("#tab-write")
    phone.click('#modes button[data-mode="drawing"]')
    draw_a_line(phone)
    phone.click("#drawing-form button[type=submit]")
    expect(phone.locator("#media-sent")).to_have_text(
        "Your drawing is sent — a moderator looks at it next. You'll see it under Mine.", timeout=30_000)
    drawing = approve_next(moderator, "drawing")
    phone.click("#tab-wall")
    for record, main in ((story, "Write a story from this"), (drawing, "Write a story from this")):
        card = phone.locator(f'#feed li[data-id="{record}"]')
        expect(card).to_be_visible()
        primary = card.locator(".actions button.primary")
        expect(primary).to_have_count(1)
        expect(primary).to_have_text(main)  # the demo prompt asks for a story first
        shown = visible_actions(card)
        assert len(shown) >= 3 if record == story else len(shown) >= 2, shown
        main_colour = {colour for cls, colour in shown if "primary" in cls}
        others = {colour for cls, colour in shown if "primary" not in cls}
        assert main_colour.isdisjoint(others), f"the main action looks like the others: {shown}"
    shot(phone, "phone-wall-one-main-action")

    phone.click("#tab-write")
    look = """(el) => { const s = getComputedStyle(el);
      return [s.backgroundColor, s.borderTopLeftRadius, s.borderBottomWidth, s.borderTopWidth]; }"""
    tab = phone.locator("#tab-write").evaluate(look)
    mode = phone.locator('#modes button[aria-pressed="true"]').evaluate(look)
    assert tab != mode and tab[1] != mode[1], f"the Write tab {tab} looks like the selected mode {mode}"
    expect(phone.locator("#modes-label")).to_be_visible()
    shot(phone, "phone-write-drawing-mode")

    go(host)  # close the prompt: nothing to remix into, so no card pushes a remix
    phone.click("#tab-wall")
    expect(phone.locator("#feed li")).to_have_count(2)
    expect(phone.locator("#feed .actions button.primary")).to_have_count(0)
    assert pages.errors == []
