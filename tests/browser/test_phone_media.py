"""Drawings, photos and clips from an emulated phone to moderation, the wall and other phones."""

from __future__ import annotations

import subprocess

import numpy as np
from PIL import Image
from playwright.sync_api import expect

from tests.browser.phone import join, draw_a_line
from tests.peers import go






def test_drawing_photo_and_clip_reach_the_wall_only_after_approval(stage, pages, peers, tmp_path, shot):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host), go(host)  # join, prompt open, wall
    display = pages.desktop("display", 1280, 720)
    display.goto(stage.display_url("main"))
    ada, bo = pages.phone("Pixel 7"), pages.phone("iPhone 13")
    join(ada, f"{stage.url}/", "Ada")
    join(bo, f"{stage.url}/", "Bo")

    ada.click('#modes button[data-mode="drawing"]')
    ada.click('.swatch[aria-label="Red"]')
    draw_a_line(ada)
    draw_a_line(ada)
    ada.click("#undo")  # one line left
    ada.click("#drawing-form button[type=submit]")
    drawing = moderator.wait_for("queue_add", lambda d: d["record"]["kind"] == "drawing")["record"]
    stored = Image.open(stage.data_dir / "media" / drawing["media"].removeprefix("/media/")).convert("RGB")
    pixels = np.asarray(stored)
    reds = int(((pixels[..., 0] > 200) & (pixels[..., 1] < 100) & (pixels[..., 2] < 100)).sum())
    assert 0 < reds < stored.width * stored.height // 4, "one red line, the undone one gone"

    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (400, 300), (30, 120, 200)).save(photo, "JPEG")
    ada.click('#modes button[data-mode="photo"]')
    ada.set_input_files("#photo-input", str(photo))
    expect(ada.locator("#photo-preview")).to_be_visible()
    ada.click("#photo-form button[type=submit]")
    picture = moderator.wait_for("queue_add", lambda d: d["record"]["kind"] == "photo")["record"]

    clip = tmp_path / "clip.webm"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1",
                    "-c:v", "libvpx-vp9", str(clip)], check=True, timeout=60)
    ada.click('#modes button[data-mode="clip"]')
    ada.set_input_files("#clip-input", str(clip))
    ada.click("#clip-form button[type=submit]")
    film = moderator.wait_for("queue_add", lambda d: d["record"]["kind"] == "clip")["record"]
    assert film["mime"] == "video/mp4"

    expect(display.locator("#wall .record-media")).to_have_count(0)  # nothing before approval
    for record in (drawing, picture, film):
        moderator.call("moderate", {"id": record["id"], "decision": "approve"})
    expect(display.locator("#wall img.record-media")).to_have_count(2)
    expect(display.locator("#wall video.record-media")).to_have_count(1)
    display.wait_for_function("() => [...document.querySelectorAll('#wall img')].every((i) => i.naturalWidth > 0)")
    shot(display, "display-wall-media")

    bo.click("#tab-wall")
    expect(bo.locator("#feed img.record-media")).to_have_count(2)
    expect(bo.locator("#feed video.record-media")).to_have_count(1)
    ada.click("#tab-mine")
    expect(ada.locator('.mine-item[data-status="approved"]')).to_have_count(3)
    assert pages.errors == []


def test_illustrate_a_story_makes_a_drawing_whose_source_is_the_story(stage, pages, peers):
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)
    writer = peers.phone("Writer")
    story_id = "6f1a2c3e-0000-4000-8000-000000000001"
    writer.call("submit_story", {"id": story_id, "prompt": "cape", "text": "A cape made of rain."})
    moderator.call("moderate", {"id": story_id, "decision": "approve"})
    artist = pages.phone()
    join(artist, f"{stage.url}/", "Artist")
    artist.click("#tab-wall")
    artist.locator(f'#feed li[data-id="{story_id}"] .illustrate').click()
    expect(artist.locator("#drawing-form")).to_be_visible()
    expect(artist.locator("#remixing")).to_contain_text("by Writer")
    draw_a_line(artist)
    artist.click("#drawing-form button[type=submit]")
    drawing = moderator.wait_for("queue_add", lambda d: d["record"]["kind"] == "drawing")["record"]
    assert drawing["sources"] == [story_id]
    assert drawing["remix_of"] == [{"id": story_id, "kind": "story", "author": "Writer"}]


def test_a_busy_upload_stays_in_the_outbox_and_is_sent_again(stage, pages, peers, tmp_path):
    """The server refuses a phone's third upload in flight with 429 busy: the phone retries it later,
    it never marks it refused (that would drop a photo the audience member took)."""
    import json

    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)  # join, prompt open
    ada = pages.phone()
    join(ada, f"{stage.url}/", "Ada")
    answered_busy: list[str] = []

    def busy_once(route) -> None:
        if answered_busy:
            route.continue_()
            return
        answered_busy.append(route.request.url)
        route.fulfill(status=429, content_type="application/json", body=json.dumps(
            {"ok": False, "error": {"code": "busy", "message": "2 uploads are still on their way; wait for one"}}))

    ada.route("**/api/uploads", busy_once)
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (400, 300), (30, 120, 200)).save(photo, "JPEG")
    ada.click('#modes button[data-mode="photo"]')
    ada.set_input_files("#photo-input", str(photo))
    ada.click("#photo-form button[type=submit]")
    ada.click("#tab-mine")
    expect(ada.locator('.mine-item[data-status="pending"]')).to_have_count(1, timeout=20_000)  # sent again
    assert len(answered_busy) == 1
    assert moderator.wait_for("queue_add", lambda d: d["record"]["kind"] == "photo")["record"]["mime"] == "image/jpeg"
    expect(ada.locator('.mine-item[data-status="refused"]')).to_have_count(0)


BLOCKED_INDEXEDDB = """Object.defineProperty(window, "indexedDB", { get() { return { open() {
  throw new DOMException("The user denied permission to access the database.", "SecurityError"); } }; } });"""


def test_a_photo_from_a_page_whose_indexeddb_is_blocked_still_arrives(stage, pages, peers, tmp_path, shot):
    """Private browsing or blocked storage: the outbox cannot keep the photo, so the page keeps it in
    memory, says it is lost if the page closes, and still sends it (it used to be dropped in silence)."""
    host, moderator = peers.host(), peers.moderation()
    go(host), go(host)  # join, prompt open
    ada = pages.phone()
    ada.add_init_script(BLOCKED_INDEXEDDB)
    join(ada, f"{stage.url}/", "Ada")
    assert ada.evaluate("(() => { try { indexedDB.open('x'); return 'opened'; } catch (e) { return e.name; } })()") \
        == "SecurityError"  # the block is in place
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (400, 300), (200, 120, 30)).save(photo, "JPEG")
    ada.click('#modes button[data-mode="photo"]')
    ada.set_input_files("#photo-input", str(photo))
    ada.click("#photo-form button[type=submit]")
    expect(ada.locator("#media-error")).to_contain_text("keep this page open until it is sent")
    queued = moderator.wait_for("queue_add", lambda d: d["record"]["kind"] == "photo")["record"]
    assert queued["mime"] == "image/jpeg" and queued["author"] == "Ada"
    ada.click("#tab-mine")
    expect(ada.locator('.mine-item[data-status="pending"]')).to_have_count(1)
    expect(ada.locator("#media-error")).to_be_hidden()  # sent: nothing is left only in memory
    shot(ada, "phone-photo-without-indexeddb")
    assert pages.errors == []
