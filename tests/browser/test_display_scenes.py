"""Every scene on a 1080p and a 720p projector: screenshots, type the back row reads, axe, recovery, kiosk
(both projector sizes side by side, the frame measurements and axe are in tests/browser/projector.py)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.projector import MEASURE, Projectors, clip_file, cue, drawing, fits, story, upload
from tests.conftest import PeerFactory
from tests.peers import Peer
from tests.stage_process import CREW_PASSWORD, REPO, StageProcess
from tests.waiting import wait_until

SHOW = Path(__file__).resolve().parents[1] / "shows" / "scenes.yaml"
LONG = ("Once upon a cape " * 200)[:2000].strip()
RTL = "הגלימה עפה הביתה לבד 🦸‍♀️ الرداء طار"

@pytest.fixture
def scenes(tmp_path):
    server = StageProcess(SHOW, tmp_path / "data").start()
    peers = PeerFactory(server)
    host = peers.host()
    host.call("jump", {"cue": "open"})
    host.call("go")
    yield server, peers, host
    server.stop()
    peers.close_all()


def test_every_scene_reads_from_the_back_row_at_1080p_and_720p_and_comes_back_after_a_reload(scenes, pages, shot,
                                                                                             tmp_path):
    server, peers, host = scenes
    screens = Projectors(pages, server.display_url("main"))
    ada, bo = peers.phone("Ada"), peers.phone("Bo")

    long_id = story(ada, LONG)
    rtl_id = story(bo, RTL)
    bo.call("recommend", {"id": rtl_id})
    picture = upload(server, bo, "drawing", drawing(), "drawing.png", [rtl_id])
    film = upload(server, ada, "clip", clip_file(tmp_path / "clip.mp4").read_bytes(), "clip.mp4")

    cue(host, "join")
    for e in screens.expect("#scene-join"):
        e.to_be_visible()
    screens.each(lambda p: p.wait_for_function("() => document.getElementById('join-qr').naturalWidth > 0"))
    for e in screens.expect("#join-text .url"):
        e.to_have_text(server.url + "/")
    for e in screens.expect("#join-count"):
        e.to_have_text("2 phones joined")
    screens.shoot(shot, "join")
    screens.check("join")

    cue(host, "wall")
    for e in screens.expect("#wall li"):
        e.to_have_count(4)
    for e in screens.expect("#scene-join"):
        e.to_be_hidden()  # after the 0.3 s crossfade
    screens.shoot(shot, "wall-4")
    assert all(f["cover"] > 0.7 for f in screens.check("wall")), "four cards fill the frame"

    cue(host, "board")
    for e in screens.expect("#leaderboard li:first-child .text"):
        e.to_have_text(RTL)
    screens.shoot(shot, "leaderboard")
    screens.check("leaderboard")

    cue(host, "message")
    for e in screens.expect("#message"):
        e.to_have_text("Back in five minutes")
    screens.shoot(shot, "message")
    screens.check("message")

    host.call("send_to_display", {"display": "main", "record": long_id})
    for e in screens.expect("#story-text"):
        e.to_have_text(LONG)
    # 2,000 characters do not fit any screen at a size the back row reads: they roll slowly instead.
    for e in screens.expect("#story-roll"):
        e.to_have_class("story-roll rolling")
    screens.shoot(shot, "story-long")
    screens.check("story-long", inside=False)
    host.call("send_to_display", {"display": "main", "record": rtl_id})
    for e in screens.expect("#story-text"):
        e.to_have_text(RTL)
    screens.each(lambda p: wait_until(lambda: fits(p, "#story-box"), what="a short story to fit the screen"))
    for page in screens.pages:
        assert page.evaluate("getComputedStyle(document.getElementById('story-text')).direction") == "rtl"
        assert page.evaluate("parseFloat(getComputedStyle(document.getElementById('story-text')).fontSize)") > \
            0.1 * page.viewport_size["height"], "a short story is shown large"
    screens.shoot(shot, "story-rtl")
    screens.check("story-rtl")

    host.call("send_to_display", {"display": "main", "record": picture})
    for e in screens.expect("#image-caption"):
        e.to_have_text(RTL)
    for e in screens.expect("#image-credit"):
        e.to_have_text("Drawn by Bo for a story by Bo")
    screens.each(lambda p: p.wait_for_function("() => document.getElementById('image').naturalWidth > 0"))
    screens.shoot(shot, "image")
    screens.check("image")

    host.call("send_to_display", {"display": "main", "record": film})
    for e in screens.expect("#media-box video"):
        e.to_have_count(1)
    # A function, never a bare expression: Playwright evals an expression again on every poll, which the
    # page's CSP refuses once the first (devtools) evaluation has passed; a function is evaled once.
    screens.each(lambda p: p.wait_for_function("() => document.querySelector('#media-box video').currentTime > 0"))
    for e in screens.expect("#media-credit"):
        e.to_have_text(re.compile("(filmed by|a clip by) Ada", re.I))
    screens.shoot(shot, "media")
    screens.check("media")

    screens.pages[0].reload()  # the projector PC's browser reloads mid-show: the same scene comes back
    expect(screens.pages[0].locator("#media-box video")).to_have_count(1)
    expect(screens.pages[0].locator("#scene-media")).to_be_visible()
    cue(host, "blank")
    for e in screens.expect("#scene-blank"):
        e.to_be_visible()
    screens.shoot(shot, "blank")
    screens.check("blank")
    assert pages.errors == []


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 360), colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def test_live_camera_preview_and_the_credits_roll(scenes, pages, shot):
    server, peers, host = scenes
    screens = Projectors(pages, server.display_url("main"))
    display = screens.pages[0]
    # a capture agent as the server sees one: a real Socket.IO peer on /capture with the crew token
    agent = Peer(server.url, "/capture", auth={"token": CREW_PASSWORD, "rig": "stage"})
    peers.opened.append(agent)
    agent.call("preview", {"jpeg": jpeg((255, 0, 0))})  # not in the live scene: the display gets nothing

    cue(host, "live")
    expect(display.locator("#live-wait")).to_be_visible()
    assert display.evaluate("document.getElementById('live').naturalWidth") == 0
    screens.shoot(shot, "live-waiting")
    screens.check("live-waiting")
    for colour in ((30, 200, 90), (30, 90, 200)):
        assert agent.call("preview", {"jpeg": jpeg(colour)})["ok"]
    last_frame = time.monotonic()
    for e in screens.expect("#live-wait"):
        e.to_be_hidden()
    screens.each(lambda p: p.wait_for_function("() => document.getElementById('live').naturalWidth === 640"))
    screens.shoot(shot, "live")
    screens.check("live")
    pixel = Image.open(io.BytesIO(display.screenshot())).convert("RGB").getpixel((960, 540))
    assert abs(pixel[0] - 30) < 30 and abs(pixel[1] - 90) < 30 and pixel[2] > 160, pixel  # the newest frame
    assert "stage" not in display.locator("#live").get_attribute("alt"), "no rig name, even for a screen reader"
    expect(display.locator("#live-wait")).to_be_visible(timeout=10_000)  # no frame for 3 s: the room is told
    assert time.monotonic() - last_frame > 2.5, "told only once frames stopped coming, not at once"

    ada, bo = peers.phone("Ada"), peers.phone("Bo")
    written = story(ada, "The cape flew home alone.")
    upload(server, bo, "drawing", drawing(size=(300, 200)), "d.png", [written])
    story(bo, "A second cape, a second story.")
    cue(host, "credits")
    expect(display.locator("#credits li")).to_have_count(2)
    rows = display.locator("#credits li").all_inner_texts()
    assert any("Ada" in r and "writer" in r for r in rows) and any("Bo" in r and "illustrator" in r for r in rows), rows
    # the roll moves
    top = display.locator("#credits-roll").bounding_box()["y"]
    wait_until(lambda: display.locator("#credits-roll").bounding_box()["y"] < top - 20, what="the roll to move up")
    # mid-roll: the names are in the middle of the screen when the picture is taken
    for page in screens.pages:
        middle = page.viewport_size["height"] / 2
        wait_until(lambda: page.locator("#credits").bounding_box()["y"] < middle, timeout=30,
                   what="the names mid-screen")
    screens.shoot(shot, "credits", moving=True)
    screens.check("credits", inside=False)  # a roll: its start and end are off screen by design
    assert pages.errors == []


def test_a_withdrawn_record_leaves_a_showing_display_and_a_missing_file_is_reported(scenes, pages):
    server, peers, host = scenes
    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("main"))
    ada = peers.phone("Ada")
    png = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 10, 200)).save(png, "PNG")
    picture = upload(server, ada, "drawing", png.getvalue(), "d.png")
    host.call("send_to_display", {"display": "main", "record": picture})
    expect(display.locator("#image")).to_be_visible()
    ada.call("withdraw", {"id": picture})
    expect(display.locator("#image")).to_be_hidden()  # the record left the screen at once

    other = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 10, 10)).save(other, "PNG")
    gone = upload(server, ada, "drawing", other.getvalue(), "e.png")
    for path in (server.data_dir / "media").glob("*.png"):
        path.unlink()
    host.call("send_to_display", {"display": "main", "record": gone})
    problem = host.wait_for("display_problem")
    assert problem["display"] == "main" and "could not be shown" in problem["message"]
    expect(display.locator("#image")).to_be_hidden()


def test_a_hundred_records_in_a_second_keep_the_wall_bounded_and_the_newest_come_first(scenes, pages):
    server, peers, host = scenes
    cue(host, "wall")
    display = pages.desktop("display", 1920, 1080)
    display.goto(server.display_url("main"))
    watcher = peers.display()  # in the display's room: hears every wall_add, in the order the page does
    phones = [peers.phone(f"P{i}") for i in range(20)]
    for i in range(100):
        phones[i % 20].client.emit("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": f"Story {i}"},
                                   namespace="/audience")
    added = [watcher.wait_for("wall_add", timeout=30)["record"]["id"] for _ in range(100)]
    # The page has handled all hundred once it holds them (one socket delivers in order) ...
    expect(display.locator("#wall")).to_have_attribute("data-records", "100", timeout=15_000)
    # ... and at its next page turn (every 12 s) the newest head the wall; only one page is ever in the DOM.
    expect(display.locator("#wall li").first).to_have_attribute("data-id", added[-1], timeout=20_000)
    assert display.locator("#wall li").count() == 6, "old cards leave the DOM"
    wait_until(lambda: display.evaluate(MEASURE)["overflowing"] == [], what="the cards to fit their words")


def test_the_kiosk_command_opens_the_served_display(scenes):
    server, _, _ = scenes
    out = subprocess.run([sys.executable, "-m", "stage", "display", "main", str(SHOW), "--data", str(server.data_dir),
                          "--public-url", server.url], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--kiosk" in out.stdout
    assert "--autoplay-policy=no-user-gesture-required" in out.stdout
    url = out.stdout.strip().split("'")[1]
    assert url == server.display_url("main")
