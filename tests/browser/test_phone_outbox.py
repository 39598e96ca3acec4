"""The phone's one outbox (audience_web/static/js/outbox.js): every story, drawing, photo and clip waits
in IndexedDB until the server has answered it, across a lost Wi-Fi, an unreachable server and a reload,
and is sent once; without IndexedDB it waits in the page's memory and the person is told."""

from __future__ import annotations

import base64
import io
import sqlite3

from PIL import Image
from playwright.sync_api import expect

from tests.chromium import ARTIFACTS
from tests.browser.phone import ServerLink, draw_a_line, join, outbox
from tests.browser.test_phone_media import BLOCKED_INDEXEDDB
from tests.peers import go
from tests.waiting import wait_until

UNSAVED = "This phone cannot save it for later: keep this page open until it is sent."


def records(stage) -> list[tuple[str, str]]:
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        return db.execute("SELECT kind, status FROM records ORDER BY kind").fetchall()


def texts(stage) -> list[tuple[str, str]]:
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        return db.execute("SELECT id, text FROM records ORDER BY created_at").fetchall()


def test_story_written_offline_is_sent_once_when_the_phone_is_back(stage, pages, peers):
    host = peers.host()
    go(host), go(host)  # join scene, open the prompt
    phone = pages.phone("Pixel 7")
    join(phone, f"{stage.url}/", "Offline Ola")
    expect(phone.locator("#prompt-text")).to_contain_text("cape")

    phone.context.set_offline(True)
    expect(phone.locator("#conn")).to_have_attribute("data-state", "offline", timeout=30_000)
    phone.fill("#story", "Written in the basement, no signal.")
    phone.click("#send")
    item = phone.locator(".mine-item").first
    expect(item).to_have_attribute("data-status", "waiting")

    phone.context.set_offline(False)
    expect(item).to_have_attribute("data-status", "pending", timeout=30_000)
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        assert db.execute("SELECT text FROM records").fetchall() == [("Written in the basement, no signal.",)]
    phone.reload()
    expect(phone.locator(".mine-item")).to_have_count(1)
    assert outbox(phone) == []  # answered: nothing left to send
    assert phone.evaluate("localStorage.getItem('stage.outbox')") is None


def story_sent_offline(stage, pages, peers, device: str, name: str, text: str, init_script: str | None = None):
    """A phone joined to an open prompt, then cut off from the server, sends ``text``: (page, its link)."""
    host = peers.host()
    go(host), go(host)
    phone = pages.phone(device)
    if init_script:
        phone.add_init_script(init_script)
    link = ServerLink(phone)
    join(phone, f"{stage.url}/", name)
    link.cut()
    expect(phone.locator("#conn")).to_have_attribute("data-state", "offline")
    phone.fill("#story", text)
    phone.click("#send")
    return phone, link


def test_a_story_waits_in_indexeddb_through_a_reload_while_the_server_is_unreachable(stage, pages, peers, shot):
    """Fails on the localStorage outbox: the story must be in IndexedDB, survive a reload made while the
    server cannot be reached, and be sent (once) when it can."""
    phone, link = story_sent_offline(stage, pages, peers, "iPhone 13", "Cellar Cem", "The cape waited in the cellar.")
    item = phone.locator(".mine-item").first
    expect(item).to_have_attribute("data-status", "waiting")
    waiting = outbox(phone)
    assert waiting is not None, "no outbox in IndexedDB"
    assert [(w["kind"], w["text"]) for w in waiting] == [("story", "The cape waited in the cellar.")]
    expect(item).to_have_attribute("data-state", "waiting")
    expect(item.locator(".status")).to_contain_text("Waiting to send")
    phone.click("#tab-mine")
    shot(phone, "phone-outbox-waiting")

    phone.reload()  # the tab was closed and opened again; the server is still out of reach
    expect(phone.locator('.mine-item[data-state="waiting"]')).to_have_count(1)
    assert outbox(phone) == waiting
    assert texts(stage) == []

    link.restore()
    expect(phone.locator("#me")).to_have_text("Cellar Cem")
    sent = phone.locator(f'.mine-item[data-id="{waiting[0]["id"]}"]')
    expect(sent).to_have_attribute("data-state", "sent", timeout=30_000)
    expect(sent).to_have_attribute("data-status", "pending")
    wait_until(lambda: outbox(phone) == [], what="the outbox to empty")
    assert texts(stage) == [(waiting[0]["id"], "The cape waited in the cellar.")]  # the phone's id, once
    phone.click("#tab-mine")
    shot(phone, "phone-outbox-sent")
    assert pages.errors == []


