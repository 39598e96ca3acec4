"""Consoles that prevent accidents, in Chromium against a real server: Ban asks first (button and key B) and
Cancel bans nobody; the J/K selection is aria-selected; no "Show on main" for a comment; the audit log reads
names; axe-core finds nothing serious (the host page: test_console_recording.py); the moderator's layout at
1440x900 and 1920x1080 (screenshots console-moderator-<size>.png)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.test_consoles_browser import cue, log_in, press_go
from tests.peers import go

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SIZES = ((1440, 900), (1920, 1080))


def serious_violations(page: Page) -> list[str]:
    page.evaluate(AXE.read_text())  # evaluate is not subject to the page's CSP, unlike a script tag
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({[n['target'] for n in v['nodes']][:3]})" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def submit(phone, text: str) -> str:
    record = str(uuid.uuid4())
    ack = phone.call("submit_story", {"id": record, "prompt": "cape", "text": text})
    assert ack["ok"], ack
    return record


def bans(host_peer) -> list[dict]:
    return host_peer.call("audit", {"action": "ban"})["entries"]


def test_ban_asks_first_by_button_and_by_key_and_cancel_bans_nobody(night, pages, shot):
    server, peers = night
    host = peers.host()
    go(host), go(host)  # join scene, prompt open
    moderator = pages.desktop("moderator")
    log_in(moderator, server, "moderator", "/moderate")
    ada, spam = peers.phone("Ada"), peers.phone("Spammer")
    submit(ada, "A spoiler about a cape, told gently")  # the show's word list flags "spoiler": it waits
    submit(spam, "spoiler spoiler spoiler")
    submit(spam, "spoiler again, louder")
    queue = moderator.locator("#queue li.record")
    expect(queue).to_have_count(3)

    # The danger button is not the Approve yellow (nor Approve's colour at all), and not beside Approve.
    row = queue.nth(1)
    looks = row.evaluate("""li => {
        const css = (sel) => getComputedStyle(li.querySelector(sel));
        const box = (sel) => li.querySelector(sel).getBoundingClientRect();
        return {approve: css('.approve').backgroundColor, ban: css('.ban').backgroundColor,
                banBorder: css('.ban').borderTopColor, banText: css('.ban').color,
                gap: box('.ban').left - box('.reject').right,
                next: li.querySelector('.approve').nextElementSibling.className};
    }""")
    assert looks["ban"] != looks["approve"] and looks["banBorder"] != looks["approve"], looks
    assert looks["banText"] != "rgb(17, 17, 17)" and "ban" not in looks["next"], looks
    assert looks["gap"] >= 40, f"Ban sits {looks['gap']} px from Reject: it must stand apart"

    # The button: a dialog, Cancel focused first; Enter (pressed by habit) cancels.
    row.locator(".ban").click()
    dialog = moderator.locator("#ban-dialog")
    expect(dialog).to_be_visible()
    expect(moderator.locator("#ban-cancel")).to_be_focused()
    expect(moderator.locator("#ban-title")).to_have_text("Ban Spammer?")
    expect(moderator.locator("#ban-what")).to_contain_text("All 2 of their waiting records are rejected")
    expect(moderator.locator("#ban-confirm")).to_have_text("Ban Spammer")
    expect(moderator.locator("#pending")).to_have_text("3")  # the counters follow at most twice a second
    shot(moderator, "console-moderator-ban-dialog")
    assert serious_violations(moderator) == [], "moderator page with the ban dialog open"
    moderator.keyboard.press("a")  # the queue's keys do nothing while the dialog asks
    moderator.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(queue).to_have_count(3)
    expect(moderator.locator("#moderation-status")).to_have_text("Not banned: Spammer.")

    # The key: B asks too; Escape cancels; still nobody banned.
    moderator.keyboard.press("k")
    moderator.keyboard.press("j")  # Spammer's first story
    expect(queue.nth(1)).to_have_attribute("aria-selected", "true")
    moderator.keyboard.press("b")
    expect(dialog).to_be_visible()
    expect(moderator.locator("#ban-cancel")).to_be_focused()
    moderator.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(queue).to_have_count(3)
    assert bans(host) == []
    submit(spam, "spoiler: not banned yet")
    expect(queue).to_have_count(4)

    # Confirming is a deliberate second step: Tab to "Ban Spammer", then Enter.
    moderator.keyboard.press("b")
    expect(moderator.locator("#ban-cancel")).to_be_focused()
    moderator.keyboard.press("Tab")
    expect(moderator.locator("#ban-confirm")).to_be_focused()
    moderator.keyboard.press("Enter")
    expect(queue).to_have_count(1)
    expect(queue.first.locator(".author")).to_have_text("Ada")
    expect(moderator.locator("#moderation-status")).to_have_text("Banned Spammer: 3 waiting records rejected.")
    [entry] = bans(host)
    assert entry["about"].startswith("Spammer") and entry["who"] == "moderator"

    # The moderator's page with a little of everything on it, as in the middle of a night.
    for n, (waiting, shown) in enumerate((("spoiler: the cape is a flag", "The cape that sneezed"),
                                           ("Is a spoiler a cape for cars?", "A cape for a snail, very small"),
                                           ("spoiler alert: capes all the way down", "Grandma's cape, still warm"))):
        guest = peers.phone(f"Guest {n}")
        submit(guest, waiting)
        submit(guest, shown)
    expect(queue).to_have_count(4)
    expect(moderator.locator("#approved li.record")).to_have_count(3)
    expect(moderator.locator("#pending")).to_have_text("4")
    for width, height in SIZES:
        moderator.set_viewport_size({"width": width, "height": height})
        shot(moderator, f"console-moderator-{width}x{height}")
    assert serious_violations(moderator) == [], "moderator page"
    assert pages.errors == []


def test_the_j_k_selection_is_aria_selected_on_a_grid_row_and_takes_the_focus(night, pages):
    server, peers = night
    host = peers.host()
    go(host), go(host)
    moderator = pages.desktop("moderator")
    log_in(moderator, server, "moderator", "/moderate")
    phone = peers.phone("Ada")
    for n in range(3):
        submit(phone, f"spoiler number {n}")
    rows = moderator.locator("#queue li.record")
    expect(rows).to_have_count(3)
    expect(moderator.locator("#queue")).to_have_attribute("role", "grid")
    expect(rows.first).to_have_attribute("role", "row")

    def selected() -> list[str]:
        return [rows.nth(i).get_attribute("aria-selected") for i in range(3)]

    expect(rows.first).to_have_attribute("aria-selected", "true")
    assert selected() == ["true", "false", "false"]
    moderator.keyboard.press("j")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    expect(rows.nth(1)).to_be_focused()
    moderator.keyboard.press("j")
    moderator.keyboard.press("j")  # the last stays selected at the end
    expect(rows.nth(2)).to_have_attribute("aria-selected", "true")
    assert selected() == ["false", "false", "true"]
    moderator.keyboard.press("k")
    expect(rows.nth(1)).to_have_attribute("aria-selected", "true")
    assert selected() == ["false", "true", "false"]
    moderator.keyboard.press("r")  # rejected: the selection stays on a row, and so does the focus
    expect(rows).to_have_count(2)
    expect(moderator.locator("#moderation-status")).to_have_text("Rejected: “spoiler number 1” by Ada.")
    expect(moderator.locator('#queue li[aria-selected="true"]')).to_have_count(1)
    expect(moderator.locator('#queue li[aria-selected="true"]')).to_be_focused()
    assert pages.errors == []


def test_a_comment_is_never_offered_for_a_display_and_a_story_is(night, pages):
    server, peers = night
    host_peer, moderation = peers.host(), peers.moderation()
    go(host_peer), go(host_peer)
    host = pages.desktop("host")
    log_in(host, server, "host", "/host")
    ada, bo = peers.phone("Ada"), peers.phone("Bo")
    story = submit(ada, "A cape for the cat.")  # auto-approved (the console show's prompt)
    comment = str(uuid.uuid4())
    assert bo.call("submit_comment", {"id": comment, "on": story, "text": "The cat looks great"})["ok"]
    assert moderation.call("moderate", {"id": comment, "decision": "approve"})["ok"]
    approved = host.locator("#approved li.record")
    expect(approved).to_have_count(2)
    commented = approved.filter(has_text="The cat looks great")
    expect(commented.locator("button.send")).to_have_count(0)
    expect(commented.locator(".send-to")).to_have_text("A comment is not shown on a display on its own.")
    offered = approved.filter(has_text="A cape for the cat.")
    expect(offered.locator("button.send")).to_have_text(["Show on main", "Show on side"])
    offered.locator("button.send", has_text="Show on main").click()
    expect(host.locator("#moderation-status")).to_have_text("On main now: “A cape for the cat.” by Ada.")
    expect(host.locator("#go-error")).to_be_hidden()
    expect(host.locator("#queue li")).to_have_count(0)
    assert serious_violations(host) == [], "host page, nothing waiting"
    assert pages.errors == []


def test_the_audit_log_reads_names_not_ids(night, pages):
    server, peers = night
    moderation = peers.moderation()
    host = pages.desktop("host")
    log_in(host, server, "host", "/host")
    expect(host.locator("#go-next")).to_have_text(re.compile(r"^Next: cue 1"))
    host.click("#go")
    expect(cue(host, "1")).to_have_attribute("data-state", "done")
    press_go(host)  # the prompt opens
    expect(cue(host, "2")).to_have_attribute("data-state", "done")
    ada = peers.phone("Ada")
    submit(ada, "A cape for the cat.")
    flagged = submit(ada, "A spoiler about the cape")
    assert moderation.call("moderate", {"id": flagged, "decision": "reject"})["ok"]
    host.fill("#audit-action", "")
    host.click("#audit-form button")
    rows = host.locator("#audit tr")
    expect(rows.filter(has_text="reject")).to_have_count(1)
    table = host.locator("#audit").evaluate(
        "tbody => [...tbody.rows].map(r => [...r.cells].map(c => c.textContent))")
    by_action = {row[2]: row for row in reversed(table)}  # the newest of each action
    assert by_action["reject"][1] == "moderator"
    assert by_action["reject"][3] == "story by Ada: “A spoiler about the cape”"
    assert by_action["submit"][1] == "Ada" and by_action["join"][3] == "Ada"
    assert by_action["approve"][1] == "auto-approve"
    assert by_action["go"][1] == "host" and by_action["go"][3] == "cue 2"
    assert {row[1] for row in table if row[2] == "login"} == {"host", "moderator"}
    shown = [cell for row in table for cell in row]
    assert not [cell for cell in shown if UUID.search(cell) or re.search(r"\b(host|moderator):[0-9a-f]{6,}", cell)], \
        shown
    # The ids are still there for whoever needs them: on hover, and in the CSV.
    assert UUID.search(host.locator("#audit tr", has_text="reject").locator("td").nth(3).get_attribute("title"))
    assert pages.errors == []


def test_axe_finds_nothing_serious_on_the_login_pages(stage, pages):
    for role in ("host", "moderator"):
        page = pages.desktop(f"{role} login")
        page.goto(f"{stage.url}/login/{role}")
        expect(page.locator("#passphrase")).to_be_visible()
        assert serious_violations(page) == [], f"{role} login page"
        page.fill("#passphrase", "not the passphrase")
        page.click("button[type=submit]")
        expect(page.locator(".error")).to_be_visible()
        assert serious_violations(page) == [], f"{role} login page with its error"
    assert pages.errors == [] or all("401" in e or "403" in e for e in pages.errors), pages.errors
