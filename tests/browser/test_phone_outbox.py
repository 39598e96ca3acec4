"""A phone that loses Wi-Fi keeps its story in the outbox and sends it once, when it is back."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect

from tests.browser.phone import draw_a_line, join
from tests.peers import go


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
    assert phone.evaluate("localStorage.getItem('stage.outbox')") == "[]"




def records(stage) -> list[tuple[str, str]]:
    with sqlite3.connect(stage.data_dir / "stage.db") as db:
        return db.execute("SELECT kind, status FROM records ORDER BY kind").fetchall()


def test_three_items_made_offline_arrive_exactly_once(stage, pages, peers, tmp_path):
    from PIL import Image

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

    phone.context.set_offline(False)
    expect(phone.locator('.mine-item[data-status="pending"]')).to_have_count(3, timeout=30_000)
    phone.wait_for_timeout(1500)  # retries that were in flight have landed by now
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
    phone.wait_for_timeout(1000)
    assert records(stage) == [("drawing", "pending")]
    assert phone.evaluate("""new Promise((resolve) => {
        const request = indexedDB.open("stage-outbox");
        request.onsuccess = () => {
            const read = request.result.transaction("uploads").objectStore("uploads").count();
            read.onsuccess = () => resolve(read.result);
        };
    })""") == 0