def test_without_indexeddb_a_story_waits_in_memory_is_sent_and_the_person_is_told(stage, pages, peers, shot):
    phone, link = story_sent_offline(stage, pages, peers, "Pixel 7", "Private Pia", "Nothing on this phone keeps me.",
                                     init_script=BLOCKED_INDEXEDDB)  # private browsing, or storage blocked
    expect(phone.locator("#story-error")).to_have_text(UNSAVED)
    waiting = phone.locator('.mine-item[data-state="waiting"]')
    expect(waiting.locator(".hint")).to_have_text("Only on this page: keep it open until it is sent.")
    shot(phone, "phone-story-without-indexeddb")
    phone.click("#tab-mine")
    shot(phone, "phone-story-without-indexeddb-mine")

    link.restore()
    expect(phone.locator('.mine-item[data-state="sent"]')).to_have_count(1, timeout=30_000)
    expect(phone.locator("#story-error")).to_be_hidden()  # sent: nothing is left only in memory
    assert [text for _, text in texts(stage)] == ["Nothing on this phone keeps me."]
    assert pages.errors == []


def test_what_an_older_version_left_waiting_is_carried_over_and_sent(stage, pages, peers):
    """A phone that waited with the previous page (stories in localStorage "stage.outbox", pictures in
    IndexedDB "uploads", version 1) loads this one: both are moved into the one outbox and sent."""
    host = peers.host()
    go(host), go(host)
    png = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(png, "PNG")
    story_id, drawing_id = "0f6c8a52-1111-4000-8000-000000000001", "0f6c8a52-2222-4000-8000-000000000002"
    phone = pages.phone("Pixel 7")
    phone.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # asked for by the JSON page only
    phone.goto(f"{stage.url}/healthz")  # the venue's origin, without the phone page's scripts
    phone.evaluate("""([storyId, drawingId, png]) => new Promise((resolve, reject) => {
        localStorage.setItem("stage.name", "Olga from before");
        localStorage.setItem("stage.outbox", JSON.stringify([
          { id: storyId, prompt: "cape", text: "Kept by the old page.", state: "waiting", sources: [] }]));
        const request = indexedDB.open("stage-outbox", 1);
        request.onupgradeneeded = () => request.result.createObjectStore("uploads", { keyPath: "id" });
        request.onsuccess = () => {
          const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
          const tx = request.result.transaction("uploads", "readwrite");
          tx.objectStore("uploads").put({ id: drawingId, kind: "drawing", name: "drawing.png", prompt: "cape",
            sources: [], blob: new Blob([bytes], { type: "image/png" }) });
          tx.oncomplete = () => { request.result.close(); resolve(); };
          tx.onerror = () => reject(tx.error);
        };
        request.onerror = () => reject(request.error);
    })""", [story_id, drawing_id, base64.b64encode(png.getvalue()).decode()])

    phone.goto(f"{stage.url}/")  # the new page: joins with the stored name, carries both over
    expect(phone.locator("#me")).to_have_text("Olga from before")
    expect(phone.locator('.mine-item[data-state="sent"]')).to_have_count(2, timeout=30_000)
    wait_until(lambda: outbox(phone) == [], what="the outbox to empty")
    assert sorted(texts(stage)) == sorted([(story_id, "Kept by the old page."), (drawing_id, None)])
    assert phone.evaluate("localStorage.getItem('stage.outbox')") is None
    assert phone.evaluate("""() => new Promise((resolve) => {
        const request = indexedDB.open("stage-outbox");
        request.onsuccess = () => { resolve([request.result.version, [...request.result.objectStoreNames]]);
                                    request.result.close(); };
    })""") == [2, ["items"]]
    assert pages.errors == []


def test_three_items_made_offline_arrive_exactly_once(stage, pages, peers, tmp_path):
    host = peers.host()
    go(host), go(host)
    phone = pages.phone("iPhone 13")
    join(phone, f"{stage.url}/", "Basement Bea")
    expect(phone.locator("#modes")).to_be_visible()

    phone.context.set_offline(True)
    expect(phone.locator("#conn")).to_have_attribute("data-state", "offline", timeout=30_000)
    phone.fill("#story", "Offline story.")
    phone.click("#send")
    phone.click('#modes button[data-mode="drawing"]')
    draw_a_line(phone)
    phone.click("#drawing-form button[type=submit]")
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (320, 240), (10, 200, 10)).save(photo, "JPEG")
    phone.click('#modes button[data-mode="photo"]')
    phone.set_input_files("#photo-input", str(photo))
    phone.click("#photo-form button[type=submit]")
    expect(phone.locator('.mine-item[data-status="waiting"]')).to_have_count(3)
    assert sorted(item["kind"] for item in outbox(phone)) == ["drawing", "photo", "story"]  # one outbox

    phone.context.set_offline(False)
    expect(phone.locator('.mine-item[data-status="pending"]')).to_have_count(3, timeout=30_000)
    wait_until(lambda: outbox(phone) == [], what="the outbox to empty")  # nothing more will be sent
    assert records(stage) == [("drawing", "pending"), ("photo", "pending"), ("story", "pending")]


def test_a_media_upload_survives_a_reload_before_it_was_sent(stage, pages, peers):
    host = peers.host()
    go(host), go(host)
    phone = pages.phone("Pixel 7")
    join(phone, f"{stage.url}/", "Flaky Fran")
    phone.route("**/api/uploads", lambda route: route.abort("internetdisconnected"))  # the venue Wi-Fi drops uploads
    phone.click('#modes button[data-mode="drawing"]')
    draw_a_line(phone)
    phone.click("#drawing-form button[type=submit]")
    expect(phone.locator('.mine-item[data-status="waiting"]')).to_have_count(1)
    assert records(stage) == []

    phone.unroute("**/api/uploads")
    phone.reload()  # the phone closed the tab and came back: the drawing is still in its outbox
    expect(phone.locator('.mine-item[data-status="pending"]')).to_have_count(1, timeout=30_000)
    wait_until(lambda: outbox(phone) == [], what="the outbox to empty")
    assert records(stage) == [("drawing", "pending")]


def test_mine_names_each_state_in_plain_words(stage, pages, peers, shot):
    """Waiting, sent, approved and not accepted: one state per item, each with its own words and look,
    whatever the server calls it (pending, rejected...)."""
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)
    phone = pages.phone("iPhone 13")
    phone.set_viewport_size({"width": 390, "height": 844})
    link = ServerLink(phone)
    join(phone, f"{stage.url}/", "Stateful Sam")
    for text, decision, state in (("The cape that made the wall.", "approve", "approved"),
                                  ("A cape the host passed over.", "reject", "not-accepted"),
                                  ("A cape still with the host.", None, "sent")):
        phone.fill("#story", text)
        phone.click("#send")
        mine = phone.locator(".mine-item", has_text=text)
        expect(mine).to_have_attribute("data-state", "sent")  # (a Playwright wait: the link's frames move)
        record = moderator.wait_for("queue_add", lambda d, text=text: d["record"]["text"] == text)["record"]
        if decision:
            assert moderator.call("moderate", {"id": record["id"], "decision": decision})["ok"]
        expect(mine).to_have_attribute("data-state", state)  # told by record_status
    expect(phone.locator('.mine-item[data-state="not-accepted"]')).to_have_attribute("data-status", "rejected")
    link.cut()
    expect(phone.locator("#conn")).to_have_attribute("data-state", "offline")
    phone.fill("#story", "A cape written in the lift.")
    phone.click("#send")
    phone.click("#tab-mine")
    items = phone.locator(".mine-item")
    expect(items.locator(".state")).to_have_text(["Waiting to send", "Sent — a moderator reads it next",
                                                  "Not accepted", "On the wall"])
    expect(items.locator(".text")).to_have_text(["A cape written in the lift.", "A cape still with the host.",
                                                 "A cape the host passed over.", "The cape that made the wall."])
    expect(items.first.locator(".hint")).to_have_text("Saved on this phone: it goes as soon as the connection is back.")
    shot(phone, "phone-mine-states-390x844")
    phone.set_viewport_size({"width": 1920, "height": 1080})
    phone.screenshot(path=str(ARTIFACTS / "audience-mine-states-1920x1080.png"), scale="css", animations="disabled")

    link.restore()
    expect(items.first).to_have_attribute("data-state", "sent", timeout=30_000)
    assert pages.errors == []
